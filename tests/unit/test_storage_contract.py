"""The storage contract every back end must keep: SQLite, and Azure Cosmos DB (on a local,
in-memory Cosmos DB server started for this module)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from botbuilder.dialogs import DialogState

from bot.config import ConfigurationError, Settings
from bot.hosting.state_storage import DocumentStateStorage
from bot.storage import ConflictError, DocumentStore, StoreUnavailableError, open_document_store
from bot.storage.cosmos import CosmosDocumentStore
from bot.storage.cosmos_config import EMULATOR_KEY, CosmosConfig
from bot.storage.documents import AppendOnlyError
from bot.storage.sqlite import SCHEMA
from tests.support.cosmos_server import (
    CosmosServer,
    fresh_database_name,
    store_settings,
)

# Cosmos DB runs on the local server from node_modules (like the other "node" tests).
BACKENDS = ["sqlite", pytest.param("cosmos", marks=pytest.mark.node)]


@dataclass(frozen=True)
class Backend:
    """Where a back end keeps its data: ``open()`` may be called more than once."""

    name: str
    url: str
    settings: Settings

    async def open(self, clock: Clock = time.time) -> DocumentStore:
        store = open_document_store(self.url, self.settings, clock=clock)
        await store.open()
        return store


class Clock:
    """A store's time, moved by the test: it starts at ``start`` (seconds since the epoch)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, *, days: float = 0, seconds: float = 0) -> None:
        self.now += days * 86400 + seconds


