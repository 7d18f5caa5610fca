"""The storage contract every back end must keep (today: SQLite; Cosmos DB joins here)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botbuilder.dialogs import DialogState

from bot.storage import ConflictError, DocumentStore, open_document_store
from bot.storage.bot_state import DocumentStateStorage
from bot.storage.documents import AppendOnlyError


@pytest.fixture(params=["sqlite"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    store = open_document_store(f"sqlite:///{tmp_path / 'contract.db'}")
    await store.open()
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


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    store = open_document_store(url)
    await store.open()
    await store.create("profile", "c1", {"stage": "consent"}, partition="c1")
    await store.close()
    reopened = open_document_store(url)
    await reopened.open()
    document = await reopened.get("profile", "c1", partition="c1")
    await reopened.close()
    assert document is not None
    assert document.body == {"stage": "consent"}


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


def test_unknown_storage_url_is_refused() -> None:
    with pytest.raises(ValueError, match="BOT_STORAGE"):
        open_document_store("mongodb://nope")
