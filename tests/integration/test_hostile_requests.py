"""Hostile and malformed requests get a clean 4xx at the gate: no 5xx, no turn, no trace."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest

from bot.devtools.connector_standin import LocalConnector
from bot.techcheck_page.routes import MAX_RESULT_BYTES
from tests.support.http_bot import BOT_ID, RunningBot, TeamsClient
from tests.support.raw_http import activity_body, assert_clean_error, send_raw
from tests.support.techcheck import GOOD_RESULT, reach_tech_result


@pytest.fixture
def quiet_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything logged while a test runs; at its end, nothing at ERROR and no trace."""
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_trace(caplog: pytest.LogCaptureFixture) -> None:
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    traced = [record for record in caplog.records if record.exc_info]
    assert errors == [], [record.getMessage()[:200] for record in errors]
    assert traced == [], [record.getMessage()[:200] for record in traced]


@pytest.fixture
async def techcheck_token(client: TeamsClient) -> str:
    return await reach_tech_result(client)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


#: hostile values, put into an otherwise valid activity (so only the value can be the reason)
HOSTILE_JSON = [
    pytest.param(nested(1_000), id="nested-1000"),
    pytest.param(nested(100_000), id="nested-100000"),
    pytest.param(nested(65), id="nested-65"),
    pytest.param(b"7" * 4_301, id="int-4301-digits"),
    pytest.param(b"7" * 1_000, id="int-1000-digits"),
    pytest.param(b"1e" + b"9" * 400, id="float-400-digits"),
    pytest.param(b"NaN", id="nan"),
    pytest.param(b"1e999", id="float-overflow"),
    pytest.param(b"-Infinity", id="infinity"),
]


def with_value(body: dict[str, Any], value: bytes) -> bytes:
    """``body`` as JSON with ``"x": value`` added as raw JSON text."""
    text = json.dumps(body).encode()
    return text[:-1] + b', "x": ' + value + b"}"


@pytest.mark.parametrize("value", HOSTILE_JSON)
async def test_hostile_json_at_the_messages_endpoint_is_400(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    client: TeamsClient,
    connector: LocalConnector,
    quiet_log: pytest.LogCaptureFixture,
    value: bytes,
) -> None:
    body = client.activity("conversationUpdate", membersAdded=[{"id": BOT_ID}])
    data = with_value(body, value)
    if len(data) > 256 * 1024:
        data = with_value({"type": "message"}, value)  # the size limit would come first
    assert_clean_error(await send_raw(http, bot, data), 400)
    assert connector.calls == []
    assert_no_trace(quiet_log)


@pytest.mark.parametrize("value", HOSTILE_JSON)
async def test_hostile_json_at_the_techcheck_result_endpoint_is_400(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    quiet_log: pytest.LogCaptureFixture,
    value: bytes,
    techcheck_token: str,
) -> None:
    data = with_value(GOOD_RESULT, value)
    async with http.post(
        bot.url("/techcheck/api/result"),
        data=data,
        headers={"Content-Type": "application/json", "X-Techcheck-Token": techcheck_token},
    ) as response:
        text = await response.text()
        if len(data) > MAX_RESULT_BYTES:
            assert response.status == 413, text  # the endpoint's own, smaller limit
        else:
            assert response.status == 400, text
        assert "error" in json.loads(text)
    assert_no_trace(quiet_log)