@pytest.fixture(params=BACKENDS)
def backend_kind(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", f"sqlite:///{tmp_path / 'contract.db'}", Settings(_env_file=None))
    server: CosmosServer = request.getfixturevalue("cosmos")
    # One database per test keeps the tests apart on the shared server.
    return Backend(
        "cosmos",
        server.storage_url(fresh_database_name()),
        store_settings(),
    )


@pytest.fixture
async def backend(backend_kind: Backend) -> AsyncIterator[DocumentStore]:
    store = await backend_kind.open()
    yield store
    await store.close()


async def test_create_get_and_duplicate_create(backend: DocumentStore) -> None:
    created = await backend.create("profile", "c1", {"stage": "welcome"}, partition="c1")
    fetched = await backend.get("profile", "c1", partition="c1")
    assert fetched is not None
    assert (fetched.body, fetched.etag) == ({"stage": "welcome"}, created.etag)
    with pytest.raises(ConflictError):
        await backend.create("profile", "c1", {"stage": "other"}, partition="c1")
    assert await backend.get("profile", "missing", partition="missing") is None
    assert await backend.get("profile", "c1", partition="someone-else") is None


async def test_create_or_get_creates_once_and_then_returns_the_first(
    backend: DocumentStore,
) -> None:
    first, created = await backend.create_or_get("card_answer", "c1:k", {"a": 1}, partition="c1")
    again, created_again = await backend.create_or_get(
        "card_answer", "c1:k", {"a": 2}, partition="c1"
    )
    assert (created, created_again) == (True, False)
    assert (again.body, again.etag) == ({"a": 1}, first.etag)
    await backend.create("card_answer", "c1:gone", {"a": 0}, partition="c1", ttl_seconds=0)
    fresh, created = await backend.create_or_get("card_answer", "c1:gone", {"a": 3}, partition="c1")
    assert (fresh.body, created) == ({"a": 3}, True)  # an expired leftover counts as absent


async def test_replace_with_a_stale_etag_is_refused(backend: DocumentStore) -> None:
    first = await backend.create("handoff", "c1:h1", {"n": 0}, partition="c1")
    second = await backend.replace("handoff", "c1:h1", {"n": 1}, partition="c1", etag=first.etag)
    assert second.etag != first.etag
    with pytest.raises(ConflictError):
        await backend.replace("handoff", "c1:h1", {"n": 99}, partition="c1", etag=first.etag)
    with pytest.raises(ConflictError):
        await backend.replace("handoff", "nothing-here", {"n": 1}, partition="c1", etag=first.etag)
    current = await backend.get("handoff", "c1:h1", partition="c1")
    assert current is not None
    assert current.body == {"n": 1}


async def test_concurrent_read_modify_write_loses_no_update(backend: DocumentStore) -> None:
    await backend.create("counter", "k", {"n": 0}, partition="k")

    async def increment() -> None:
        while True:
            document = await backend.get("counter", "k", partition="k")
            assert document is not None
            await asyncio.sleep(0)  # let the others read the same version
            try:
                await backend.replace(
                    "counter", "k", {"n": document.body["n"] + 1}, partition="k", etag=document.etag
                )
                return
            except ConflictError:
                continue

    await asyncio.gather(*(increment() for _ in range(25)))
    final = await backend.get("counter", "k", partition="k")
    assert final is not None
    assert final.body["n"] == 25


async def test_consent_events_are_append_only(backend: DocumentStore) -> None:
    await backend.create("consent_event", "c1:e1", {"action": "given"}, partition="c1")
    with pytest.raises(AppendOnlyError):
        await backend.replace("consent_event", "c1:e1", {"action": "x"}, partition="c1", etag="*")
    with pytest.raises(AppendOnlyError):
        await backend.upsert("consent_event", "c1:e1", {"action": "x"}, partition="c1")
    with pytest.raises(AppendOnlyError):
        await backend.delete("consent_event", "c1:e1", partition="c1")
    with pytest.raises(ConflictError):
        await backend.create("consent_event", "c1:e1", {"action": "x"}, partition="c1")
    [event] = await backend.list_partition("consent_event", "c1")
    assert event.body == {"action": "given"}


async def test_partitions_list_in_creation_order_and_stay_apart(backend: DocumentStore) -> None:
    for index in range(3):
        await backend.create("handoff", f"c1:h{index}", {"i": index}, partition="c1")
    await backend.create("handoff", "c2:h0", {"i": 99}, partition="c2")
    assert [d.body["i"] for d in await backend.list_partition("handoff", "c1")] == [0, 1, 2]
    assert [d.key for d in await backend.list_partition("handoff", "c2")] == ["c2:h0"]


async def test_a_kind_lists_across_partitions_oldest_first_and_live_only(
    backend: DocumentStore,
) -> None:
    """For reports such as the consent audit: every partition, no other kind, nothing expired."""
    await backend.create("consent_event", "c2:e1", {"n": 1}, partition="c2")
    await backend.create("consent_event", "c1:e2", {"n": 2}, partition="c1")
    await backend.create("consent_event", "c2:e3", {"n": 3}, partition="c2")
    await backend.create("handoff", "c1:h1", {"n": 99}, partition="c1")
    await backend.create("handoff", "c3:h0", {"n": 0}, partition="c3", ttl_seconds=-1)
    listed = await backend.list_kind("consent_event")
    assert [(d.partition, d.key, d.body["n"]) for d in listed] == [
        ("c2", "c2:e1", 1),
        ("c1", "c1:e2", 2),
        ("c2", "c2:e3", 3),
    ]
    assert [d.key for d in await backend.list_kind("handoff")] == ["c1:h1"]
    assert await backend.list_kind("profile") == []


async def test_expired_documents_are_invisible_and_purged(backend: DocumentStore) -> None:
    await backend.create("state", "old", {"x": 1}, partition="old", ttl_seconds=-1)
    await backend.create("state", "new", {"x": 2}, partition="new", ttl_seconds=3600)
    assert await backend.get("state", "old", partition="old") is None
    assert await backend.purge_expired() == 1
    assert await backend.get("state", "new", partition="new") is not None
    await backend.create("state", "old", {"x": 3}, partition="old")  # the key is free again


async def test_bot_state_round_trips_and_refuses_a_stale_write(backend: DocumentStore) -> None:
    storage = DocumentStateStorage(backend, ttl_seconds=3600)
    dialog_state = DialogState()
    await storage.write({"conv/1": {"dialogs": dialog_state, "session": {"locale": "en"}}})
    first = (await storage.read(["conv/1"]))["conv/1"]
    second = (await storage.read(["conv/1"]))["conv/1"]
    assert isinstance(first["dialogs"], DialogState)
    assert first["session"] == {"locale": "en"}
    first["session"]["locale"] = "de"
    await storage.write({"conv/1": first})
    second["session"]["locale"] = "fr"
    with pytest.raises(ConflictError):
        await storage.write({"conv/1": second})
    assert (await storage.read(["conv/1"]))["conv/1"]["session"] == {"locale": "de"}
    await storage.delete(["conv/1"])
    assert await storage.read(["conv/1"]) == {}


async def test_data_survives_a_restart(backend_kind: Backend) -> None:
    store = await backend_kind.open()
    await store.create("profile", "c1", {"stage": "consent"}, partition="c1")
    await store.close()
    reopened = await backend_kind.open()
    document = await reopened.get("profile", "c1", partition="c1")
    await reopened.close()
    assert document is not None
    assert document.body == {"stage": "consent"}


async def test_time_is_the_store_clock(backend_kind: Backend) -> None:
    clock = Clock(time.time())
    store = await backend_kind.open(clock)
    try:
        created = await store.create("handoff", "c1:h1", {"n": 1}, partition="c1", ttl_seconds=100)
        await store.create("profile", "c1", {"n": 2}, partition="c1")
        assert created.expires_at == pytest.approx(clock.now + 100)
        fetched = await store.get("handoff", "c1:h1", partition="c1")
        assert fetched is not None
        assert fetched.expires_at == pytest.approx(clock.now + 100)
        [profile] = await store.list_kind("profile")
        assert profile.expires_at is None
        clock.advance(seconds=99)
        assert await store.purge_expired() == 0
        assert [d.key for d in await store.list_partition("handoff", "c1")] == ["c1:h1"]
        clock.advance(seconds=2)
        assert await store.get("handoff", "c1:h1", partition="c1") is None
        assert await store.purge_expired() == 1
        clock.advance(days=3650)
        assert await store.get("profile", "c1", partition="c1") is not None  # no expiry
    finally:
        await store.close()


async def test_an_expiry_is_only_ever_extended_and_the_body_stays(backend_kind: Backend) -> None:
    clock = Clock(time.time())
    store = await backend_kind.open(clock)
    try:
        await store.create("consent_event", "c1:a", {"n": 1}, partition="c1", ttl_seconds=100)
        await store.create("consent_event", "c1:b", {"n": 2}, partition="c1")
        await store.create("consent_event", "c2:a", {"n": 3}, partition="c2", ttl_seconds=100)
        assert await store.extend_expiry("consent_event", "c1", 1000) == 2
        events = await store.list_partition("consent_event", "c1")
        assert [(e.body, e.expires_at) for e in events] == [
            ({"n": 1}, pytest.approx(clock.now + 1000)),
            ({"n": 2}, pytest.approx(clock.now + 1000)),
        ]
        assert await store.extend_expiry("consent_event", "c1", 10) == 0  # never shortened
        [other] = await store.list_partition("consent_event", "c2")
        assert other.expires_at == pytest.approx(clock.now + 100)  # another partition
        with pytest.raises(AppendOnlyError):
            await store.replace("consent_event", "c1:a", {"n": 9}, partition="c1", etag="*")
        clock.advance(seconds=999)
        assert len(await store.list_partition("consent_event", "c1")) == 2
        clock.advance(seconds=2)
        assert await store.list_partition("consent_event", "c1") == []
        assert await store.extend_expiry("consent_event", "c1", 1000) == 0  # gone stays gone
    finally:
        await store.close()


async def test_consent_events_are_purged_once_their_retention_ends(backend_kind: Backend) -> None:
    # The clock starts in the past, so the database's own clock agrees that they expired.
    clock = Clock(time.time() - 10 * 86400)
    store = await backend_kind.open(clock)
    try:
        await store.create("consent_event", "c1:a", {"n": 1}, partition="c1", ttl_seconds=86400)
        await store.create("consent_event", "c1:b", {"n": 2}, partition="c1")  # no expiry yet
        await store.extend_expiry("consent_event", "c1", 3 * 86400)
        clock.advance(days=2)
        assert await store.purge_expired() == 0
        clock.advance(days=2)
        assert await store.purge_expired() == 2
        assert await store.list_kind("consent_event") == []
    finally:
        await store.close()


async def test_sqlite_refuses_rewriting_consent_even_with_raw_sql(tmp_path: Path) -> None:
    path = tmp_path / "raw.db"
    store = open_document_store(f"sqlite:///{path}")
    await store.open()
    await store.create("consent_event", "c1:e1", {"action": "given"}, partition="c1")
    await store.close()
    with sqlite3.connect(path) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE documents SET body='{}' WHERE kind='consent_event'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM documents WHERE kind='consent_event'")
        # a retention date may be set, and moved later, but not earlier …
        later = time.time() + 3600
        connection.execute("UPDATE documents SET expires_at=? WHERE kind='consent_event'", (later,))
        connection.execute(
            "UPDATE documents SET expires_at=? WHERE kind='consent_event'", (later + 1,)
        )
        for rewrite in ("expires_at=expires_at-10", "expires_at=NULL", "etag='x'", "key='c1:e2'"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(f"UPDATE documents SET {rewrite} WHERE kind='consent_event'")
        # … and the event is deleted only once that date has passed by the database's clock
        with pytest.raises(sqlite3.IntegrityError, match="retention period"):
            connection.execute("DELETE FROM documents WHERE kind='consent_event'")
        # nor is it replaced by inserting another over it
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute(
                "INSERT OR REPLACE INTO documents VALUES"
                " ('consent_event', 'c1:e1', 'c1', '{\"forged\":1}', 'x', 0, NULL)"
            )
        [(body,)] = connection.execute("SELECT body FROM documents WHERE kind='consent_event'")
        assert json.loads(body) == {"action": "given"}


async def test_sqlite_databases_with_the_old_consent_triggers_get_the_new_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA)
        connection.executescript(OLD_TRIGGERS)
    store = open_document_store(f"sqlite:///{path}")
    await store.open()
    try:
        await store.create("consent_event", "c1:e1", {"action": "given"}, partition="c1")
        assert await store.extend_expiry("consent_event", "c1", 60) == 1
    finally:
        await store.close()
    with sqlite3.connect(path) as connection:
        triggers = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert {"consent_event_fixed", "consent_event_kept"} <= triggers
    assert not {"consent_event_no_update", "consent_event_no_delete"} & triggers


#: what the database said before consent events had a retention period
OLD_TRIGGERS = """
CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON documents
WHEN OLD.kind = 'consent_event' BEGIN SELECT RAISE(ABORT, 'append-only: consent_event'); END;
CREATE TRIGGER consent_event_no_delete BEFORE DELETE ON documents
WHEN OLD.kind = 'consent_event' BEGIN SELECT RAISE(ABORT, 'append-only: consent_event'); END;
"""


def test_unknown_storage_url_is_refused() -> None:
    with pytest.raises(ValueError, match="BOT_STORAGE"):
        open_document_store("mongodb://nope")


# --- gaps found while adding Cosmos DB: both back ends must honour these ----------------------

AWKWARD_KEYS = [
    "msteams/conversations/a:1Xyz_AbC-19:abc@thread.v2/",
    "c1:h1?x=1#frag\\back slash",
    "Zoë Çelik – Müller/€ 😀",
    "k" * 400,  # longer than a Cosmos DB id may be
]


@pytest.mark.parametrize("key", AWKWARD_KEYS, ids=["teams", "url-chars", "unicode", "long"])
async def test_awkward_keys_and_partitions_round_trip(backend: DocumentStore, key: str) -> None:
    partition = f"p/{key[:40]}:ä"
    created = await backend.create("handoff", key, {"k": key}, partition=partition)
    fetched = await backend.get("handoff", key, partition=partition)
    assert fetched is not None
    assert (fetched.key, fetched.partition, fetched.body) == (key, partition, {"k": key})
    [listed] = await backend.list_partition("handoff", partition)
    assert (listed.key, listed.etag) == (key, created.etag)
    replaced = await backend.replace(
        "handoff", key, {"k": "new"}, partition=partition, etag=created.etag
    )
    assert replaced.key == key
    assert await backend.get("handoff", key + "x", partition=partition) is None
    assert await backend.delete("handoff", key, partition=partition)
    assert await backend.get("handoff", key, partition=partition) is None


async def test_json_bodies_round_trip(backend: DocumentStore) -> None:
    body = {
        "text": "Grüße aus Köln – „Videoberatung“ 😀",
        "int": 2**53 - 1,  # larger integers are not exact in Cosmos DB (IEEE doubles)
        "float": 1.5,
        "flags": [True, False, None],
        "nested": {"list": [{"a": 1}, [], {}], "empty": ""},
        "py/object": "botbuilder.dialogs.DialogState",
    }
    await backend.create("profile", "c1", body, partition="c1")
    fetched = await backend.get("profile", "c1", partition="c1")
    assert fetched is not None
    assert fetched.body == body


async def test_list_partition_returns_only_the_asked_kind(backend: DocumentStore) -> None:
    await backend.create("profile", "c1", {"kind": "profile"}, partition="c1")
    await backend.create("handoff", "c1:h1", {"kind": "handoff"}, partition="c1")
    await backend.create("consent_event", "c1:e1", {"kind": "consent"}, partition="c1")
    await backend.create("state", "c1", {"kind": "state"}, partition="c1")
    for kind in ("profile", "handoff", "consent_event", "state"):
        assert [d.kind for d in await backend.list_partition(kind, "c1")] == [kind]
    assert await backend.list_partition("dropout", "c1") == []


async def test_an_expired_document_is_gone_for_replace_list_and_create(
    backend: DocumentStore,
) -> None:
    old = await backend.create("handoff", "c1:h0", {"n": 0}, partition="c1", ttl_seconds=0)
    assert await backend.list_partition("handoff", "c1") == []
    with pytest.raises(ConflictError):
        await backend.replace("handoff", "c1:h0", {"n": 1}, partition="c1", etag=old.etag)
    fresh = await backend.create("handoff", "c1:h0", {"n": 2}, partition="c1")
    fetched = await backend.get("handoff", "c1:h0", partition="c1")
    assert fetched is not None
    assert (fetched.body, fetched.etag) == ({"n": 2}, fresh.etag)
    assert await backend.purge_expired() == 0  # the new one has no time to live
    assert [d.body for d in await backend.list_partition("handoff", "c1")] == [{"n": 2}]


async def test_purge_leaves_documents_without_a_time_to_live(backend: DocumentStore) -> None:
    await backend.create("profile", "forever", {"x": 0}, partition="forever")
    await backend.create("consent_event", "c1:e1", {"action": "given"}, partition="c1")
    await backend.create("state", "later", {"x": 1}, partition="later", ttl_seconds=3600)
    await backend.upsert("state", "gone", {"x": 2}, partition="gone", ttl_seconds=-5)
    assert await backend.get("state", "gone", partition="gone") is None
    assert await backend.purge_expired() == 1
    assert await backend.purge_expired() == 0
    for kind, key, partition in [
        ("profile", "forever", "forever"),
        ("consent_event", "c1:e1", "c1"),
        ("state", "later", "later"),
    ]:
        assert await backend.get(kind, key, partition=partition) is not None


async def test_replace_and_upsert_keep_the_creation_order(backend: DocumentStore) -> None:
    documents = [
        await backend.create("handoff", f"c1:h{i}", {"v": 0}, partition="c1") for i in range(3)
    ]
    await backend.replace("handoff", "c1:h0", {"v": 1}, partition="c1", etag=documents[0].etag)
    await backend.upsert("handoff", "c1:h1", {"v": 1}, partition="c1")
    listed = await backend.list_partition("handoff", "c1")
    assert [(d.key, d.body["v"]) for d in listed] == [("c1:h0", 1), ("c1:h1", 1), ("c1:h2", 0)]


async def test_upsert_and_delete(backend: DocumentStore) -> None:
    first = await backend.upsert("profile", "c1", {"v": 1}, partition="c1")
    second = await backend.upsert("profile", "c1", {"v": 2}, partition="c1")
    assert first.etag != second.etag
    fetched = await backend.get("profile", "c1", partition="c1")
    assert fetched is not None
    assert (fetched.body, fetched.etag) == ({"v": 2}, second.etag)
    assert not await backend.delete("profile", "c1", partition="elsewhere")
    assert await backend.delete("profile", "c1", partition="c1")
    assert not await backend.delete("profile", "c1", partition="c1")
    await backend.create("profile", "c1", {"v": 3}, partition="c1")  # the key is free again


async def test_a_closed_store_is_unavailable(backend: DocumentStore) -> None:
    await backend.close()
    with pytest.raises(StoreUnavailableError):
        await backend.ping()
    with pytest.raises(StoreUnavailableError):
        await backend.get("profile", "c1", partition="c1")


# --- choosing and configuring Cosmos DB ------------------------------------------------------


def cosmos_config(url: str, **settings: object) -> CosmosConfig:
    # No key, endpoint or options unless the test names them (whatever the shell has).
    store = open_document_store(url, store_settings(**{"cosmos_key": "", **settings}))
    assert isinstance(store, CosmosDocumentStore)
    return store.config


def test_cosmos_urls() -> None:
    account = "https://jc-bot.documents.azure.com:443/"
    config = cosmos_config("cosmos://", cosmos_endpoint=account)
    assert (config.endpoint, config.database, config.key) == (account, "videoberatung", None)
    assert config.verify_tls  # no key: the service's Entra identity signs in
    config = cosmos_config("cosmos://jc-bot.documents.azure.com", cosmos_key="a2V5")
    assert (config.endpoint, config.key, config.verify_tls) == (
        "https://jc-bot.documents.azure.com/",
        "a2V5",
        True,
    )
    config = cosmos_config("cosmos+http://127.0.0.1:8081/testdb", cosmos_database="ignored")
    assert (config.endpoint, config.database, config.verify_tls) == (
        "http://127.0.0.1:8081/",
        "testdb",
        False,
    )
    assert config.key == EMULATOR_KEY  # the emulator's published key, for loopback http only
    config = cosmos_config("cosmos://localhost:8081", cosmos_allow_insecure=True)
    assert (config.endpoint, config.verify_tls) == ("https://localhost:8081/", False)


@pytest.mark.parametrize(
    ("url", "settings", "message"),
    [
        ("cosmos://", {}, "COSMOS_ENDPOINT"),
        ("cosmos+http://10.1.2.3:8081", {}, "not loopback"),
        ("cosmos+http://10.1.2.3:8081", {"cosmos_allow_insecure": True}, "COSMOS_KEY"),
        ("cosmos://key:secret@jc-bot.documents.azure.com", {}, "COSMOS_KEY"),
        ("cosmos+https://", {}, "needs a host"),
        ("cosmos://", {"cosmos_endpoint": "ftp://jc-bot"}, "http"),
    ],
)
def test_cosmos_misconfiguration_is_refused(
    url: str, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        cosmos_config(url, **settings)


async def test_save_writes_back_what_was_read(backend: DocumentStore) -> None:
    absent = await backend.get("profile", "c9", partition="c9")
    first = await backend.save("profile", "c9", {"n": 1}, partition="c9", read=absent)
    with pytest.raises(ConflictError):  # it was absent when read, but is there now
        await backend.save("profile", "c9", {"n": 9}, partition="c9", read=absent)
    second = await backend.save("profile", "c9", {"n": 2}, partition="c9", read=first)
    with pytest.raises(ConflictError):  # written since ``first`` was read
        await backend.save("profile", "c9", {"n": 9}, partition="c9", read=first)
    current = await backend.get("profile", "c9", partition="c9")
    assert current is not None
    assert (current.body, current.etag) == ({"n": 2}, second.etag)
