"""With credentials configured, the bot's token goes only to the channel, and client-chosen
file URLs reach nothing internal. Over real HTTP with a signed channel token; the Bot
Connector (with its attachment service) and Microsoft's token endpoint are stand-ins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

from bot.app import STORE
from bot.config import Settings
from bot.devtools.connector_standin import LocalConnector
from bot.domain.consent import ConsentLog
from tests.support.channel import IdentityProvider, channel_token
from tests.support.files import PNG
from tests.support.http_bot import StartBot, TeamsClient
from tests.support.network import NetworkSpy

BOT_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.the-bots-own-access-token.signature"
ARRIVED = "Danke! Ihr Formular ist angekommen."
NOT_ARRIVED = "Die Datei ist nicht angekommen."


class TokenEndpoint:
    """Stands in for Microsoft's token endpoint (login.microsoftonline.com)."""

    def __init__(self) -> None:
        self.issued = 0

    def get_access_token(self, credentials: MicrosoftAppCredentials, force: bool = False) -> str:
        self.issued += 1
        return BOT_TOKEN


@pytest.fixture
def token_endpoint(monkeypatch: pytest.MonkeyPatch) -> TokenEndpoint:
    endpoint = TokenEndpoint()
    monkeypatch.setattr(
        MicrosoftAppCredentials,
        "get_access_token",
        lambda credentials, force_refresh=False: endpoint.get_access_token(credentials),
    )
    return endpoint


@pytest.fixture
async def foreign_server() -> AsyncIterator[tuple[TestServer, list[dict[str, str]]]]:
    """Somebody else's server on this machine: records every request and its headers."""
    seen: list[dict[str, str]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(body=PNG, content_type="image/png")

    app = web.Application()
    app.router.add_get("/{tail:.*}", record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, seen
    await server.close()


@pytest.fixture
async def client_at_consent(
    start_bot: StartBot,
    auth_settings: Settings,
    http: aiohttp.ClientSession,
    connector: LocalConnector,
    identity_provider: IdentityProvider,
    token_endpoint: TokenEndpoint,
    network: NetworkSpy,
    monkeypatch: pytest.MonkeyPatch,
) -> TeamsClient:
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
    client = TeamsClient(http, await start_bot(auth_settings), connector)
    client.headers = channel_token(client, identity_provider.key, identity_provider.kid)
    await client.install()
    for answer in (
        "Bewerbung (Lebenslauf, Anschreiben)",
        "Per Video",
        "Laptop oder Computer",
        "Ja, die Teams-App",
    ):
        await client.click(answer)
    for answer in ("Ja, beides", "Ja", "WLAN oder Flatrate (unbegrenzt)"):
        await client.click(answer)
    assert client.said("Ihr Ja zum Video-Gespräch (Einwilligung)", client.all_replies())
    return client


async def send_file(client: TeamsClient, attachment: dict[str, object]) -> list[dict]:
    return await client.deliver(client.message(attachments=[attachment]))


@dataclass
class Witnesses:
    """Everything that would show a file being fetched, or the bot's token going out."""

    client: TeamsClient
    tokens: TokenEndpoint
    connector: LocalConnector
    network: NetworkSpy
    foreign: list[dict[str, str]]

    async def assert_refused(self, attachment: dict[str, object]) -> None:
        """The client hears the file did not arrive — and nothing was fetched or asked for."""
        issued_before = self.tokens.issued
        replies = await send_file(self.client, attachment)
        assert self.client.said(NOT_ARRIVED, replies)
        assert self.foreign == []  # not a single request, so no token either
        assert self.tokens.issued == issued_before  # the bot did not even ask for one
        assert [call for call in self.connector.calls if call.kind == "attachment"] == []
        assert self.network.outside() == []  # no name was even looked up


@pytest.fixture
def witnesses(
    client_at_consent: TeamsClient,
    token_endpoint: TokenEndpoint,
    connector: LocalConnector,
    network: NetworkSpy,
    foreign_server: tuple[TestServer, list[dict[str, str]]],
) -> Witnesses:
    return Witnesses(client_at_consent, token_endpoint, connector, network, foreign_server[1])


async def test_a_foreign_content_url_gets_no_token_and_no_request(
    witnesses: Witnesses, foreign_server: tuple[TestServer, list[dict[str, str]]]
) -> None:
    server, _ = foreign_server
    await witnesses.assert_refused(
        {"contentType": "image/png", "contentUrl": str(server.make_url("/collect"))}
    )


@pytest.mark.parametrize(
    "content_url",
    [
        "https://smba.trafficmanager.net.evil.example/emea/v3/attachments/x/views/original",
        "https://evil.trafficmanager.net/emea/v3/attachments/x/views/original",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "https://xn--smba-.trafficmanager.net/emea/v3/attachments/x/views/original",
        "https://[::1/v3/attachments/x/views/original",
        "https://h.example:99999/x",
        "relative/path.png",
    ],
)
async def test_lookalike_and_internal_content_urls_are_refused(
    witnesses: Witnesses, content_url: str
) -> None:
    await witnesses.assert_refused({"contentType": "image/png", "contentUrl": content_url})


async def test_userinfo_on_the_channels_host_gets_no_token(
    witnesses: Witnesses, connector: LocalConnector
) -> None:
    content_url = connector.add_attachment(PNG).replace("http://", "http://someone:pw@")
    await witnesses.assert_refused({"contentType": "image/png", "contentUrl": content_url})


async def test_a_picture_at_the_channels_service_url_is_fetched_with_the_token(
    client_at_consent: TeamsClient, connector: LocalConnector
) -> None:
    """The positive control: Teams' own attachment URL gets the token and the form arrives."""
    content_url = connector.add_attachment(PNG)
    replies = await send_file(
        client_at_consent, {"contentType": "image/*", "contentUrl": content_url}
    )
    assert client_at_consent.said(ARRIVED, replies)
    [fetched] = [call for call in connector.calls if call.kind == "attachment"]
    assert fetched.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    [event] = await ConsentLog(client_at_consent.bot.app[STORE]).events(
        client_at_consent.aad_object_id
    )
    assert event.action == "form_uploaded"


@pytest.mark.parametrize(
    "download_url",
    [
        "http://127.0.0.1:9/form.png",
        "https://127.0.0.1:9/form.png",
        "https://localhost/form.png",
        "https://[::1]/form.png",
        "https://169.254.169.254/latest/meta-data/",
        "https://intranet.jobcenter.local/form.png",
        "https://contoso-my.sharepoint.com.evil.example/form.png",
        "http://contoso-my.sharepoint.com/form.png",
        "https://xn--ab-.sharepoint.com/form.png",
        "https://contoso-my.sharepoint.com:99999/form.png",
        "https://[::1/form.png",
    ],
)
async def test_file_card_downloads_only_from_allowed_hosts_over_https(
    witnesses: Witnesses, download_url: str
) -> None:
    await witnesses.assert_refused(
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "content": {"downloadUrl": download_url, "fileType": "png"},
            "name": "formular.png",
        }
    )