async def test_nesting_up_to_64_levels_is_fine(
    http: aiohttp.ClientSession, bot: RunningBot, client: TeamsClient
) -> None:
    """The positive control: the limit is a depth, not a refusal of nested values."""
    body = client.activity("conversationUpdate", membersAdded=[{"id": BOT_ID}])
    deep: Any = []
    for _ in range(60):
        deep = [deep]
    body["channelData"]["deep"] = deep
    answer = await send_raw(http, bot, json.dumps(body))
    assert answer.status == 201, answer.text


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"channelId": None}, id="no-channel-id"),
        pytest.param({"channelId": ""}, id="empty-channel-id"),
        pytest.param({"channelId": 7}, id="channel-id-number"),
        pytest.param({"id": 12345}, id="id-number"),
        pytest.param({"id": "\ud800"}, id="id-lone-surrogate"),
        pytest.param({"text": "Hallo \udfff"}, id="text-lone-surrogate"),
        pytest.param({"from": {"id": "29:x", "name": "\ud83d"}}, id="name-lone-surrogate"),
        pytest.param({"from": {"name": "no id"}}, id="from-without-id"),
        pytest.param({"recipient": "28:bot"}, id="recipient-not-object"),
        pytest.param({"conversation": {"id": 42}}, id="conversation-id-number"),
        pytest.param({"membersAdded": "28:bot"}, id="members-added-string"),
        pytest.param({"membersAdded": ["28:bot"]}, id="members-added-strings"),
        pytest.param({"membersAdded": [{"name": "no id"}]}, id="members-added-no-id"),
        pytest.param({"membersAdded": [None]}, id="members-added-null-member"),
        pytest.param({"membersRemoved": {"id": "x"}}, id="members-removed-object"),
        pytest.param({"attachments": "x"}, id="attachments-string"),
        pytest.param({"attachments": [{"contentUrl": "http://x/"}]}, id="attachment-no-type"),
        pytest.param({"entities": [7]}, id="entities-number"),
        pytest.param({"channelData": []}, id="channel-data-list"),
        pytest.param({"channelData": {"tenant": "t"}}, id="tenant-string"),
        pytest.param({"locale": ["de"]}, id="locale-list"),
        pytest.param({"text": {"x": 1}}, id="text-object"),
        pytest.param({"deliveryMode": "expectReplies"}, id="expect-replies"),
        pytest.param({"id": "a/b"}, id="id-with-slash"),
        pytest.param({"id": "x\ny"}, id="id-with-newline"),
        pytest.param({"conversation": {"id": "a:1\r\nX-Injected: 1"}}, id="conversation-crlf"),
        pytest.param({"conversation": {"id": "<at>x</at>"}}, id="conversation-markup"),
        pytest.param({"from": {"id": "29:a b"}}, id="from-id-space"),
        pytest.param({"replyToId": "../../x"}, id="reply-to-traversal"),
        pytest.param({"type": "message", "from": None}, id="message-from-nobody"),
    ],
)
async def test_activities_with_a_malformed_field_are_400_before_any_turn(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    client: TeamsClient,
    connector: LocalConnector,
    quiet_log: pytest.LogCaptureFixture,
    change: dict[str, Any],
) -> None:
    body = activity_body(client, type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    body.update(change)
    body = {name: value for name, value in body.items() if value is not None}
    # ensure_ascii keeps lone surrogates as JSON escapes, as an attacker would send them
    answer = await send_raw(http, bot, json.dumps(body, ensure_ascii=True))
    assert_clean_error(answer, 400)
    assert connector.calls == []
    assert_no_trace(quiet_log)


def card_invoke(client: TeamsClient, value: Any) -> dict[str, Any]:
    return client.activity("invoke", name="adaptiveCard/action", value=value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="value-null"),
        pytest.param("schedule", id="value-string"),
        pytest.param(["schedule"], id="value-list"),
        pytest.param({}, id="value-empty"),
        pytest.param({"action": "schedule"}, id="action-string"),
        pytest.param({"action": ["x"]}, id="action-list"),
        pytest.param({"action": {"type": "Action.Submit", "data": {}}}, id="action-submit"),
        pytest.param({"action": {"type": "Action.Execute"}}, id="execute-without-verb"),
        pytest.param({"action": {"type": "Action.Execute", "verb": 7}}, id="verb-number"),
        pytest.param(
            {"action": {"type": "Action.Execute", "verb": "close", "data": "x"}}, id="data-string"
        ),
    ],
)
async def test_malformed_card_actions_are_400_with_a_problem_body(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    client: TeamsClient,
    connector: LocalConnector,
    quiet_log: pytest.LogCaptureFixture,
    value: Any,
) -> None:
    body = card_invoke(client, value)
    if value is None:
        del body["value"]
    assert_clean_error(await send_raw(http, bot, json.dumps(body)), 400)
    assert connector.calls == []
    assert_no_trace(quiet_log)


@pytest.mark.parametrize(
    "name",
    [
        "task/fetch",
        "task/submit",
        "composeExtension/query",
        "composeExtension/submitAction",
        "signin/verifyState",
        "signin/tokenExchange",
        "fileConsent/invoke",
        "healthCheck",
        "",
    ],
)
async def test_invokes_the_bot_does_not_implement_get_a_clean_400(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    client: TeamsClient,
    connector: LocalConnector,
    quiet_log: pytest.LogCaptureFixture,
    name: str,
) -> None:
    body = client.activity("invoke", name=name, value={"commandId": "x"})
    answer = await send_raw(http, bot, json.dumps(body))
    assert_clean_error(answer, 400)
    assert "not supported" in answer.json()["error"]
    assert connector.calls == []
    assert_no_trace(quiet_log)


async def test_a_well_formed_card_action_from_a_client_is_refused_politely(
    http: aiohttp.ClientSession, bot: RunningBot, client: TeamsClient
) -> None:
    """The positive control: the gate lets a real Universal Action through to the bot."""
    value = {"action": {"type": "Action.Execute", "verb": "close", "data": {"handoff": "h-1"}}}
    answer = await send_raw(http, bot, json.dumps(card_invoke(client, value)))
    assert answer.status == 200, answer.text
    card = answer.json()["value"]
    assert card["type"] == "AdaptiveCard"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, identity", "x-fuzz"])
async def test_an_encoded_body_is_refused_unread(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    client: TeamsClient,
    connector: LocalConnector,
    quiet_log: pytest.LogCaptureFixture,
    encoding: str,
) -> None:
    """Channels send plain JSON; a body that claims (or really has) another encoding is 415
    before aiohttp would try to unpack it (a plain body "gzip"-labelled used to be a 500)."""
    data = json.dumps(activity_body(client))
    answer = await send_raw(http, bot, data, headers={"Content-Encoding": encoding})
    assert_clean_error(answer, 415)
    assert connector.calls == []
    assert_no_trace(quiet_log)


async def test_a_huge_typed_answer_is_not_understood_without_being_parsed(
    client: TeamsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 KB of "1 1 1 …" at a choice question held the event loop for minutes inside the
    SDK's recognisers; it is not understood, and the recognisers never see it."""
    from botbuilder.dialogs.choices import ChoiceRecognizers

    recognised: list[int] = []
    real = ChoiceRecognizers.recognize_choices

    def watched(utterance: str, *args: Any, **kwargs: Any) -> Any:
        recognised.append(len(utterance))
        return real(utterance, *args, **kwargs)

    monkeypatch.setattr(ChoiceRecognizers, "recognize_choices", staticmethod(watched))
    await client.install()
    replies = await client.say("1 " * 100_000)
    assert client.said("Das haben wir leider nicht verstanden.", replies)
    assert all(length <= 500 for length in recognised)
    assert client.said("Wie möchten Sie mit uns sprechen?", await client.click("Ausbildung"))
