"""Retention (issue 12, item 2): each kind of record goes when its period ends — on SQLite and
on the local Cosmos DB server, with the store's clock moved by the test.

The clock starts years in the past, so that SQLite's own clock (which alone may end a consent
event) agrees that the events the test lets expire have expired.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.cosmos.aio import CosmosClient

from bot.config import Settings
from bot.domain.consent import CONSENT_EVENT, ConsentLog
from bot.domain.handoffs import Handoff, Handoffs
from bot.domain.record import utc_now
from bot.domain.retention import RECORD_KINDS, PurgeReport
from bot.storage import DocumentStore, open_document_store
from tests.support.cosmos_server import (
    KEY,
    STORE_SETTINGS,
    CosmosServer,
    fresh_database_name,
)
from tests.support.journey import CLIENT, Chat, reach_handoff, settings_for_tests

DAY = 86400
KINDS = [retention.kind for retention in RECORD_KINDS]
#: the kinds with a period (the counters are kept)
EXPIRING = [retention.kind for retention in RECORD_KINDS if retention.enforced_by != "kept"]


class Clock:
    def __init__(self, start: float) -> None:
        self.start = self.now = start

    def __call__(self) -> float:
        return self.now

    def at_day(self, days: float) -> None:
        """Days after the start."""
        self.now = self.start + days * DAY


@pytest.fixture(params=["sqlite", pytest.param("cosmos", marks=pytest.mark.node)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return settings_for_tests(tmp_path)
    server: CosmosServer = request.getfixturevalue("cosmos")
    database = fresh_database_name("retention")
    return settings_for_tests(
        tmp_path,
        storage_url=server.storage_url(database),
        **{**STORE_SETTINGS, "cosmos_database": database},
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time() - 5 * 365 * DAY)


@pytest.fixture
async def store(settings: Settings, clock: Clock) -> AsyncIterator[DocumentStore]:
    document_store = open_document_store(settings.storage_url, settings, clock=clock)
    await document_store.open()
    yield document_store
    await document_store.close()


async def kinds_in(store: DocumentStore) -> Counter[str]:
    """How many live documents of each kind with a period the store holds."""
    return Counter(
        {kind: len(await store.list_kind(kind)) for kind in EXPIRING if await store.list_kind(kind)}
    )


async def test_a_journeys_records_go_when_their_periods_end(
    settings: Settings, store: DocumentStore, clock: Clock
) -> None:
    chat = Chat(settings, store)
    await reach_handoff(chat)
    purge = chat.service.retention.run_once
    kept = await kinds_in(store)
    assert {"state", "card_answer", "profile", "handoff", "consent_event"} <= set(kept)

    clock.at_day(29.9)
    assert (await purge()).documents == 0
    assert await kinds_in(store) == kept

    clock.at_day(30.1)  # BOT_STATE_TTL_DAYS: the conversation and its card answers
    assert (await purge()).documents == kept["state"] + kept["card_answer"]
    assert set(await kinds_in(store)) == {"profile", "handoff", "consent_event"}

    clock.at_day(179.9)
    assert (await purge()).documents == 0
    clock.at_day(180.1)  # RETENTION_PROFILE_DAYS and RETENTION_HANDOFF_DAYS
    assert (await purge()).documents == 2
    assert set(await kinds_in(store)) == {"consent_event"}

    clock.at_day(1094.9)  # RETENTION_CONSENT_DAYS: the proof stays longest
    assert (await purge()).documents == 0
    clock.at_day(1095.1)
    assert (await purge()).documents == kept["consent_event"]
    assert await kinds_in(store) == Counter()
    assert await store.list_kind("stats") != []  # numbers without names are kept


async def test_a_withdrawal_keeps_the_whole_consent_history_for_the_full_period(
    settings: Settings, store: DocumentStore, clock: Clock
) -> None:
    chat = Chat(settings, store)
    await reach_handoff(chat)
    clock.at_day(100)
    await chat.send(value={"command": "withdraw"})
    assert chat.said("Sie haben Ihre Einwilligung widerrufen")
    events = await store.list_partition(CONSENT_EVENT, CLIENT)
    assert [event.body["action"] for event in events] == ["given", "withdrawn"]
    assert [event.expires_at for event in events] == [pytest.approx(clock.start + 1195 * DAY)] * 2

    clock.at_day(1194.9)  # the consent given on day 0 is kept as long as its withdrawal
    await chat.service.retention.run_once()
    assert len(await ConsentLog(store).events(CLIENT)) == 2
    clock.at_day(1195.1)
    await chat.service.retention.run_once()
    assert await ConsentLog(store).events(CLIENT) == []


async def test_an_appointment_keeps_the_handoff_and_the_consent_past_its_end(
    settings: Settings, store: DocumentStore, clock: Clock
) -> None:
    chat = Chat(settings, store)
    await reach_handoff(chat)
    [handoff] = await Handoffs(store).for_client(CLIENT)
    end = utc_now() + timedelta(days=400)

    def booked(stored: Handoff) -> None:
        stored.meeting = {
            "id": "m-1",
            "start": (end - timedelta(minutes=45)).isoformat(),
            "end": end.isoformat(),
        }

    await Handoffs(store).update(CLIENT, handoff.handoff_id, booked)
    await ConsentLog(store).keep_past(CLIENT, end)  # what the desk does on booking

    [stored] = await store.list_kind("handoff")
    assert stored.expires_at == pytest.approx(clock.start + (400 + 180) * DAY, abs=5)
    [event] = await store.list_kind(CONSENT_EVENT)
    assert event.expires_at == pytest.approx(clock.start + (400 + 1095) * DAY, abs=5)
    await chat.send(value={"command": "withdraw"})  # a later event: kept as long as the rest
    events = await store.list_kind(CONSENT_EVENT)
    assert [e.body["action"] for e in events] == ["given", "withdrawn"]
    assert events[1].expires_at == pytest.approx(events[0].expires_at, abs=5)
    clock.at_day(579)
    await chat.service.retention.run_once()
    assert len(await store.list_kind("handoff")) == 1
    clock.at_day(581)
    await chat.service.retention.run_once()
    assert await store.list_kind("handoff") == []


@pytest.mark.node
async def test_cosmos_db_deletes_expired_items_itself(tmp_path: Path, cosmos: CosmosServer) -> None:
    """Each item carries its ``ttl``, so Cosmos DB removes it without the purge."""
    database = fresh_database_name("retention")
    settings = settings_for_tests(
        tmp_path,
        storage_url=cosmos.storage_url(database),
        **{**STORE_SETTINGS, "cosmos_database": database},
    )
    store = open_document_store(settings.storage_url, settings)
    await store.open()
    try:
        await reach_handoff(Chat(settings, store))
    finally:
        await store.close()
    items = await raw_items(cosmos, database)
    ttl = {item["kind"]: item.get("ttl") for item in items}
    assert ttl["profile"] == 180 * DAY
    assert ttl["handoff"] == 180 * DAY
    assert ttl["consent_event"] == 1095 * DAY
    assert ttl["state"] == 30 * DAY
    assert all(item.get("ttl") for item in items if item["kind"] != "stats")


async def raw_items(cosmos: CosmosServer, database: str) -> list[dict[str, Any]]:
    client = CosmosClient(
        cosmos.url,
        credential=KEY,
        enable_endpoint_discovery=False,
        connection_verify=False,
        headers={"x-ms-documentdb-query-enablecrosspartition": "true"},
    )
    try:
        found = []
        for container in ("state", "records"):
            pages = (
                client.get_database_client(database)
                .get_container_client(container)
                .query_items("SELECT * FROM c")
            )
            found += [item async for item in pages]
        return found
    finally:
        await client.close()


async def test_every_kind_a_journey_stores_has_a_retention_rule(tmp_path: Path) -> None:
    settings = settings_for_tests(tmp_path)
    store = open_document_store(settings.storage_url, settings)
    await store.open()
    try:
        chat = Chat(settings, store)
        await reach_handoff(chat)
        await chat.send(value={"command": "withdraw"})
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "bot.db") as database:
        stored = {kind for (kind,) in database.execute("SELECT DISTINCT kind FROM documents")}
    assert {"state", "profile", "handoff", "consent_event", "stats"} <= stored
    assert stored <= set(KINDS)


async def test_records_from_before_retention_get_the_expiry_they_would_have_had(
    settings: Settings, store: DocumentStore, clock: Clock
) -> None:
    """An upgrade: profiles, handoffs and consent events written without an expiry."""
    now = utc_now()

    def ago(days: int) -> str:
        return (now - timedelta(days=days)).isoformat()

    await store.create("profile", "c1", {"client_id": "c1", "updated_at": ago(100)}, partition="c1")
    await store.create(
        "handoff",
        "c1:h1",
        {"updated_at": ago(300), "meeting": {"end": ago(170)}},
        partition="c1",
    )
    await store.create("handoff", "c1:h2", {"updated_at": "not a time"}, partition="c1")
    for event_id, days in (("given-1", 1000), ("withdrawn-1", 900)):
        await store.create(CONSENT_EVENT, f"c1:{event_id}", {"at": ago(days)}, partition="c1")
    await store.create("stats", "2026-W49:deletions", {"count": 1}, partition="s")  # kept

    report = await purge_with(settings, store)
    assert report.backfilled == 5
    expiry = {d.key: d.expires_at for kind in KINDS for d in await store.list_kind(kind)}
    assert expiry == {
        "c1": pytest.approx(clock.now + 80 * DAY, abs=5),
        "c1:h1": pytest.approx(clock.now + 10 * DAY, abs=5),  # 180 days past the appointment
        "c1:h2": pytest.approx(clock.now + 180 * DAY, abs=5),  # no time to read: from now
        "c1:given-1": pytest.approx(clock.now + 195 * DAY, abs=5),  # both from the last event
        "c1:withdrawn-1": pytest.approx(clock.now + 195 * DAY, abs=5),
        "2026-W49:deletions": None,
    }
    assert (await purge_with(settings, store)).backfilled == 0  # once is enough


async def purge_with(settings: Settings, store: DocumentStore) -> PurgeReport:
    return await Chat(settings, store).service.retention.run_once()
