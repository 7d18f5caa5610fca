"""The service over real HTTP: health, request checks, authentication, turn errors, outbound
client reuse, duplicate and concurrent delivery."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import STORE
from bot.config import ConfigurationError, Settings
from bot.devtools.connector_standin import LocalConnector
from bot.i18n import translator
from dialogs.question import ChoiceQuestion
from tests.support.channel import APP_ID, IdentityProvider, channel_claims, channel_token
from tests.support.http_bot import BOT_ID, RunningBot, StartBot, TeamsClient
from tests.support.journey import settings_for_tests as make_settings
from tests.support.network import NetworkSpy
from tests.support.raw_http import activity_body, assert_clean_error, send_raw
from tests.support.texts import APOLOGY, TOPIC_QUESTION, TYPE_QUESTION

REPO = Path(__file__).resolve().parents[2]
DEVICE_QUESTION = "Welches Gerät nutzen Sie für das Video-Gespräch?"
APP_QUESTION = "Haben Sie die App „Microsoft Teams“ auf dem Gerät?"
SECRET = "GEHEIM-1234"


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def connector_clients(monkeypatch: pytest.MonkeyPatch) -> list[ConnectorClient]:
    """Every ``ConnectorClient`` built from now on."""
    built: list[ConnectorClient] = []
    real_init = ConnectorClient.__init__

    def counting_init(self: ConnectorClient, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(ConnectorClient, "__init__", counting_init)
    return built


# --- health ----------------------------------------------------------------------------------


async def test_healthz(http: aiohttp.ClientSession, bot: RunningBot) -> None:
    async with http.get(bot.url("/healthz")) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_readyz_with_storage_open(http: aiohttp.ClientSession, bot: RunningBot) -> None:
    async with http.get(bot.url("/readyz")) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ready"}


async def test_readyz_503_after_store_closed(http: aiohttp.ClientSession, bot: RunningBot) -> None:
    await bot.app[STORE].close()
    async with http.get(bot.url("/readyz")) as response:
        assert response.status == 503
        assert (await response.json())["status"] == "storage unavailable"


# --- bad requests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"type": "message", "text": ', id="malformed-json"),
        pytest.param(b"", id="empty-body"),
        pytest.param(b"\xff\xfe not utf-8", id="not-utf8"),
        pytest.param(b'[{"type": "message"}]', id="json-array"),
        pytest.param(b'"message"', id="json-string"),
        pytest.param(b"42", id="json-number"),
        pytest.param(b"null", id="json-null"),
        pytest.param(b"{}", id="empty-object"),
    ],
)
async def test_malformed_bodies_are_400(
    http: aiohttp.ClientSession, bot: RunningBot, connector: LocalConnector, data: bytes
) -> None:
    assert_clean_error(await send_raw(http, bot, data), 400)
    assert connector.calls == []


@pytest.mark.parametrize(
    ("change", "drop"),
    [
        pytest.param({}, "conversation", id="no-conversation"),
        pytest.param({"conversation": {"conversationType": "personal"}}, None, id="no-conv-id"),
        pytest.param({"conversation": "a:1"}, None, id="conversation-not-object"),
        pytest.param({}, "serviceUrl", id="no-service-url"),
        pytest.param({"serviceUrl": 42}, None, id="service-url-not-string"),
        pytest.param({"serviceUrl": "ftp://127.0.0.1/"}, None, id="service-url-ftp"),
        pytest.param({"serviceUrl": "file:///etc/passwd"}, None, id="service-url-file"),
        pytest.param({"serviceUrl": "127.0.0.1:3978"}, None, id="service-url-no-scheme"),
        pytest.param({"serviceUrl": "http://"}, None, id="service-url-no-host"),
        pytest.param({"serviceUrl": "https://[::1/"}, None, id="service-url-broken-ipv6"),
        pytest.param(
            {"serviceUrl": "http://[127.0.0.1]/"}, None, id="service-url-ipv4-in-brackets"
        ),
        pytest.param({"serviceUrl": "http://127.0.0.1:99999/"}, None, id="service-url-bad-port"),
        pytest.param({}, "type", id="no-type"),
        pytest.param({"type": ""}, None, id="empty-type"),
        pytest.param({"from": "29:abc"}, None, id="from-not-object"),
    ],
)
async def test_incomplete_activities_are_400(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    client: TeamsClient,
    connector: LocalConnector,
    change: dict[str, Any],
    drop: str | None,
) -> None:
    body = activity_body(client, **change)
    if drop:
        del body[drop]
    assert_clean_error(await send_raw(http, bot, json.dumps(body)), 400)
    assert connector.calls == []


async def test_wrong_content_type_is_415(
    http: aiohttp.ClientSession, bot: RunningBot, client: TeamsClient
) -> None:
    data = json.dumps(activity_body(client))
    assert_clean_error(await send_raw(http, bot, data, content_type="text/plain"), 415)


async def test_missing_content_type_is_415(
    http: aiohttp.ClientSession, bot: RunningBot, client: TeamsClient
) -> None:
    data = json.dumps(activity_body(client)).encode()
    assert_clean_error(await send_raw(http, bot, data, content_type=None), 415)


def oversized_body(client: TeamsClient) -> bytes:
    body = json.dumps(activity_body(client, text="x" * (256 * 1024))).encode()
    assert len(body) > 256 * 1024
    return body


async def test_body_over_256_kb_with_content_length_is_413(
    http: aiohttp.ClientSession, bot: RunningBot, client: TeamsClient, connector: LocalConnector
) -> None:
    assert_clean_error(await send_raw(http, bot, oversized_body(client)), 413)
    assert connector.calls == []


async def test_body_over_256_kb_chunked_is_413(
    http: aiohttp.ClientSession, bot: RunningBot, client: TeamsClient, connector: LocalConnector
) -> None:
    data = oversized_body(client)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 16 * 1024):
            yield data[start : start + 16 * 1024]

    # An async generator has no length, so aiohttp sends it chunked, without Content-Length.
    assert_clean_error(await send_raw(http, bot, chunks()), 413)
    assert connector.calls == []


async def test_body_just_under_the_limit_is_accepted(
    client: TeamsClient, connector: LocalConnector
) -> None:
    await client.install()
    body = client.message("x")
    padding = 256 * 1024 - len(json.dumps(body).encode()) - 100
    body["text"] = "x" * padding
    status, _ = await client.post(body)
    assert status == 201


@pytest.mark.parametrize(
    "authorization", ["Bearer x", "Bearer not-a-jwt", "Basic dXNlcjpwYXNzd29yZA=="]
)
async def test_any_authorization_in_local_mode_is_401(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    client: TeamsClient,
    connector: LocalConnector,
    network: NetworkSpy,
    authorization: str,
) -> None:
    answer = await send_raw(
        http, bot, json.dumps(activity_body(client)), headers={"Authorization": authorization}
    )
    assert_clean_error(answer, 401)
    assert connector.calls == []
    assert network.outside() == []


async def test_json_with_charset_parameter_is_accepted(
    http: aiohttp.ClientSession, bot: RunningBot, client: TeamsClient
) -> None:
    data = json.dumps(client.activity("conversationUpdate", membersAdded=[{"id": BOT_ID}]))
    answer = await send_raw(http, bot, data, content_type="application/json; charset=utf-8")
    assert answer.status == 201
    assert client.said(TOPIC_QUESTION, client.take_replies())


async def test_non_loopback_service_url_in_local_mode_is_400_and_nothing_is_sent(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    client: TeamsClient,
    connector: LocalConnector,
    network: NetworkSpy,
    connector_clients: list[ConnectorClient],
) -> None:
    for service_url in (
        "https://smba.trafficmanager.net/emea/",
        "http://10.0.0.5:3978/",
        "http://[fe80::1]/",
    ):
        body = activity_body(client, serviceUrl=service_url)
        assert_clean_error(await send_raw(http, bot, json.dumps(body)), 400)
    assert connector.calls == []
    assert connector_clients == []
    assert network.outside() == []


async def test_get_messages_is_405(http: aiohttp.ClientSession, bot: RunningBot) -> None:
    answer = await send_raw(http, bot, None, method="GET", content_type=None)
    assert answer.status == 405
    assert "POST" in answer.headers.get("Allow", "")
    assert "Traceback" not in answer.text


async def test_get_messages_error_body_is_json(
    http: aiohttp.ClientSession, bot: RunningBot
) -> None:
    answer = await send_raw(http, bot, None, method="GET", content_type=None)
    assert_clean_error(answer, 405)


# --- with credentials ----------------------------------------------------------------------


@pytest.fixture
async def auth_client(
    start_bot: StartBot,
    auth_settings: Settings,
    http: aiohttp.ClientSession,
    connector: LocalConnector,
    network: NetworkSpy,
    monkeypatch: pytest.MonkeyPatch,
) -> TeamsClient:
    # The SDK caches signing keys per process; every test starts without any.
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
    return TeamsClient(http, await start_bot(auth_settings), connector)


async def post_bounded(
    client: TeamsClient, headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, Any]:
    """A bound, not a timing assertion: a request that would hang fails the test instead."""
    async with asyncio.timeout(10):
        return await client.post(body or client.message("Hallo"), headers=headers)


def assert_refused(status: int, body: Any, connector: LocalConnector) -> None:
    assert status == 401, (status, body)
    assert isinstance(body, dict), body
    assert body.get("error")
    assert connector.calls == []


async def test_with_credentials_a_request_without_token_is_401(
    auth_client: TeamsClient, connector: LocalConnector, network: NetworkSpy
) -> None:
    status, body = await post_bounded(auth_client)
    assert_refused(status, body, connector)
    assert network.outside() == []


async def test_with_credentials_a_token_that_is_no_jwt_is_401(
    auth_client: TeamsClient, connector: LocalConnector, network: NetworkSpy
) -> None:
    status, body = await post_bounded(auth_client, {"Authorization": "Bearer not-a-jwt"})
    assert_refused(status, body, connector)
    assert network.outside() == []


async def test_with_credentials_a_correctly_signed_token_is_accepted(
    auth_client: TeamsClient,
    connector: LocalConnector,
    identity_provider: IdentityProvider,
    network: NetworkSpy,
) -> None:
    """The positive control for the 401s: the same request with a valid channel token.

    A conversationUpdate that adds someone else makes the bot send nothing, so no outbound
    token is needed.
    """
    other = auth_client.activity("conversationUpdate", membersAdded=[{"id": "29:someone"}])
    headers = channel_token(auth_client, identity_provider.key, identity_provider.kid)
    status, body = await post_bounded(auth_client, headers, other)
    assert (status, body) == (201, None)
    assert [url for url, _ in identity_provider.fetches] == [
        IdentityProvider.METADATA,
        IdentityProvider.KEYS,
    ]
    assert connector.calls == []
    assert network.outside() == []


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"aud": "someone-elses-app"}, id="wrong-audience"),
        pytest.param({"iss": "https://evil.example"}, id="wrong-issuer"),
        pytest.param({"serviceurl": "http://127.0.0.1:1/"}, id="other-service-url"),
        pytest.param({"exp": int(time.time()) - 3600}, id="expired"),
    ],
)
async def test_with_credentials_a_token_with_wrong_claims_is_401(
    auth_client: TeamsClient,
    connector: LocalConnector,
    identity_provider: IdentityProvider,
    claims: dict[str, Any],
) -> None:
    headers = channel_token(auth_client, identity_provider.key, identity_provider.kid, **claims)
    status, body = await post_bounded(auth_client, headers)
    assert_refused(status, body, connector)


async def test_with_credentials_a_token_with_a_bad_signature_is_401(
    auth_client: TeamsClient, connector: LocalConnector, identity_provider: IdentityProvider
) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = channel_token(auth_client, forger, identity_provider.kid)
    status, body = await post_bounded(auth_client, headers)
    assert_refused(status, body, connector)


async def test_with_credentials_a_token_with_an_unknown_key_id_is_401(
    auth_client: TeamsClient, connector: LocalConnector, identity_provider: IdentityProvider
) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = channel_token(auth_client, forger, "forged-key-id")
    status, body = await post_bounded(auth_client, headers)
    assert_refused(status, body, connector)


def unsigned_token(client: TeamsClient, algorithm: str, **header: Any) -> dict[str, str]:
    """A token that claims Microsoft's issuer but is not signed with one of its keys."""
    claims = channel_claims(client)
    if algorithm == "none":
        token = jwt.encode(claims, None, algorithm="none", headers=header)
    else:
        token = jwt.encode(claims, "s" * 64, algorithm=algorithm, headers=header)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("algorithm", "header"),
    [
        pytest.param("none", {"kid": "channel-key-1"}, id="alg-none"),
        pytest.param("HS256", {"kid": "channel-key-1"}, id="hs256"),
        pytest.param("HS512", {"kid": "channel-key-1"}, id="hs512"),
        pytest.param("HS256", {}, id="hs256-no-kid"),
    ],
)
async def test_with_credentials_a_token_with_another_algorithm_is_401_without_calling_out(
    auth_client: TeamsClient,
    connector: LocalConnector,
    identity_provider: IdentityProvider,
    network: NetworkSpy,
    algorithm: str,
    header: dict[str, str],
) -> None:
    status, body = await post_bounded(auth_client, unsigned_token(auth_client, algorithm, **header))
    assert_refused(status, body, connector)
    assert identity_provider.fetches == []  # the signing keys were not even asked for
    assert network.outside() == []


