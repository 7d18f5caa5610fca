"""Per-link accounting: the data budget of the connection measurement and the "used" mark.

One small document per link (kind ``techcheck_usage``, key = partition = the link id) holds
no personal data: the bytes served and received, and whether the result was sent. It expires
with the link. Every change is eTag-guarded, so two requests racing for the last bytes of the
budget, or two result posts, cannot both win.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.record import Record
from bot.domain.techcheck_links import LINK_BUDGET_BYTES, LinkClaims, LinkError, LinkProblem
from bot.storage import ConflictError, DocumentStore

USAGE = "techcheck_usage"
#: the usage document outlives the link a little, so a late request still reads "used"
RETENTION_AFTER_EXPIRY_S = 600


class BudgetExceededError(Exception):
    """The link's data budget does not cover the request."""


class Direction(StrEnum):
    DOWN = "down"
    UP = "up"


class Status(StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass
class Usage(Record):
    link_id: str
    status: str = Status.OPEN
    down: int = 0
    up: int = 0

    @property
    def used(self) -> int:
        return self.down + self.up

    @property
    def left(self) -> int:
        return max(0, LINK_BUDGET_BYTES - self.used)


class UsageLog:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def get(self, claims: LinkClaims) -> Usage:
        """The link's usage (a fresh one if none is stored yet); ``LinkError`` once used."""
        document = await self._store.get(USAGE, claims.link_id, partition=claims.link_id)
        usage = Usage(claims.link_id) if document is None else Usage.from_body(document.body)
        if usage.status == Status.DONE:
            raise LinkError(LinkProblem.USED)
        return usage

    async def reserve(self, claims: LinkClaims, direction: Direction, size: int) -> Usage:
        """Count ``size`` bytes against the budget before they are sent or read."""

        def take(usage: Usage) -> None:
            if usage.status == Status.DONE:
                raise LinkError(LinkProblem.USED)
            if size > usage.left:
                raise BudgetExceededError
            setattr(usage, direction, getattr(usage, direction) + size)

        return await self._change(claims, take)

    async def finish(self, claims: LinkClaims) -> Usage:
        """Mark the link used; ``LinkError(USED)`` if another request did so first."""

        def close(usage: Usage) -> None:
            if usage.status == Status.DONE:
                raise LinkError(LinkProblem.USED)
            usage.status = Status.DONE

        return await self._change(claims, close)

    async def reopen(self, claims: LinkClaims) -> None:
        """Undo ``finish`` when storing the result failed, so the client can send it again."""

        def undo(usage: Usage) -> None:
            usage.status = Status.OPEN

        await self._change(claims, undo)

    async def _change(self, claims: LinkClaims, change: Callable[[Usage], None]) -> Usage:
        ttl = max(1, claims.expires - int(time.time())) + RETENTION_AFTER_EXPIRY_S
        key = claims.link_id
        while True:
            document = await self._store.get(USAGE, key, partition=key)
            usage = Usage(key) if document is None else Usage.from_body(document.body)
            change(usage)
            try:
                await self._store.save(
                    USAGE, key, usage.to_body(), partition=key, read=document, ttl_seconds=ttl
                )
            except ConflictError:
                continue
            return usage
