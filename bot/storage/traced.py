"""Storage calls inside a recorded turn as spans and as latency measurements.

A span names the operation and the record kind (``storage.get consent_event``), never a key
or partition: those are client ids. ``bot.storage.duration`` is measured on the same calls:
the traced turns are a random sample (every turn while it is quiet, about five a second when
busy), so the distribution is the service's at a fraction of the cost of measuring every call —
OpenTelemetry's Python histograms cost more than a SQLite read. Without a configured SDK (no
exporter, see ``bot/hosting/telemetry.py``) nothing is recorded at all.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from opentelemetry import metrics

from bot.observability import child_span
from bot.storage.documents import Document, DocumentStore, JsonObject

_meter = metrics.get_meter("videoberatung.storage")
STORAGE_DURATION = _meter.create_histogram(
    "bot.storage.duration", unit="ms", description="Time a storage call took"
)


class TracedStore(DocumentStore):
    """Wraps a store; the spans are children of the turn (or job) that makes the call."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner
        self.APPEND_ONLY_KINDS = inner.APPEND_ONLY_KINDS
        self._system = type(inner).__name__.removesuffix("DocumentStore").lower() or "store"

    @asynccontextmanager
    async def _span(self, operation: str, kind: str = "") -> AsyncIterator[None]:
        attributes: dict[str, Any] = {"db.system": self._system, "db.operation.name": operation}
        if kind:
            attributes["bot.record_kind"] = kind
        with child_span(f"storage.{operation} {kind}".rstrip(), attributes) as span:
            if not span.is_recording():  # an unsampled turn, a background query: no cost
                yield
                return
            started = time.perf_counter()
            labels = {"db.operation.name": operation}
            try:
                yield
            except Exception as error:
                labels["error.type"] = type(error).__name__
                raise
            finally:
                STORAGE_DURATION.record((time.perf_counter() - started) * 1000, labels)

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> None:
        async with self._span("ping"):
            await self.inner.ping()

    async def get(self, kind: str, key: str, *, partition: str) -> Document | None:
        async with self._span("get", kind):
            return await self.inner.get(kind, key, partition=partition)

    async def create(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        async with self._span("create", kind):
            return await self.inner.create(
                kind, key, body, partition=partition, ttl_seconds=ttl_seconds
            )

    async def replace(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        etag: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        async with self._span("replace", kind):
            return await self.inner.replace(
                kind, key, body, partition=partition, etag=etag, ttl_seconds=ttl_seconds
            )

    async def upsert(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        async with self._span("upsert", kind):
            return await self.inner.upsert(
                kind, key, body, partition=partition, ttl_seconds=ttl_seconds
            )

    async def delete(self, kind: str, key: str, *, partition: str) -> bool:
        async with self._span("delete", kind):
            return await self.inner.delete(kind, key, partition=partition)

    async def list_partition(self, kind: str, partition: str) -> list[Document]:
        async with self._span("list_partition", kind):
            return await self.inner.list_partition(kind, partition)

    async def list_kind(self, kind: str) -> list[Document]:
        async with self._span("list_kind", kind):
            return await self.inner.list_kind(kind)

    async def extend_expiry(self, kind: str, partition: str, ttl_seconds: int) -> int:
        async with self._span("extend_expiry", kind):
            return await self.inner.extend_expiry(kind, partition, ttl_seconds)

    async def purge_expired(self) -> int:
        async with self._span("purge_expired"):
            return await self.inner.purge_expired()
