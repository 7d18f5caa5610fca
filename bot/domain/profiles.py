"""The client's profile: where they are in the journey and what the tech check found.

One document per client (keyed by the client), changed under its eTag. Each change keeps it
``keep_for`` longer (``RETENTION_PROFILE_DAYS``): a client who stops coming is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.domain.record import Record, utc_now
from bot.storage.documents import ConflictError, DocumentStore

PROFILE = "profile"


@dataclass
class ClientProfile(Record):
    client_id: str
    locale: str = "de"
    stage: str = "welcome"
    consultation_type: str = ""
    topic: str = ""
    tech: dict[str, Any] = field(default_factory=dict)
    windows: list[str] = field(default_factory=list)
    counsellor_id: str = ""
    #: when an invitation code linked the client to that counsellor
    linked_at: str = ""
    #: the last result of the measured check in the browser (bot/techcheck_page)
    measured: dict[str, Any] = field(default_factory=dict)
    #: links to that page: {"ref": conversation reference, "links": {link id: expiry}}
    techcheck: dict[str, Any] = field(default_factory=dict)
    updated_at: str = field(default_factory=lambda: utc_now().isoformat())


class Profiles:
    def __init__(self, store: DocumentStore, keep_for: timedelta = timedelta(days=180)) -> None:
        self._store = store
        self._ttl = int(keep_for.total_seconds())

    async def get(self, client_id: str) -> ClientProfile | None:
        document = await self._store.get(PROFILE, client_id, partition=client_id)
        return None if document is None else ClientProfile.from_body(document.body)

    async def update(
        self, client_id: str, change: Callable[[ClientProfile], None]
    ) -> ClientProfile:
        while True:
            document = await self._store.get(PROFILE, client_id, partition=client_id)
            profile = (
                ClientProfile(client_id)
                if document is None
                else ClientProfile.from_body(document.body)
            )
            change(profile)
            profile.updated_at = utc_now().isoformat()
            try:
                await self._store.save(
                    PROFILE,
                    client_id,
                    profile.to_body(),
                    partition=client_id,
                    read=document,
                    ttl_seconds=self._ttl,
                )
            except ConflictError:
                continue
            return profile

    async def delete(self, client_id: str) -> bool:
        return await self._store.delete(PROFILE, client_id, partition=client_id)
