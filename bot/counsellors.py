"""Who is a counsellor, and how to reach them.

IT configures the allowed tenant(s) and the counsellors' Entra object ids; everybody else is
a client. The check runs on the server for every counsellor command and card action — a
client who forges a card submit gets a polite refusal. Each counsellor's conversation
reference is stored on install (or first message) so that proactive cards reach them after
restarts; uninstalling removes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.graph import GraphClient, GraphError
from bot.proactive import reference_to_dict
from bot.record import Record, utc_now
from bot.storage.documents import DocumentStore

log = logging.getLogger(__name__)
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
    group_ids: tuple[str, ...] = ()  # members of these Entra groups are counsellors, too

    @classmethod
    def from_lists(
        cls,
        tenant_ids: Iterable[str],
        object_ids: Iterable[str],
        queue_ids: Iterable[str],
        group_ids: Iterable[str] = (),
    ) -> CounsellorPolicy:
        def clean(items: Iterable[str]) -> list[str]:
            return [item.strip().lower() for item in items if item.strip()]

        return cls(
            frozenset(clean(tenant_ids)),
            frozenset(clean(object_ids)),
            tuple(clean(queue_ids)),
            tuple(clean(group_ids)),
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


class CounsellorRoles:
    """The policy, plus Entra group membership looked up in Microsoft Graph.

    Lookups are cached for a while (a removed member stays a counsellor until the entry
    expires); a failed lookup counts as "not a counsellor" — the safe side.
    """

    def __init__(
        self,
        policy: CounsellorPolicy,
        graph: GraphClient | None = None,
        cache_seconds: float = 600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._graph = graph
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}

    async def is_counsellor(self, activity: Activity) -> bool:
        if self.policy.is_counsellor(activity):
            return True
        if (
            not self.policy.group_ids
            or self._graph is None
            or not self.policy.tenant_allowed(activity)
        ):
            return False
        object_id = (
            (activity.from_property.aad_object_id or "").lower() if activity.from_property else ""
        )
        if not object_id:
            return False
        now = self._clock()
        cached = self._cache.get(object_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            member_of = await self._graph.check_member_groups(
                object_id, list(self.policy.group_ids)
            )
        except GraphError as error:
            log.warning("group membership unknown (%s); treated as a client", type(error).__name__)
            return False
        member = bool(member_of & set(self.policy.group_ids))
        self._cache[object_id] = (now + self._cache_seconds, member)
        return member


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
