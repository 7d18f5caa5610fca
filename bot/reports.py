"""What the read-only reports (``python -m bot audit``, ``python -m bot stats``) share: the
store opened read only — a report creates nothing, not even a database — and the exit codes.

Exit codes: 0 done; 1 nothing found; 2 wrong arguments or settings; 3 storage unavailable or
unreadable."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.config import ConfigurationError, Settings
from bot.storage import DocumentStore, StoreUnavailableError, open_document_store

EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_STORAGE_UNAVAILABLE = 3

T = TypeVar("T")


class ReportFailed(Exception):
    """The report cannot be made; the message says why, ``code`` is the exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_only(
    load_settings: Callable[[], Settings],
    read: Callable[[DocumentStore], Awaitable[T]],
    what: str,
) -> T:
    """``read`` run against the configured store, opened read only; ``ReportFailed`` when the
    settings are wrong, the store does not answer, or a stored ``what`` cannot be read."""
    try:
        return asyncio.run(_read(load_settings(), read))
    except ConfigurationError as error:
        raise ReportFailed(EXIT_USAGE, f"Configuration error: {error}") from error
    except StoreUnavailableError as error:
        raise ReportFailed(EXIT_STORAGE_UNAVAILABLE, f"Storage unavailable: {error}") from error
    except (KeyError, TypeError, ValueError) as error:  # a stored record this code cannot read
        raise ReportFailed(
            EXIT_STORAGE_UNAVAILABLE, f"A stored {what} could not be read ({type(error).__name__})."
        ) from error


async def _read(settings: Settings, read: Callable[[DocumentStore], Awaitable[T]]) -> T:
    store = open_document_store(settings.storage_url, settings, read_only=True)
    await store.open()
    try:
        return await read(store)
    finally:
        await store.close()
