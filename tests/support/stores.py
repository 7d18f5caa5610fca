"""Test wrappers around a real document store."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot.storage import Document, DocumentStore
from bot.storage.documents import JsonObject


class DelegatingStore(DocumentStore):
    """Passes every call to ``inner``; subclasses override what they watch or delay."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> None:
        await self.inner.ping()

    async def purge_expired(self) -> int:
        return await self.inner.purge_expired()

    async def get(self, kind: str, key: str, *, partition: str) -> Document | None:
        return await self.inner.get(kind, key, partition=partition)

    async def create(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        return await self.inner.create(kind, key, body, **options)

    async def replace(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        return await self.inner.replace(kind, key, body, **options)

    async def upsert(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        return await self.inner.upsert(kind, key, body, **options)

    async def delete(self, kind: str, key: str, *, partition: str) -> bool:
        return await self.inner.delete(kind, key, partition=partition)

    async def list_partition(self, kind: str, partition: str) -> list[Document]:
        return await self.inner.list_partition(kind, partition)

    async def list_kind(self, kind: str) -> list[Document]:
        return await self.inner.list_kind(kind)

    async def extend_expiry(self, kind: str, partition: str, ttl_seconds: int) -> int:
        return await self.inner.extend_expiry(kind, partition, ttl_seconds)


class CountingStore(DelegatingStore):
    """Counts every data call by operation and kind."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.calls: Counter[tuple[str, str]] = Counter()

    async def get(self, kind: str, key: str, *, partition: str) -> Document | None:
        self.calls[("get", kind)] += 1
        return await super().get(kind, key, partition=partition)

    async def create(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self.calls[("create", kind)] += 1
        return await super().create(kind, key, body, **options)

    async def replace(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self.calls[("replace", kind)] += 1
        return await super().replace(kind, key, body, **options)

    async def upsert(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self.calls[("upsert", kind)] += 1
        return await super().upsert(kind, key, body, **options)

    async def delete(self, kind: str, key: str, *, partition: str) -> bool:
        self.calls[("delete", kind)] += 1
        return await super().delete(kind, key, partition=partition)

    async def list_partition(self, kind: str, partition: str) -> list[Document]:
        self.calls[("list", kind)] += 1
        return await super().list_partition(kind, partition)
