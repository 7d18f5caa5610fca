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
from datetime import timedelta
from typing import Any

from bot.domain.record import Record, utc_now
from bot.storage.documents import DocumentStore

COUNSELLOR = "counsellor"
CASELOAD = "caseload"


@dataclass(frozen=True)
class CounsellorPolicy:
    tenant_ids: frozenset[str] = frozenset()  # empty: any tenant (local mode only)
    object_ids: frozenset[str] = frozenset()
    queue_ids: tuple[str, ...] = ()  # who hears about clients that came without a code
    group_ids: tuple[str, ...] = ()  # members of these Entra groups are counsellors, too
    #: team leads, who see the numbers ("Auswertung"): by object id, or by Entra group
    lead_ids: frozenset[str] = frozenset()
    lead_group_ids: tuple[str, ...] = ()

    @classmethod
    def from_lists(
        cls,
        tenant_ids: Iterable[str],
        object_ids: Iterable[str],
        queue_ids: Iterable[str],
        group_ids: Iterable[str] = (),
        lead_ids: Iterable[str] = (),
        lead_group_ids: Iterable[str] = (),
    ) -> CounsellorPolicy:
        def clean(items: Iterable[str]) -> list[str]:
            return [item.strip().lower() for item in items if item.strip()]

        return cls(
            frozenset(clean(tenant_ids)),
            frozenset(clean(object_ids)),
            tuple(clean(queue_ids)),
            tuple(clean(group_ids)),
            frozenset(clean(lead_ids)),
            tuple(clean(lead_group_ids)),
        )

    def tenant_allowed(self, tenant_id: str) -> bool:
        return not self.tenant_ids or tenant_id.lower() in self.tenant_ids

    def is_counsellor(self, object_id: str, tenant_id: str) -> bool:
        """Listed by object id (the Entra group check is ``CounsellorRoles``')."""
        object_id = object_id.lower()
        return bool(object_id) and object_id in self.object_ids and self.tenant_allowed(tenant_id)

    def is_lead(self, object_id: str, tenant_id: str) -> bool:
        """Listed as a team lead by object id (the Entra group check is ``CounsellorRoles``')."""
        object_id = object_id.lower()
        return bool(object_id) and object_id in self.lead_ids and self.tenant_allowed(tenant_id)

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
    locale: str = ""  # the client's chat language
    interpreter: dict[str, str] = field(default_factory=dict)  # InterpreterRequest.as_dict()
    updated_at: str = field(default_factory=lambda: utc_now().isoformat())


class CounsellorDirectory:
    """The counsellors' chats, and each one's overview of clients (a line per client, kept
    ``keep_cases_for`` after its last change, like the client's profile)."""

    def __init__(
        self, store: DocumentStore, keep_cases_for: timedelta = timedelta(days=180)
    ) -> None:
        self._store = store
        self._case_ttl = int(keep_cases_for.total_seconds())

    async def register(self, object_id: str, reference: dict[str, Any], locale: str) -> Counsellor:
        """Keep how to reach a counsellor (their chat's conversation reference)."""
        object_id = object_id.lower()
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
            CASELOAD,
            f"{counsellor_id}:{entry.client_id}",
            entry.to_body(),
            partition=counsellor_id,
            ttl_seconds=self._case_ttl,
        )

    async def forget_case(self, counsellor_id: str, client_id: str) -> None:
        counsellor_id = counsellor_id.lower()
        await self._store.delete(CASELOAD, f"{counsellor_id}:{client_id}", partition=counsellor_id)

    async def caseload(self, counsellor_id: str) -> list[CaseloadEntry]:
        documents = await self._store.list_partition(CASELOAD, counsellor_id.lower())
        entries = [CaseloadEntry.from_body(document.body) for document in documents]
        return sorted(entries, key=lambda entry: entry.updated_at, reverse=True)
