"""The service on Azure Cosmos DB (a local, in-memory Cosmos DB server): a journey over HTTP,
readiness, an outage of the database and the recovery after it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from azure.cosmos.aio import CosmosClient

from bot.app import STORE
from bot.config import Settings
from bot.devtools.connector_standin import LocalConnector
from bot.storage import StoreUnavailableError, open_document_store
from bot.storage import cosmos as cosmos_storage
from bot.storage.cosmos import CosmosDocumentStore
from tests.support.cosmos_server import (
    KEY,
    STORE_SETTINGS,
    CosmosServer,
    cosmos_server,
    fresh_database_name,
    store_settings,
)
from tests.support.http_bot import RunningBot, StartBot, TeamsClient
from tests.support.journey import CollectingNotifier
from tests.support.journey import settings_for_tests as make_settings
from tests.support.texts import APOLOGY

WELCOME = "Willkommen im Jobcenter-Chat!"
TOPIC = "Worüber möchten Sie sprechen?"
TYPE = "Wie möchten Sie mit uns sprechen?"

pytestmark = pytest.mark.node  # the local Cosmos DB server comes from node_modules


@pytest.fixture
def cosmos() -> Iterator[CosmosServer]:
    """A server of this test's own: the test stops and starts it."""
    with cosmos_server() as server:
        yield server


@pytest.fixture
def cosmos_settings(tmp_path: Path, cosmos: CosmosServer) -> Settings:
    database = fresh_database_name("service")
    return make_settings(
        tmp_path,
        storage_url=cosmos.storage_url(database),
        **{**STORE_SETTINGS, "cosmos_database": database},
    )


@pytest.fixture
async def cosmos_bot(
    start_bot: StartBot, cosmos_settings: Settings, notifier: CollectingNotifier
) -> RunningBot:
    return await start_bot(cosmos_settings, notifier)


