"""The conversation state changed outside a turn (the measured tech check's result): under the
turn lock when it comes free in time, eTag-guarded always, and never for a conversation that
is not stored."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter

from bot.hosting import session_store
from bot.hosting.session_store import CHANGE_ATTEMPTS, SessionStore
from bot.hosting.turn_locks import KeyedLocks
from bot.storage import ConflictError, Document, DocumentStore
from bot.storage.documents import JsonObject
from tests.support.stores import DelegatingStore

CONVERSATION = "a:conversation-1"
KEY = f"msteams/conversations/{CONVERSATION}"
REFERENCE = {
    "channelId": "msteams",
    "serviceUrl": "https://smba.example.test/",
    "conversation": {"id": CONVERSATION},
    "bot": {"id": "28:bot"},
    "user": {"id": "29:client"},
}


class LosingRaces(DelegatingStore):
    """Another instance saves first, ``losses`` times."""

    def __init__(self, inner: DocumentStore, losses: int) -> None:
        super().__init__(inner)
        self.losses = losses
        self.replaces = 0

    async def replace(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self.replaces += 1
        if self.replaces <= self.losses:
            raise ConflictError("another instance saved first")
        return await super().replace(kind, key, body, **options)


def sessions_over(store: DocumentStore, locks: KeyedLocks | None = None) -> SessionStore:
    return SessionStore(store, TestAdapter(), KeyedLocks() if locks is None else locks)


async def stored_session(store: DocumentStore) -> dict[str, Any] | None:
    document = await store.get("state", KEY, partition=KEY)
    return None if document is None else document.body.get("session")


def note_measured(session: dict[str, Any]) -> bool:
    session.setdefault("answers", {})["measured"] = {"outcome": "ready"}
    return True


async def seed(store: DocumentStore) -> None:
    await store.upsert("state", KEY, {"session": {"locale": "de", "answers": {}}}, partition=KEY)


async def test_a_change_reaches_the_stored_session(store: DocumentStore) -> None:
    await seed(store)
    assert await sessions_over(store).change_session(REFERENCE, note_measured)
    session = await stored_session(store)
    assert session is not None
    assert session["answers"]["measured"] == {"outcome": "ready"}
    assert session["locale"] == "de"


async def test_an_unknown_conversation_is_not_created(store: DocumentStore) -> None:
    assert not await sessions_over(store).change_session(REFERENCE, note_measured)
    assert await store.get("state", KEY, partition=KEY) is None


async def test_a_change_that_declines_writes_nothing(store: DocumentStore) -> None:
    await seed(store)
    before = await store.get("state", KEY, partition=KEY)
    assert not await sessions_over(store).change_session(REFERENCE, lambda session: False)
    after = await store.get("state", KEY, partition=KEY)
    assert before is not None
    assert after is not None
    assert after.etag == before.etag


async def test_a_lost_race_reads_again_and_applies_the_change_once(store: DocumentStore) -> None:
    await seed(store)
    racing = LosingRaces(store, losses=CHANGE_ATTEMPTS - 1)
    calls = []

    def change(session: dict[str, Any]) -> bool:
        calls.append(1)
        return note_measured(session)

    assert await sessions_over(racing).change_session(REFERENCE, change)
    assert len(calls) == CHANGE_ATTEMPTS  # applied to each fresh read, stored once
    session = await stored_session(store)
    assert session is not None
    assert session["answers"]["measured"] == {"outcome": "ready"}


async def test_a_conversation_that_stays_busy_gives_up_unchanged(store: DocumentStore) -> None:
    await seed(store)
    racing = LosingRaces(store, losses=CHANGE_ATTEMPTS)
    assert not await sessions_over(racing).change_session(REFERENCE, note_measured)
    assert racing.replaces == CHANGE_ATTEMPTS
    session = await stored_session(store)
    assert session is not None
    assert "measured" not in session["answers"]


async def test_it_waits_for_a_running_turn(store: DocumentStore) -> None:
    await seed(store)
    locks = KeyedLocks()
    sessions = sessions_over(store, locks)
    turn_done = asyncio.Event()
    order: list[str] = []

    async def turn() -> None:
        async with locks.hold(CONVERSATION):
            await asyncio.sleep(0.05)
            order.append("turn")
            turn_done.set()

    def change(session: dict[str, Any]) -> bool:
        order.append("change")
        return note_measured(session)

    running = asyncio.create_task(turn())
    await asyncio.sleep(0)  # the turn holds the lock
    assert await sessions.change_session(REFERENCE, change)
    await running
    assert order == ["turn", "change"]


async def test_a_turn_that_takes_too_long_is_not_waited_for(
    store: DocumentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_store, "LOCK_WAIT_SECONDS", 0.05)
    await seed(store)
    locks = KeyedLocks()
    release = asyncio.Event()

    async def slow_turn() -> None:
        async with locks.hold(CONVERSATION):
            await release.wait()

    running = asyncio.create_task(slow_turn())
    await asyncio.sleep(0)
    assert await sessions_over(store, locks).change_session(REFERENCE, note_measured)
    session = await stored_session(store)
    assert session is not None
    assert session["answers"]["measured"] == {"outcome": "ready"}
    release.set()
    await running
