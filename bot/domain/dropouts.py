"""Why people left the video path: counters only, no personal data at all."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.record import Record, utc_now
from bot.storage.documents import ConflictError, DocumentStore

DROPOUT = "dropout"


@dataclass
class Dropout(Record):
    """How many people left the video path for a reason on a day — no personal data at all."""

    reason: str
    stage: str
    day: str
    count: int = 0


class Dropouts:
    """Daily counters per reason and stage (one small document each, eTag-guarded)."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def count(self, reason: str, stage: str) -> None:
        day = utc_now().strftime("%Y-%m-%d")
        key = f"{reason}:{stage}:{day}"
        while True:
            document = await self._store.get(DROPOUT, key, partition=reason)
            dropout = (
                Dropout(reason, stage, day)
                if document is None
                else Dropout.from_body(document.body)
            )
            dropout.count += 1
            try:
                await self._store.save(
                    DROPOUT, key, dropout.to_body(), partition=reason, read=document
                )
            except ConflictError:
                continue
            return

    async def by_reason(self, reason: str) -> int:
        documents = await self._store.list_partition(DROPOUT, reason)
        return sum(Dropout.from_body(document.body).count for document in documents)
