"""The document-store interface every back end implements.

Documents are JSON objects addressed by ``(kind, key)`` within a ``partition`` (the client,
for domain records; the conversation, for bot state). Every call names the partition, so that a
partitioned back end such as Cosmos DB can answer with a point read. Every change carries an
eTag; ``replace`` only succeeds with the current one, so two turns racing on the same record
never lose an update.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]
#: seconds since the epoch; stores take one so that tests can move time (``time.time``)
Clock = Callable[[], float]


class StoreError(Exception):
    """Base class of storage errors."""


class ConflictError(StoreError):
    """The eTag did not match, or a create found the document already there."""


class AppendOnlyError(StoreError):
    """An attempt to change or delete a record of an append-only kind."""


class StoreUnavailableError(StoreError):
    """The back end does not answer."""


@dataclass(frozen=True, slots=True)
class Document:
    kind: str
    key: str
    partition: str
    body: JsonObject
    etag: str
    #: seconds since the epoch after which the document is gone; ``None``: no expiry yet
    expires_at: float | None = None


class DocumentStore(ABC):
    """Back-end independent storage of JSON documents with optimistic concurrency."""

    #: kinds whose documents can only be created, never replaced; they are deleted only once
    #: their retention period has run out (``extend_expiry`` sets it, ``purge_expired`` ends it)
    APPEND_ONLY_KINDS: frozenset[str] = frozenset({"consent_event"})

    def refuse_append_only(self, kind: str) -> None:
        """Raise ``AppendOnlyError`` before a replace or delete of an append-only kind."""
        if kind in self.APPEND_ONLY_KINDS:
            raise AppendOnlyError(f"{kind} records are append-only")

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the back end answers."""

    @abstractmethod
    async def get(self, kind: str, key: str, *, partition: str) -> Document | None: ...

    @abstractmethod
    async def create(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        """Insert a new document; ``ConflictError`` if the key exists."""

    @abstractmethod
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
        """Overwrite a document if ``etag`` is still current; else ``ConflictError``."""

    async def save(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        read: Document | None,
        ttl_seconds: int | None = None,
    ) -> Document:
        """Write back a read-modify-write: create if the document was absent when ``read``,
        otherwise replace it guarded by the eTag it was read with. ``ConflictError`` means
        someone else wrote in between: read again and decide again."""
        if read is None:
            return await self.create(kind, key, body, partition=partition, ttl_seconds=ttl_seconds)
        return await self.replace(
            kind, key, body, partition=partition, etag=read.etag, ttl_seconds=ttl_seconds
        )

    async def create_or_get(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> tuple[Document, bool]:
        """Insert unless the key exists: the stored document, and ``True`` if this call
        created it. For records whose id says what caused them — a second attempt (a turn
        that runs again, another instance) gets the first one's document."""
        while True:
            try:
                created = await self.create(
                    kind, key, body, partition=partition, ttl_seconds=ttl_seconds
                )
            except ConflictError:
                stored = await self.get(kind, key, partition=partition)
                if stored is not None:
                    return stored, False
                continue  # it expired or was deleted in between: create it after all
            return created, True

    @abstractmethod
    async def upsert(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        """Write unconditionally (for callers that own the key outright)."""

    @abstractmethod
    async def delete(self, kind: str, key: str, *, partition: str) -> bool:
        """Remove a document; ``True`` if there was one."""

    @abstractmethod
    async def list_partition(self, kind: str, partition: str) -> list[Document]:
        """All live documents of a kind in one partition, oldest first."""

    @abstractmethod
    async def list_kind(self, kind: str) -> list[Document]:
        """All live documents of a kind in every partition, oldest first. It reads the whole
        kind: for read-only reports (the consent audit), never on a client's turn."""

    @abstractmethod
    async def extend_expiry(self, kind: str, partition: str, ttl_seconds: int) -> int:
        """Keep every live document of ``kind`` in ``partition`` at least ``ttl_seconds`` from
        now: an expiry is only ever moved later (or set where there was none), and the body is
        not touched — the one change an append-only record allows, because its retention
        period runs from a later event. Returns how many documents got a later expiry."""

    @abstractmethod
    async def purge_expired(self) -> int:
        """Remove documents past their time to live, of every kind; returns how many."""
