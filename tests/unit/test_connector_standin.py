"""LocalConnector: real HTTP against the loopback Bot Connector stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException

from bot.devtools.connector_standin import LocalConnector

CONVERSATION = "a:local-test"


@pytest.fixture
async def connector() -> AsyncIterator[LocalConnector]:
    async with LocalConnector() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def url(connector: LocalConnector, path: str) -> str:
    return connector.service_url + path


async def post(
    http: aiohttp.ClientSession, target: str, body: Any, method: str = "POST"
) -> tuple[int, Any]:
    async with http.request(method, target, json=body) as response:
        return response.status, await response.json(content_type=None)


async def test_service_url_is_loopback_with_trailing_slash(connector: LocalConnector) -> None:
    assert connector.service_url.startswith("http://127.0.0.1:")
    assert connector.service_url.endswith("/")
    assert int(connector.service_url.rstrip("/").rpartition(":")[2]) > 0


async def test_start_twice_and_service_url_after_stop() -> None:
    connector = LocalConnector()
    service_url = await connector.start()
    assert connector.service_url == service_url
    with pytest.raises(RuntimeError):
        await connector.start()
    await connector.stop()
    with pytest.raises(RuntimeError):
        _ = connector.service_url
    await connector.stop()  # stopping twice is harmless


async def test_records_send_reply_update_delete(
    connector: LocalConnector, http: aiohttp.ClientSession
) -> None:
    base = url(connector, f"v3/conversations/{CONVERSATION}/activities")

    status, sent = await post(http, base, {"type": "message", "text": "eins"})
    assert status == 200
    status, replied = await post(http, f"{base}/incoming-1", {"type": "message", "text": "zwei"})
    assert status == 200
    assert sent["id"] != replied["id"]

    status, updated = await post(
        http, f"{base}/{sent['id']}", {"type": "message", "text": "eins*"}, method="PUT"
    )
    assert (status, updated) == (200, {"id": sent["id"]})
    async with http.delete(f"{base}/{replied['id']}") as response:
        assert response.status == 200

    assert [call.kind for call in connector.calls] == ["send", "reply", "update", "delete"]
    send, reply, update, delete = connector.calls
    assert (send.method, send.path) == ("POST", f"/v3/conversations/{CONVERSATION}/activities")
    assert (send.conversation_id, send.activity_id, send.reply_to_id) == (
        CONVERSATION,
        sent["id"],
        None,
    )
    assert (reply.activity_id, reply.reply_to_id) == (replied["id"], "incoming-1")
    assert (update.method, update.activity_id) == ("PUT", sent["id"])
    assert (delete.method, delete.activity_id, delete.body) == ("DELETE", replied["id"], None)
    assert send.headers["content-type"].startswith("application/json")
    assert "authorization" not in send.headers

    assert [a["text"] for a in connector.activities()] == ["eins", "zwei"]
    assert connector.activities("a:other") == []
    assert connector.updates() == [{"type": "message", "text": "eins*"}]

    connector.clear()
    assert connector.calls == []
    assert connector.activities() == []


async def test_records_authorization_header(
    connector: LocalConnector, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        url(connector, f"v3/conversations/{CONVERSATION}/activities"),
        json={"type": "typing"},
        headers={"Authorization": "Bearer anonymous"},
    ) as response:
        assert response.status == 200
    assert connector.calls[0].headers["authorization"] == "Bearer anonymous"


@pytest.mark.parametrize(
    ("data", "content_type", "message_part"),
    [
        (b"not json", "application/json", "not valid JSON"),
        (b'{"type": "message"}', "text/plain", "Content-Type"),
        (b"[1, 2]", "application/json", "JSON object"),
        (b'{"text": "ohne Typ"}', "application/json", "'type'"),
        (b'{"type": ""}', "application/json", "'type'"),
    ],
)
async def test_rejects_invalid_activities(
    connector: LocalConnector,
    http: aiohttp.ClientSession,
    data: bytes,
    content_type: str,
    message_part: str,
) -> None:
    async with http.post(
        url(connector, f"v3/conversations/{CONVERSATION}/activities/x"),
        data=data,
        headers={"Content-Type": content_type},
    ) as response:
        assert response.status == 400
        body = await response.json()
    assert body["error"]["code"] == "BadArgument"
    assert message_part in body["error"]["message"]
    assert connector.calls == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "api/messages"),
        ("GET", "v3/conversations/a:1/activities"),
        ("POST", "v3/conversations/a:1/activities/x/extra"),
        ("POST", "v3/conversations//activities"),
        ("PATCH", "v3/conversations/a:1/activities/x"),
        ("GET", "v3/conversations"),
    ],
)
async def test_unknown_routes_are_404(
    connector: LocalConnector, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    async with http.request(method, url(connector, path), json={"type": "message"}) as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "NotFound"
    assert connector.calls == []


async def test_members(connector: LocalConnector, http: aiohttp.ClientSession) -> None:
    member = {"id": "29:user", "name": "Test Kundin", "aadObjectId": "0000-aad", "tenantId": "t"}
    connector.add_member(CONVERSATION, member)
    members = url(connector, f"v3/conversations/{CONVERSATION}/members")

    for key in ("29:user", "0000-aad"):
        async with http.get(f"{members}/{key}") as response:
            assert response.status == 200
            assert await response.json() == member
    async with http.get(f"{members}/29:unknown") as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "MemberNotFound"
    async with http.get(members) as response:
        assert await response.json() == [member]
    assert [call.kind for call in connector.calls] == ["get_member", "get_member", "list_members"]
    with pytest.raises(ValueError, match="id"):
        connector.add_member(CONVERSATION, {"name": "ohne id"})


async def test_create_conversation(connector: LocalConnector, http: aiohttp.ClientSession) -> None:
    parameters = {"isGroup": False, "members": [{"id": "29:user"}], "tenantId": "t"}
    status, first = await post(http, url(connector, "v3/conversations"), parameters)
    assert status == 200
    assert set(first) == {"id"}
    status, second = await post(
        http,
        url(connector, "v3/conversations"),
        {**parameters, "activity": {"type": "message", "text": "Erinnerung"}},
    )
    assert status == 200
    assert second["id"] != first["id"]
    assert second["activityId"]
    assert connector.activities(second["id"]) == [{"type": "message", "text": "Erinnerung"}]
    assert connector.calls[0].kind == "create_conversation"
    assert connector.calls[0].conversation_id == first["id"]

    status, body = await post(http, url(connector, "v3/conversations"), {"activity": {}})
    assert (status, body["error"]["code"]) == (400, "BadArgument")


async def test_wait_for_activities(connector: LocalConnector, http: aiohttp.ClientSession) -> None:
    waiter = asyncio.create_task(connector.wait_for_activities(2, CONVERSATION))
    await post(http, url(connector, "v3/conversations/a:other/activities"), {"type": "message"})
    for number in range(3):
        await post(
            http,
            url(connector, f"v3/conversations/{CONVERSATION}/activities"),
            {"type": "message", "text": str(number)},
        )
    assert [a["text"] for a in await waiter] == ["0", "1"]
    # Already there: returns at once.
    assert len(await connector.wait_for_activities(4)) == 4


async def test_wait_for_activities_timeout_lists_arrivals_without_text(
    connector: LocalConnector, http: aiohttp.ClientSession
) -> None:
    await post(
        http,
        url(connector, f"v3/conversations/{CONVERSATION}/activities"),
        {"type": "message", "id": "m1", "text": "vertraulich"},
    )
    with pytest.raises(TimeoutError) as caught:
        await connector.wait_for_activities(2, timeout=0.05)
    message = str(caught.value)
    assert "expected 2 activities" in message
    assert "got 1" in message
    assert "message id='m1'" in message
    assert "vertraulich" not in message


async def test_fail_next(connector: LocalConnector, http: aiohttp.ClientSession) -> None:
    target = url(connector, f"v3/conversations/{CONVERSATION}/activities")
    connector.fail_next(
        status=403,
        body={"error": {"code": "BotNotInConversationRoster", "message": "blocked"}},
        count=2,
    )
    for _ in range(2):
        status, body = await post(http, target, {"type": "message"})
        assert status == 403
        assert body["error"]["code"] == "BotNotInConversationRoster"
    status, _ = await post(http, target, {"type": "message"})
    assert status == 200

    connector.fail_next(status=429, headers={"Retry-After": "1"})
    async with http.post(target, json={"type": "message"}) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert (await response.json())["error"]["code"] == "HTTP429"
    assert [call.kind for call in connector.calls] == ["send"]
    with pytest.raises(ValueError, match="count"):
        connector.fail_next(count=0)


async def test_listener_sees_calls_before_the_answer(
    connector: LocalConnector, http: aiohttp.ClientSession
) -> None:
    seen: list[str] = []
    connector.add_listener(lambda call: seen.append(call.kind))
    await post(http, url(connector, f"v3/conversations/{CONVERSATION}/activities"), {"type": "x"})
    assert seen == ["send"]


async def test_sdk_connector_client_urls_match(connector: LocalConnector) -> None:
    """The SDK's ConnectorClient (as the bot uses it in local mode) reaches every route."""
    connector.add_member(CONVERSATION, {"id": "29:user", "name": "Test Kundin"})
    credentials = MicrosoftAppCredentials("", "")
    async with ConnectorClient(credentials, base_url=connector.service_url) as client:
        conversations = client.conversations
        reply = await conversations.reply_to_activity(
            CONVERSATION, "incoming-1", Activity(type="message", text="Antwort")
        )
        sent = await conversations.send_to_conversation(
            CONVERSATION, Activity(type="message", text="Nachricht")
        )
        updated = await conversations.update_activity(
            CONVERSATION, sent.id, Activity(type="message", id=sent.id, text="geändert")
        )
        await conversations.delete_activity(CONVERSATION, reply.id)
        member = await conversations.get_conversation_member(CONVERSATION, "29:user")
        created = await conversations.create_conversation(
            ConversationParameters(
                bot=ChannelAccount(id="28:bot"),
                members=[ChannelAccount(id="29:user")],
                tenant_id="tenant",
            )
        )
        connector.fail_next(status=403)
        with pytest.raises(ErrorResponseException):
            await conversations.send_to_conversation(CONVERSATION, Activity(type="message"))

    assert updated.id == sent.id
    assert member.name == "Test Kundin"
    assert created.id.startswith("a:local-")
    assert [(c.kind, c.path) for c in connector.calls] == [
        ("reply", f"/v3/conversations/{CONVERSATION}/activities/incoming-1"),
        ("send", f"/v3/conversations/{CONVERSATION}/activities"),
        ("update", f"/v3/conversations/{CONVERSATION}/activities/{sent.id}"),
        ("delete", f"/v3/conversations/{CONVERSATION}/activities/{reply.id}"),
        ("get_member", f"/v3/conversations/{CONVERSATION}/members/29:user"),
        ("create_conversation", "/v3/conversations"),
    ]
    assert connector.calls[0].reply_to_id == "incoming-1"
    assert connector.calls[0].activity_id == reply.id
    assert all("authorization" not in call.headers for call in connector.calls)
    assert [a["text"] for a in connector.activities()] == ["Antwort", "Nachricht"]
    assert connector.updates()[0]["text"] == "geändert"