async def test_with_credentials_an_rs256_token_without_key_id_is_401_without_calling_out(
    auth_client: TeamsClient,
    connector: LocalConnector,
    identity_provider: IdentityProvider,
    network: NetworkSpy,
) -> None:
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": now + 3600}
    token = jwt.encode(claims, identity_provider.key, algorithm="RS256")
    status, body = await post_bounded(auth_client, {"Authorization": f"Bearer {token}"})
    assert_refused(status, body, connector)
    assert identity_provider.fetches == []
    assert network.outside() == []


@pytest.mark.parametrize(
    "issuer",
    [
        "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",  # the Emulator's
        "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
        "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",  # a tenant's
    ],
)
async def test_with_credentials_tokens_not_issued_for_a_channel_are_401_without_calling_out(
    auth_client: TeamsClient,
    connector: LocalConnector,
    identity_provider: IdentityProvider,
    network: NetworkSpy,
    issuer: str,
) -> None:
    """The SDK would check such a token on its Emulator path, which looks at neither the
    audience nor the service URL: the bot would answer (with its token) anywhere."""
    headers = channel_token(
        auth_client,
        identity_provider.key,
        identity_provider.kid,
        iss=issuer,
        appid=APP_ID,
        azp=APP_ID,
        ver="1.0",
    )
    status, body = await post_bounded(auth_client, headers)
    assert_refused(status, body, connector)
    assert identity_provider.fetches == []
    assert network.outside() == []


