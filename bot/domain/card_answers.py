"""The first answer to a card, kept across instances (so a double click acts once)."""

from __future__ import annotations

from typing import Any

from bot.domain.record import record_key
from bot.storage.documents import DocumentStore

CARD_ANSWER = "card_answer"


class CardAnswers:
    """The first answer to a card whose answer reaches beyond the conversation (consent).

    Two answers to one card — two buttons clicked at once, on two instances — would each act
    on its own before the race for the conversation state decides which one the client sees
    (a consent event stored for a client who was told "no consent"). The first answer is kept
    here; a later one adopts it. Kept as long as the conversation state.
    """

    def __init__(self, store: DocumentStore, ttl_seconds: int) -> None:
        self._store = store
        self._ttl = ttl_seconds

    async def claim(self, client_id: str, card_id: str, answer: Any) -> Any:
        """``answer`` if it is the card's first, else the first one."""
        stored, _ = await self._store.create_or_get(
            CARD_ANSWER,
            record_key(client_id, card_id),
            {"answer": answer},
            partition=client_id,
            ttl_seconds=self._ttl,
        )
        return stored.body["answer"]

    async def delete_all(self, client_id: str) -> None:
        for document in await self._store.list_partition(CARD_ANSWER, client_id):
            await self._store.delete(CARD_ANSWER, document.key, partition=client_id)