@pytest.fixture
def cosmos_client(
    cosmos_bot: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> TeamsClient:
    return TeamsClient(http, cosmos_bot, connector)


@pytest.fixture
async def raw_cosmos(cosmos: CosmosServer) -> AsyncIterator[CosmosClient]:
    """A plain SDK client, to look at what the service stored."""
    client = CosmosClient(
        cosmos.url,
        credential=KEY,
        enable_endpoint_discovery=False,
        connection_verify=False,
        headers={"x-ms-documentdb-query-enablecrosspartition": "true"},
    )
    yield client
    await client.close()


async def get_status(http: aiohttp.ClientSession, bot: RunningBot, path: str) -> tuple[int, Any]:
    async with http.get(bot.url(path)) as response:
        return response.status, await response.json()


async def stored(raw: CosmosClient, database: str, container: str) -> list[dict[str, Any]]:
    pages = (
        raw.get_database_client(database)
        .get_container_client(container)
        .query_items("SELECT * FROM c")
    )
    return [item async for item in pages]


async def test_journey_outage_and_recovery_on_cosmos(
    cosmos: CosmosServer,
    cosmos_settings: Settings,
    cosmos_bot: RunningBot,
    cosmos_client: TeamsClient,
    http: aiohttp.ClientSession,
    raw_cosmos: CosmosClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, bot = cosmos_client, cosmos_bot
    assert isinstance(bot.app[STORE].inner, CosmosDocumentStore)
    assert await get_status(http, bot, "/readyz") == (200, {"status": "ready"})

    # A short journey; the conversation state lands in the "state" container with its TTL.
    await client.install()
    assert client.said(WELCOME)
    assert client.said(TOPIC)
    await client.click("Bewerbung (Lebenslauf, Anschreiben)")
    assert client.said(TYPE)
    database = cosmos_settings.cosmos_database
    [state] = await stored(raw_cosmos, database, "state")
    assert (state["kind"], state["pk"]) == ("state", state["key"])
    assert state["ttl"] == cosmos_settings.state_ttl_days * 86400
    assert state["expiresAt"] > time.time()

    # The database goes away: not ready, and a turn ends with the apology, not a 5xx.
    cosmos.stop()
    started = time.monotonic()
    assert await get_status(http, bot, "/readyz") == (503, {"status": "storage unavailable"})
    status, body = await client.post(client.click_activity("Per Video"))
    assert (status, body) == (201, None)  # as for any failed turn: handled, with an apology
    replies = client.take_replies()
    assert len(replies) == 1
    assert replies[0]["text"].startswith(APOLOGY)
    assert time.monotonic() - started < 8  # fails fast, well within Teams' 15 s
    failures = [r for r in caplog.records if r.getMessage().startswith("turn failed")]
    assert len(failures) == 1
    assert "StoreUnavailableError" in failures[0].getMessage()

    # It comes back, empty (the local server keeps nothing). The first write re-creates the
    # database and its containers; the conversation starts afresh.
    cosmos.start()
    replies = await client.say("Hallo")
    assert client.said(WELCOME, replies)
    assert client.said(TOPIC, replies)
    assert await get_status(http, bot, "/readyz") == (200, {"status": "ready"})
    await client.click("Bewerbung (Lebenslauf, Anschreiben)")
    assert client.said(TYPE)
    [state] = await stored(raw_cosmos, database, "state")
    assert state["ttl"] == cosmos_settings.state_ttl_days * 86400


# --- the store on its own: what the service relies on ----------------------------------------


async def open_store(server: CosmosServer, **settings: Any) -> CosmosDocumentStore:
    store = open_document_store(
        server.storage_url(fresh_database_name()), store_settings(**settings)
    )
    assert isinstance(store, CosmosDocumentStore)
    await store.open()
    return store


async def test_a_deleted_container_is_created_again_by_the_next_write(
    cosmos: CosmosServer, raw_cosmos: CosmosClient
) -> None:
    store = await open_store(cosmos)
    try:
        await store.create("profile", "c1", {"v": 1}, partition="c1")
        database = raw_cosmos.get_database_client(store.config.database)
        await database.delete_container("records")

        assert await store.get("profile", "c1", partition="c1") is None
        assert await store.list_partition("profile", "c1") == []  # re-created, empty
        await database.delete_container("records")
        # The local server answers this write with 500 (not 404): the store checks and re-creates.
        await store.create("profile", "c1", {"v": 2}, partition="c1")
        fetched = await store.get("profile", "c1", partition="c1")
        assert fetched is not None
        assert fetched.body == {"v": 2}
    finally:
        await store.close()


async def test_readiness_re_creates_a_deleted_database(
    cosmos: CosmosServer, raw_cosmos: CosmosClient
) -> None:
    store = await open_store(cosmos)
    try:
        await raw_cosmos.delete_database(store.config.database)
        await store.ping()
        database = raw_cosmos.get_database_client(store.config.database)
        assert sorted([c["id"] async for c in database.list_containers()]) == ["records", "state"]
    finally:
        await store.close()


async def test_without_create_if_missing_a_missing_database_is_unavailable(
    cosmos: CosmosServer, raw_cosmos: CosmosClient
) -> None:
    store = await open_store(cosmos, cosmos_create_if_missing=False)  # no request yet
    try:
        with pytest.raises(StoreUnavailableError, match="missing"):
            await store.ping()
        assert [db async for db in raw_cosmos.list_databases()] == []  # nothing was created
    finally:
        await store.close()


async def test_opening_fails_fast_when_the_server_is_down(cosmos: CosmosServer) -> None:
    cosmos.stop()
    started = time.monotonic()
    store = open_document_store(cosmos.storage_url("down"), store_settings())
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        await store.open()
    assert time.monotonic() - started < 5
    with pytest.raises(StoreUnavailableError):
        await store.ping()  # closed again after the failed open


async def test_a_hanging_server_is_unavailable_after_a_bounded_wait(
    cosmos: CosmosServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await open_store(cosmos)
    try:
        await store.create("profile", "c1", {"v": 1}, partition="c1")
        monkeypatch.setattr(cosmos_storage, "OPERATION_TIMEOUT", 1.0)  # 10 s in production
        cosmos.freeze()
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="in time"):
            await store.get("profile", "c1", partition="c1")
        with pytest.raises(StoreUnavailableError):
            await store.ping()
        assert time.monotonic() - started < 4
        cosmos.thaw()
        assert await store.get("profile", "c1", partition="c1") is not None
    finally:
        cosmos.thaw()
        await store.close()