async def test_with_credentials_unreachable_identity_provider_is_a_clean_error(
    auth_client: TeamsClient, connector: LocalConnector, network: NetworkSpy
) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = channel_token(auth_client, forger, "some-key-id")
    status, body = await post_bounded(auth_client, headers)
    assert network.outside() == ["login.botframework.com"]  # refused by the spy, fast
    assert status == 503, (status, body)  # we cannot tell a good token from a bad one now
    assert isinstance(body, dict), body
    assert body.get("error")
    assert connector.calls == []


async def test_with_credentials_signing_keys_are_not_fetched_on_the_event_loop(
    auth_client: TeamsClient, identity_provider: IdentityProvider
) -> None:
    headers = channel_token(auth_client, identity_provider.key, identity_provider.kid)
    other = auth_client.activity("conversationUpdate", membersAdded=[{"id": "29:someone"}])
    status, _ = await post_bounded(auth_client, headers, other)
    assert status == 201
    assert identity_provider.fetches
    assert [url for url, on_loop in identity_provider.fetches if on_loop] == []


# --- configuration check -----------------------------------------------------------------------


def test_local_mode_refuses_a_public_host(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, host="0.0.0.0")
    with pytest.raises(ConfigurationError, match=r"HOST='0\.0\.0\.0' is not a loopback") as raised:
        settings.check()
    assert "MicrosoftAppId" in str(raised.value)
    assert "127.0.0.1" in str(raised.value)
    with pytest.raises(ConfigurationError):
        make_settings(tmp_path, host="0.0.0.0").check()


