"""One turn at a time per conversation, within this process.

A double click sends two activities at once; run side by side, both would read the same
state and both would act. Serialised, the second one sees the first one's result.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class LockTimeoutError(TimeoutError):
    """The lock was not free within the time given (nothing ran under it)."""


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str, wait_at_most: float | None = None) -> AsyncIterator[None]:
        """Hold the lock of ``key``; ``LockTimeoutError`` if it is not free within
        ``wait_at_most`` seconds (``None``: as long as it takes)."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            try:
                async with asyncio.timeout(wait_at_most):
                    await lock.acquire()
            except TimeoutError as error:
                raise LockTimeoutError(key) from error
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
