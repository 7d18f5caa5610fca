"""Choose the back end from ``BOT_STORAGE``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.storage.cosmos_config import SCHEMES as COSMOS_SCHEMES
from bot.storage.documents import Clock, DocumentStore

if TYPE_CHECKING:
    from bot.config import Settings


def open_document_store(
    url: str,
    settings: Settings | None = None,
    *,
    read_only: bool = False,
    clock: Clock = time.time,
) -> DocumentStore:
    """``sqlite:///relative/or/absolute.db`` (``sqlite:///:memory:`` for tests), or Azure
    Cosmos DB: ``cosmos://`` (endpoint from ``COSMOS_ENDPOINT``), ``cosmos://<host>[:port]``,
    ``cosmos+http://127.0.0.1:8081`` (a local emulator); a path names the database.

    Cosmos DB takes its key, database and options from ``settings`` (read from the environment
    when not given). ``read_only`` (for reports such as the audit) creates nothing: no SQLite
    file, no Cosmos DB database or container. ``clock`` is the store's time (tests move it)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        from bot.storage.sqlite import SqliteDocumentStore

        path = url.removeprefix("sqlite:///")
        return SqliteDocumentStore(
            path if path == ":memory:" else Path(path), read_only=read_only, clock=clock
        )
    if parsed.scheme in COSMOS_SCHEMES:
        from bot.config import Settings
        from bot.storage.cosmos import CosmosDocumentStore

        settings = settings if settings is not None else Settings()
        if read_only:
            settings = settings.model_copy(update={"cosmos_create_if_missing": False})
        return CosmosDocumentStore.from_url(url, settings, clock=clock)
    raise ValueError(
        f"BOT_STORAGE scheme {parsed.scheme!r} is not supported; use sqlite:///path/to/file.db"
        " or cosmos:// (see .env.example)"
    )
