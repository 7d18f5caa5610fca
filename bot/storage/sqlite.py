"""Embedded storage on SQLite (the default): one table of JSON documents.

Append-only kinds are protected by triggers in the database itself, so no code path (nor a
hand-written SQL statement, ``INSERT OR REPLACE`` included) can rewrite a consent event: its
body, key and eTag never change, its expiry can only move later (an event from before
retention, without one, can be given one), and it can be deleted only once that expiry has
passed by the database's own clock.

The database file and its folder are private (``private_files.py``). The store remembers which
file it opened: if that file is deleted or replaced while the service runs (an open SQLite
handle would go on writing into a file nobody will ever see again), every call — and so
``/readyz`` and every turn — fails with ``StoreUnavailableError`` instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.documents import (
    Clock,
    ConflictError,
    Document,
    DocumentStore,
    JsonObject,
    StoreUnavailableError,
)
from bot.storage.private_files import ensure_private_file, ensure_private_folder, make_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    partition TEXT NOT NULL,
    body TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS documents_by_partition ON documents (kind, partition, created_at);
"""

#: the database's own clock, in seconds since the epoch
DATABASE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
APPEND_ONLY_TRIGGERS = f"""
DROP TRIGGER IF EXISTS {{kind}}_no_update;
DROP TRIGGER IF EXISTS {{kind}}_no_delete;
CREATE TRIGGER IF NOT EXISTS {{kind}}_fixed BEFORE UPDATE ON documents
WHEN OLD.kind = '{{kind}}' AND (
    NEW.kind IS NOT OLD.kind OR NEW.key IS NOT OLD.key OR NEW.partition IS NOT OLD.partition
    OR NEW.body IS NOT OLD.body OR NEW.etag IS NOT OLD.etag OR NEW.created_at IS NOT OLD.created_at
    OR NEW.expires_at IS NULL OR NEW.expires_at < OLD.expires_at)
BEGIN SELECT RAISE(ABORT, 'append-only: {{kind}}'); END;
CREATE TRIGGER IF NOT EXISTS {{kind}}_once BEFORE INSERT ON documents
WHEN NEW.kind = '{{kind}}'
    AND EXISTS (SELECT 1 FROM documents WHERE kind = NEW.kind AND key = NEW.key)
BEGIN SELECT RAISE(ABORT, 'append-only: {{kind}} exists'); END;
CREATE TRIGGER IF NOT EXISTS {{kind}}_kept BEFORE DELETE ON documents
WHEN OLD.kind = '{{kind}}' AND (OLD.expires_at IS NULL OR OLD.expires_at > {DATABASE_NOW})
BEGIN SELECT RAISE(ABORT, 'append-only: {{kind}} is kept until its retention period ends'); END;
"""

LIVE = "(expires_at IS NULL OR expires_at > ?)"
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