def test_python_m_bot_with_public_host_and_no_credentials_exits_2(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in {"microsoftappid", "microsoftapppassword", "app_id", "app_password"}
    }
    env.update(
        HOST="0.0.0.0",
        PORT="0",
        PYTHONPATH=str(REPO),
        BOT_STORAGE=f"sqlite:///{tmp_path / 'bot.db'}",
        BOT_UPLOAD_DIR=str(tmp_path / "uploads"),
    )
    finished = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,  # no .env file here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2, finished.stderr
    assert "Configuration error" in finished.stderr
    assert "HOST='0.0.0.0' is not a loopback address" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert not (tmp_path / "bot.db").exists()


# --- a turn that fails -----------------------------------------------------------------------


def assert_no_secret(caplog: pytest.LogCaptureFixture, *outputs: str) -> None:
    for record in caplog.records:
        assert SECRET not in record.getMessage(), record.name
        assert SECRET not in (record.exc_text or ""), record.name
        assert SECRET not in logging.Formatter().format(record), record.name
    for output in outputs:
        assert SECRET not in output


async def test_storage_failure_apologises_without_logging_the_message(
    bot: RunningBot,
    client: TeamsClient,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.install()
    await bot.app[STORE].close()

    status, body = await client.post(client.message(f"Meine Kundennummer ist {SECRET}"))

    assert status == 201  # the turn was handled: the client got an apology, no retry needed
    assert body is None
    replies = client.take_replies()
    assert [reply.get("text") for reply in replies] == [
        "Entschuldigung, da ist bei uns etwas schiefgegangen. Bitte schreiben Sie Ihre letzte "
        "Antwort noch einmal."
    ]
    failures = [r for r in caplog.records if r.getMessage().startswith("turn failed")]
    assert len(failures) == 1
    assert "StoreUnavailableError" in failures[0].getMessage()
    captured = capfd.readouterr()
    assert_no_secret(caplog, captured.out, captured.err)


async def test_failing_dialog_step_apologises_and_the_dialog_stays_put(
    client: TeamsClient,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.install()
    assert client.said(TOPIC_QUESTION)

    async def broken_recognize(self: Any, context: Any, options: Any, submit: Any) -> Any:
        raise ValueError(f"could not read {context.activity.text!r}")  # the text in the error

    with monkeypatch.context() as patch:
        patch.setattr(ChoiceQuestion, "recognize", broken_recognize)
        status, body = await client.post(client.message(SECRET))

    assert status == 201
    assert body is None
    replies = client.take_replies()
    assert len(replies) == 1
    assert replies[0]["text"].startswith(APOLOGY)
    failures = [r for r in caplog.records if r.getMessage().startswith("turn failed")]
    assert len(failures) == 1
    assert "ValueError" in failures[0].getMessage()
    captured = capfd.readouterr()
    assert_no_secret(caplog, captured.out, captured.err)

    # Nothing of the failed turn was saved: the topic question is still the open one.
    await client.click("Bewerbung (Lebenslauf, Anschreiben)")
    assert client.said(TYPE_QUESTION)


# --- outbound clients, duplicates, concurrency -----------------------------------------------


async def test_connector_client_is_built_once_per_service_url(
    client: TeamsClient, connector_clients: list[ConnectorClient]
) -> None:
    await client.install()
    await client.click("Bewerbung (Lebenslauf, Anschreiben)")
    await client.click("Per Video")
    await client.click("Smartphone (Handy)")
    await client.say("Hilfe")
    assert client.said("Hilfe")
    assert client.said(APP_QUESTION)  # the help card, then the open question again
    assert len(client.all_replies()) == 7
    assert len(connector_clients) == 1


async def test_duplicate_delivery_is_answered_once(client: TeamsClient) -> None:
    await client.install()
    resent = client.click_activity("Bewerbung (Lebenslauf, Anschreiben)")

    first = await client.deliver(resent)
    second = await client.deliver(dict(resent))

    assert len(first) == 1
    assert client.said(TYPE_QUESTION, first)
    assert second == []


async def test_concurrent_duplicate_delivery_is_answered_once(client: TeamsClient) -> None:
    await client.install()
    resent = client.message("Bewerbung (Lebenslauf, Anschreiben)")

    answers = await asyncio.gather(client.post(resent), client.post(dict(resent)))

    assert [status for status, _ in answers] == [201, 201]
    replies = client.take_replies()
    assert len(replies) == 1
    assert client.said(TYPE_QUESTION, replies)


async def test_double_click_advances_the_journey_once(client: TeamsClient) -> None:
    await client.install()
    first = client.click_activity("Bewerbung (Lebenslauf, Anschreiben)")
    second = client.click_activity("Bewerbung (Lebenslauf, Anschreiben)")
    assert first["id"] != second["id"]
    assert first["value"] == second["value"]

    answers = await asyncio.gather(client.post(first), client.post(second))

    assert [status for status, _ in answers] == [201, 201]
    replies = client.take_replies()
    texts = client.texts(replies)
    assert sum(text == TYPE_QUESTION for text in texts) == 1  # no second question
    already = translator("de")(
        "common.already_chosen", choice="Bewerbung (Lebenslauf, Anschreiben)"
    )
    assert texts.count(already) == 1  # the second click is told what was chosen
    assert len(replies) == 2

    # The journey goes on normally from there.
    await client.click("Per Video")
    assert client.said(DEVICE_QUESTION)


async def test_concurrent_conversations_get_their_own_answers_over_one_client(
    bot: RunningBot,
    http: aiohttp.ClientSession,
    connector: LocalConnector,
    connector_clients: list[ConnectorClient],
) -> None:
    clients = [
        TeamsClient(http, bot, connector, aad_object_id=f"8d3c1a2b-0000-4000-8000-00000000000{n}")
        for n in range(5)
    ]

    await asyncio.gather(*(client.install() for client in clients))
    await asyncio.gather(
        *(client.click("Bewerbung (Lebenslauf, Anschreiben)") for client in clients)
    )

    for client in clients:
        assert client.texts() == [TYPE_QUESTION]
        assert len(client.all_replies()) == 3  # welcome, topic, type
    assert len(connector_clients) == 1
