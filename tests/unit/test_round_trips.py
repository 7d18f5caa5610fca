"""What a turn costs in storage: one state read and one state write in the steady state;
domain records are touched only when they change."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bot.storage import Document, DocumentStore
from bot.storage.documents import JsonObject
from tests.support.journey import Chat
from tests.unit.test_journey import reach_tech_check


class CountingStore(DocumentStore):
    """Delegates to a real store and counts every call by operation and kind."""

    def __init__(self, inner: DocumentStore) -> None:
        self._inner = inner
        self.calls: Counter[tuple[str, str]] = Counter()

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        await self._inner.close()

    async def ping(self) -> None:
        await self._inner.ping()

    async def purge_expired(self) -> int:
        return await self._inner.purge_expired()

    async def get(self, kind: str, key: str, *, partition: str) -> Document | None:
        self.calls[("get", kind)] += 1
        return await self._inner.get(kind, key, partition=partition)

    async def create(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self.calls[("create", kind)] += 1
        return await self._inner.create(kind, key, body, **options)

    async def replace(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self.calls[("replace", kind)] += 1
        return await self._inner.replace(kind, key, body, **options)

    async def upsert(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self.calls[("upsert", kind)] += 1
        return await self._inner.upsert(kind, key, body, **options)

    async def delete(self, kind: str, key: str, *, partition: str) -> bool:
        self.calls[("delete", kind)] += 1
        return await self._inner.delete(kind, key, partition=partition)

    async def list_partition(self, kind: str, partition: str) -> list[Document]:
        self.calls[("list", kind)] += 1
        return await self._inner.list_partition(kind, partition)


@pytest.fixture
def counting(store: DocumentStore) -> CountingStore:
    return CountingStore(store)


async def test_a_steady_state_turn_reads_and_writes_bot_state_once(settings, counting) -> None:
    chat = Chat(settings, counting)
    await reach_tech_check(chat)
    for answer in ("Laptop", "ja", "ja"):  # questions inside one step: nothing else changes
        counting.calls.clear()
        await chat.send(answer)
        assert counting.calls == Counter({("get", "state"): 1, ("replace", "state"): 1}), answer


async def test_domain_records_are_written_only_when_they_change(settings, counting) -> None:
    chat = Chat(settings, counting)
    await reach_tech_check(chat)
    for answer in ("Laptop", "ja", "ja", "ja"):
        await chat.send(answer)
    counting.calls.clear()
    await chat.send("wlan")  # the tech check ends: the client's stage changes
    writes = {op_kind for op_kind in counting.calls if op_kind[0] != "get"}
    assert writes == {("replace", "state"), ("replace", "profile")}
    counting.calls.clear()
    await chat.send("wlan")  # not an answer to the consent question: nothing but state
    assert {kind for _, kind in counting.calls} == {"state"}