class SqliteDocumentStore(DocumentStore):
    def __init__(
        self, path: Path | str, *, read_only: bool = False, clock: Clock = time.time
    ) -> None:
        """``read_only``: for reports — the file must exist, nothing is created or changed."""
        self._path = path
        self._read_only = read_only
        self._clock = clock
        self._db: aiosqlite.Connection | None = None
        self._file: tuple[int, int] | None = None  # (device, inode) of the file opened

    async def open(self) -> None:
        """Open (and create) the database; ``StoreUnavailableError`` if it cannot be used."""
        if self._read_only:
            await self._open_read_only()
            return
        try:
            if isinstance(self._path, Path):
                await asyncio.to_thread(self._prepare_files, self._path)
            self._db = await aiosqlite.connect(str(self._path), isolation_level=None)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA busy_timeout=5000")
            await self._db.execute("PRAGMA synchronous=NORMAL")
            await self._db.executescript(SCHEMA)
            for kind in sorted(self.APPEND_ONLY_KINDS):
                await self._db.executescript(APPEND_ONLY_TRIGGERS.format(kind=kind))
            if isinstance(self._path, Path):
                await asyncio.to_thread(self._protect_companions, self._path)
                self._file = _identity(self._path)
        except (OSError, sqlite3.Error) as error:
            await self.close()  # else aiosqlite's thread keeps the process alive
            reason = error.strerror if isinstance(error, OSError) else str(error)
            raise StoreUnavailableError(
                f"cannot use the SQLite database {self._path} ({reason})"
            ) from error

    async def _open_read_only(self) -> None:
        try:
            uri = f"{await asyncio.to_thread(_file_uri, self._path)}?mode=ro"
            self._db = await aiosqlite.connect(uri, uri=True, isolation_level=None)
            await self._db.execute("PRAGMA busy_timeout=5000")
            await self._db.execute("SELECT 1 FROM documents LIMIT 1")
            if isinstance(self._path, Path):  # SQLite may add -wal/-shm to read a WAL file
                await asyncio.to_thread(self._protect_companions, self._path)
        except (OSError, sqlite3.Error) as error:
            await self.close()
            raise StoreUnavailableError(
                f"cannot read the SQLite database {self._path} ({error})"
            ) from error

    @staticmethod
    def _prepare_files(path: Path) -> None:
        ensure_private_folder(path.parent, ours=lambda name: name.startswith(path.name))
        ensure_private_file(path)

    @staticmethod
    def _protect_companions(path: Path) -> None:
        """SQLite creates ``-wal`` and ``-shm`` with the database file's mode; older
        installations may still have looser ones."""
        for suffix in COMPANION_SUFFIXES:
            make_private(path.with_name(path.name + suffix))

    async def close(self) -> None:
        db, self._db, self._file = self._db, None, None
        if db is not None:
            await db.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreUnavailableError("storage is not open")
        if self._file is not None and isinstance(self._path, Path):
            try:
                still_there = _identity(self._path) == self._file
            except OSError:
                still_there = False
            if not still_there:
                raise StoreUnavailableError(f"the database file {self._path} is gone")
        return self._db

    async def ping(self) -> None:
        try:
            await self.db.execute_fetchall("SELECT 1")
        except (sqlite3.Error, ValueError) as error:
            raise StoreUnavailableError(str(error)) from error

    async def get(self, kind: str, key: str, *, partition: str) -> Document | None:
        rows = await self.db.execute_fetchall(
            "SELECT body, etag, expires_at FROM documents"
            f" WHERE kind=? AND key=? AND partition=? AND {LIVE}",
            (kind, key, partition, self._clock()),
        )
        for body, etag, expires_at in rows:
            return Document(kind, key, partition, json.loads(body), etag, expires_at)
        return None

    async def create(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        etag = _new_etag()
        now = self._clock()
        try:
            # An expired leftover with the same key counts as absent.
            await self.db.execute(
                "DELETE FROM documents WHERE kind=? AND key=? AND expires_at <= ?", (kind, key, now)
            )
            await self.db.execute(
                "INSERT INTO documents (kind, key, partition, body, etag, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (kind, key, partition, _dump(body), etag, now, _expiry(now, ttl_seconds)),
            )
        except sqlite3.IntegrityError as error:
            raise ConflictError(f"{kind} already exists") from error
        return Document(kind, key, partition, body, etag, _expiry(now, ttl_seconds))

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
        self.refuse_append_only(kind)
        new_etag = _new_etag()
        now = self._clock()
        cursor = await self.db.execute(
            "UPDATE documents SET body=?, etag=?, expires_at=?"
            f" WHERE kind=? AND key=? AND partition=? AND etag=? AND {LIVE}",
            (_dump(body), new_etag, _expiry(now, ttl_seconds), kind, key, partition, etag, now),
        )
        if cursor.rowcount == 0:
            raise ConflictError(f"{kind} changed or vanished since it was read")
        return Document(kind, key, partition, body, new_etag, _expiry(now, ttl_seconds))

    async def upsert(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        self.refuse_append_only(kind)
        etag = _new_etag()
        now = self._clock()
        await self.db.execute(
            "INSERT INTO documents (kind, key, partition, body, etag, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET"
            " partition=excluded.partition, body=excluded.body, etag=excluded.etag,"
            " expires_at=excluded.expires_at",
            (kind, key, partition, _dump(body), etag, now, _expiry(now, ttl_seconds)),
        )
        return Document(kind, key, partition, body, etag, _expiry(now, ttl_seconds))

    async def delete(self, kind: str, key: str, *, partition: str) -> bool:
        self.refuse_append_only(kind)
        cursor = await self.db.execute(
            "DELETE FROM documents WHERE kind=? AND key=? AND partition=?", (kind, key, partition)
        )
        return cursor.rowcount > 0

    async def list_partition(self, kind: str, partition: str) -> list[Document]:
        rows = await self.db.execute_fetchall(
            "SELECT key, partition, body, etag, expires_at FROM documents"
            f" WHERE kind=? AND partition=? AND {LIVE} ORDER BY created_at, rowid",
            (kind, partition, self._clock()),
        )
        return _documents(kind, rows)

    async def list_kind(self, kind: str) -> list[Document]:
        rows = await self.db.execute_fetchall(
            "SELECT key, partition, body, etag, expires_at FROM documents"
            f" WHERE kind=? AND {LIVE} ORDER BY created_at, rowid",
            (kind, self._clock()),
        )
        return _documents(kind, rows)

    async def extend_expiry(self, kind: str, partition: str, ttl_seconds: int) -> int:
        now = self._clock()
        until = now + ttl_seconds
        cursor = await self.db.execute(
            "UPDATE documents SET expires_at=?"
            f" WHERE kind=? AND partition=? AND {LIVE} AND (expires_at IS NULL OR expires_at < ?)",
            (until, kind, partition, now, until),
        )
        return cursor.rowcount

    async def purge_expired(self) -> int:
        # An append-only document goes only once the database's own clock agrees (its trigger
        # would refuse the whole statement otherwise).
        append_only = ", ".join(f"'{kind}'" for kind in sorted(self.APPEND_ONLY_KINDS))
        cursor = await self.db.execute(
            "DELETE FROM documents WHERE expires_at IS NOT NULL AND expires_at <= ?"
            f" AND (kind NOT IN ({append_only}) OR expires_at <= {DATABASE_NOW})",
            (self._clock(),),
        )
        return cursor.rowcount


def _identity(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _documents(kind: str, rows: Iterable[Any]) -> list[Document]:
    return [
        Document(kind, key, partition, json.loads(body), etag, expires_at)
        for key, partition, body, etag, expires_at in rows
    ]


def _new_etag() -> str:
    return uuid.uuid4().hex


def _dump(body: JsonObject) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _expiry(now: float, ttl_seconds: int | None) -> float | None:
    return None if ttl_seconds is None else now + ttl_seconds


def _file_uri(path: Path | str) -> str:
    return Path(path).resolve().as_uri()
