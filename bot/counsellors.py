"""Who is a counsellor, and how to reach them.

IT configures the allowed tenant(s) and the counsellors' Entra object ids; everybody else is
a client. The check runs on the server for every counsellor command and card action — a
client who forges a card submit gets a polite refusal. Each counsellor's conversation
reference is stored on install (or first message) so that proactive cards reach them after
restarts; uninstalling removes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.proactive import reference_to_dict
from bot.records import Record, utc_now
from bot.storage.documents import DocumentStore

COUNSELLOR = "counsellor"
CASELOAD = "caseload"


def tenant_of(activity: Activity) -> str:
    conversation_tenant = activity.conversation.tenant_id if activity.conversation else None
    channel_tenant = ((activity.channel_data or {}).get("tenant") or {}).get("id")
    return conversation_tenant or channel_tenant or ""


@dataclass(frozen=True)
class CounsellorPolicy:
    tenant_ids: frozenset[str] = frozenset()  # empty: any tenant (local mode only)
    object_ids: frozenset[str] = frozenset()
    queue_ids: tuple[str, ...] = ()  # who hears about clients that came without a code

    @classmethod
    def from_lists(
        cls, tenant_ids: Iterable[str], object_ids: Iterable[str], queue_ids: Iterable[str]
    ) -> CounsellorPolicy:
        clean = [item.strip() for item in queue_ids if item.strip()]
        return cls(
            frozenset(item.strip().lower() for item in tenant_ids if item.strip()),
            frozenset(item.strip().lower() for item in object_ids if item.strip()),
            tuple(item.lower() for item in clean),
        )

    def tenant_allowed(self, activity: Activity) -> bool:
        return not self.tenant_ids or tenant_of(activity).lower() in self.tenant_ids

    def is_counsellor(self, activity: Activity) -> bool:
        sender = activity.from_property
        object_id = (sender.aad_object_id or "").lower() if sender else ""
        return bool(object_id) and object_id in self.object_ids and self.tenant_allowed(activity)

    def queue(self) -> tuple[str, ...]:
        return self.queue_ids or tuple(sorted(self.object_ids))


@dataclass
class Counsellor(Record):
    object_id: str
    reference: dict[str, Any]
    locale: str = "de"
    registered_at: str = field(default_factory=lambda: utc_now().isoformat())


@dataclass
class CaseloadEntry(Record):
    """One client on a counsellor's overview (what the card shows, nothing more)."""

    client_id: str
    client_name: str
    stage: str
    handoff_id: str = ""
    topic: str = ""
    consultation_type: str = ""
    notice: str = ""  # e.g. a notification that could not be delivered
    updated_at: str = field(default_factory=lambda: utc_now().isoformat())


class CounsellorDirectory:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def register(self, context: TurnContext, locale: str) -> Counsellor:
        object_id = context.activity.from_property.aad_object_id.lower()
        reference = reference_to_dict(TurnContext.get_conversation_reference(context.activity))
        counsellor = Counsellor(object_id, reference, locale)
        await self._store.upsert(COUNSELLOR, object_id, counsellor.to_body(), partition=object_id)
        return counsellor

    async def get(self, object_id: str) -> Counsellor | None:
        object_id = object_id.lower()
        document = await self._store.get(COUNSELLOR, object_id, partition=object_id)
        return None if document is None else Counsellor.from_body(document.body)

    async def remove(self, object_id: str) -> bool:
        object_id = object_id.lower()
        return await self._store.delete(COUNSELLOR, object_id, partition=object_id)

    async def note_case(self, counsellor_id: str, entry: CaseloadEntry) -> None:
        counsellor_id = counsellor_id.lower()
        entry.updated_at = utc_now().isoformat()
        await self._store.upsert(
            CASELOAD, f"{counsellor_id}:{entry.client_id}", entry.to_body(), partition=counsellor_id
        )

    async def forget_case(self, counsellor_id: str, client_id: str) -> None:
        counsellor_id = counsellor_id.lower()
        await self._store.delete(CASELOAD, f"{counsellor_id}:{client_id}", partition=counsellor_id)

    async def caseload(self, counsellor_id: str) -> list[CaseloadEntry]:
        documents = await self._store.list_partition(CASELOAD, counsellor_id.lower())
        entries = [CaseloadEntry.from_body(document.body) for document in documents]
        return sorted(entries, key=lambda entry: entry.updated_at, reverse=True)
