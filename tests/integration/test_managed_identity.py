"""The service's managed identity, no secret anywhere: Graph's token comes from azure-identity's
real credential, the bot's own (``MicrosoftAppType=UserAssignedMSI``) from the SDK's msal
managed identity client — both from the Container Apps / App Service identity endpoint (the
stand-in's)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

from bot.app import graph_client
from bot.config import ConfigurationError, Settings
from bot.devtools.connector_standin import LocalConnector
from bot.integrations.graph import GraphClient
from bot.integrations.graph_errors import GraphAuthError
from bot.integrations.graph_tokens import IdentityTokens
from tests.support.channel import APP_ID, IdentityProvider, channel_token
from tests.support.graph_standin import GraphStandIn
from tests.support.http_bot import StartBot, TeamsClient
from tests.support.journey import settings_for_tests

TENANT_ID = "8f0c1a9e-2b7d-4c55-9e1f-3a6b2d4c8e10"
COUNSELLOR = "6b1a2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
#: variables that would make azure-identity pick another credential than the managed identity
OTHER_CREDENTIALS = (
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)


def point_at(standin: GraphStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment Azure Container Apps gives an app with a managed identity."""
    for name in OTHER_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", standin.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", standin.identity_header)


@pytest.fixture
async def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphStandIn]:
    async with GraphStandIn(
        tmp_path / "tls", tenant_id=TENANT_ID, client_id="unused", client_secret="unused"
    ) as running:
        point_at(running, monkeypatch)
        yield running


def client(standin: GraphStandIn, client_id: str) -> GraphClient:
    return GraphClient(
        IdentityTokens(client_id), base_url=standin.graph_url, ca_file=standin.ca_file
    )


async def create(graph: GraphClient, transaction: str) -> str:
    event = await graph.create_event(
        COUNSELLOR, START, START + timedelta(minutes=45), "Videoberatung", "Text", transaction
    )
    return str(event["id"])


async def test_the_managed_identity_token_opens_graph_and_is_reused(
    standin: GraphStandIn,
) -> None:
    async with client(standin, standin.identity_client_id) as graph:
        await asyncio.gather(*(create(graph, f"t-{n}") for n in range(3)))
        await create(graph, "t-3")

    assert len(standin.events) == 4
    assert len(standin.identity_requests) == 1  # one token for concurrent and later calls
    assert standin.token_requests == []  # no client secret was ever used
    assert standin.problems == []


async def test_the_bot_answers_with_a_token_of_its_user_assigned_managed_identity(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    start_bot: StartBot,
    http: aiohttp.ClientSession,
    connector: LocalConnector,
    identity_provider: IdentityProvider,
) -> None:
    async with GraphStandIn(
        tmp_path / "tls",
        tenant_id=TENANT_ID,
        client_id="unused",
        client_secret="unused",
        identity_client_id=APP_ID,
        identity_resources=("https://api.botframework.com",),
    ) as identity:
        point_at(identity, monkeypatch)
        monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
        settings = settings_for_tests(
            tmp_path,
            app_id=APP_ID,
            app_type="UserAssignedMSI",
            app_tenant_id=TENANT_ID,
            invitation_pepper="a-pepper-for-the-tests",
        )
        client = TeamsClient(http, await start_bot(settings), connector)
        client.headers = channel_token(client, identity_provider.key, identity_provider.kid)
        await client.install()

        assert client.all_replies()
        sent = [call for call in connector.calls if call.kind != "attachment"]
        assert sent
        tokens = {call.headers.get("authorization") for call in sent}
        assert tokens == {f"Bearer {identity.issued_tokens[0]}"}
        assert identity.problems == []


async def test_an_identity_not_assigned_to_the_app_is_a_clear_auth_error(
    standin: GraphStandIn,
) -> None:
    async with client(standin, "another-identity") as graph:
        with pytest.raises(GraphAuthError) as caught:
            await create(graph, "t-1")

    assert caught.value.code == "identity_unavailable"
    assert standin.events == {}
    assert [problem.split(":")[0] for problem in standin.problems] == ["identity"]
    standin.problems.clear()


def test_the_settings_choose_the_managed_identity_and_refuse_a_secret_beside_it(
    tmp_path: Path,
) -> None:
    settings = Settings(graph_use_managed_identity=True, graph_client_id="mi-client-id")
    graph = graph_client(settings)
    assert graph is not None
    assert isinstance(graph._tokens, IdentityTokens)
    asyncio.run(graph.close())

    both = Settings(graph_use_managed_identity=True, graph_client_secret="s3cret-value")
    with pytest.raises(ConfigurationError, match="GRAPH_CLIENT_SECRET"):
        both.check()
    assert graph_client(Settings(graph_client_id="only-an-id")) is None


def test_the_bots_managed_identity_needs_its_id_and_tenant_and_no_password() -> None:
    pepper = "a-pepper-for-the-tests"
    settings = Settings(
        app_type="UserAssignedMSI", app_id=APP_ID, app_tenant_id=TENANT_ID, invitation_pepper=pepper
    )
    settings.check()
    assert not settings.local_mode
    with pytest.raises(ConfigurationError, match="MicrosoftAppTenantId"):
        Settings(app_type="UserAssignedMSI", app_id=APP_ID, invitation_pepper=pepper).check()
    with pytest.raises(ConfigurationError, match="no MicrosoftAppPassword"):
        Settings(
            app_type="UserAssignedMSI",
            app_id=APP_ID,
            app_tenant_id=TENANT_ID,
            app_password="x",
            invitation_pepper=pepper,
        ).check()


async def test_an_identity_endpoint_that_never_answers_is_a_timeout_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), answers nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        for name in OTHER_CREDENTIALS:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("IDENTITY_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}/msi")
        monkeypatch.setenv("IDENTITY_HEADER", "header")
        tokens = IdentityTokens("mi-client-id", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(GraphAuthError) as caught:
            await tokens.token()
        await tokens.close()

    assert caught.value.code == "identity_timeout"
    assert time.monotonic() - started < 3
