"""Choose the back end from ``BOT_STORAGE``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from bot.storage.documents import DocumentStore


def open_document_store(url: str) -> DocumentStore:
    """``sqlite:///relative/or/absolute.db`` (``sqlite:///:memory:`` for tests)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        from bot.storage.sqlite import SqliteDocumentStore

        path = url.removeprefix("sqlite:///")
        return SqliteDocumentStore(path if path == ":memory:" else Path(path))
    raise ValueError(
        f"BOT_STORAGE scheme {parsed.scheme!r} is not supported; use sqlite:///path/to/file.db"
    )
