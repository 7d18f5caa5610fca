"""Handoffs: what a counsellor needs to act on a client's request, and their repository.

Every record is keyed by the client, so one client's data lives in one partition and
"Meine Daten löschen" can find all of it.

Writes are idempotent by construction, because a turn may run twice (it lost the race for the
conversation state, or Teams resent it to another instance): a record's id comes from what
caused it (the card the client answered, the consent a withdrawal ends), and ``append`` /
``create`` / ``update`` hand back the stored record and whether this call changed anything —
so the caller shows what is stored and acts (notifies, counts) only on a real change.

A handoff is kept ``keep_for`` (``RETENTION_HANDOFF_DAYS``) after its last change or the end of
its appointment, whichever is later: every write sets that time to live again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.consent import ConsentStatus
from bot.domain.interpreters import InterpreterRequest
from bot.domain.record import Record, record_key, seconds_until, utc_now
from bot.storage.documents import ConflictError, DocumentStore

HANDOFF = "handoff"
#: benefit matters (Leistungen, Bürgergeld, Miete …) are handled only in person
BENEFITS_TOPIC = "benefits"


class HandoffStatus(StrEnum):
    REQUESTED = "requested"
    SCHEDULING = "scheduling"  # a counsellor claimed it and the meeting is being created
    SCHEDULED = "scheduled"
    HELD = "held"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_HANDOFF_STATUSES = frozenset(
    {HandoffStatus.REQUESTED, HandoffStatus.SCHEDULING, HandoffStatus.SCHEDULED}
)


@dataclass
class Handoff(Record):
    """What the counsellor needs to act; a tech-help call-back is a handoff too."""

    handoff_id: str
    client_id: str
    client_name: str
    purpose: str  # consultation | tech_help
    consultation_type: str  # video | phone | in_person
    topic: str
    windows: list[str]
    tech: dict[str, Any] = field(default_factory=dict)
    consent_status: str = ConsentStatus.NONE
    receipt_id: str = ""
    phone: str = ""
    status: str = HandoffStatus.REQUESTED
    locale: str = "de"
    client_ref: dict[str, Any] = field(default_factory=dict)  # to reach the client proactively
    counsellor_id: str = ""  # linked by invitation code; empty: the team queue
    cards: dict[str, str] = field(default_factory=dict)  # counsellor id → card activity id
    delivery: dict[str, str] = field(default_factory=dict)  # counsellor id → last delivery
    meeting: dict[str, Any] = field(default_factory=dict)  # id, join_url, start, end
    tech_help_done: bool = False
    phone_offer: str = ""  # "" | offered | accepted | declined
    interpreter: dict[str, str] = field(default_factory=dict)  # InterpreterRequest.as_dict()
    created_at: str = field(default_factory=lambda: utc_now().isoformat())
    updated_at: str = field(default_factory=lambda: utc_now().isoformat())

    def appointment_end(self) -> datetime | None:
        end = self.meeting.get("end")
        return datetime.fromisoformat(end) if end else None


class Handoffs:
    def __init__(self, store: DocumentStore, keep_for: timedelta = timedelta(days=180)) -> None:
        self._store = store
        self._keep_for = keep_for

    def _ttl(self, handoff: Handoff) -> int:
        now = utc_now()
        end = handoff.appointment_end()
        return seconds_until(max(now, end or now) + self._keep_for, now)

    async def create(self, handoff: Handoff) -> tuple[Handoff, bool]:
        """The stored handoff, and ``True`` if this call created it (``False``: the same
        answer created it before — the stored one is returned). A consultation on benefits is
        always in person: no video (or phone) handoff is ever made for it."""
        if handoff.purpose == "consultation" and handoff.topic == BENEFITS_TOPIC:
            handoff.consultation_type = "in_person"
        stored, created = await self._store.create_or_get(
            HANDOFF,
            record_key(handoff.client_id, handoff.handoff_id),
            handoff.to_body(),
            partition=handoff.client_id,
            ttl_seconds=self._ttl(handoff),
        )
        return Handoff.from_body(stored.body), created

    async def for_client(self, client_id: str) -> list[Handoff]:
        documents = await self._store.list_partition(HANDOFF, client_id)
        return [Handoff.from_body(document.body) for document in documents]

    async def get(self, client_id: str, handoff_id: str) -> Handoff | None:
        document = await self._store.get(
            HANDOFF, record_key(client_id, handoff_id), partition=client_id
        )
        return None if document is None else Handoff.from_body(document.body)

    async def update(
        self, client_id: str, handoff_id: str, change: Callable[[Handoff], bool | None]
    ) -> tuple[Handoff | None, bool]:
        """Apply ``change`` with optimistic concurrency, re-reading on a conflict: the handoff
        as stored afterwards (``None`` if there is none) and whether this call changed it.

        ``change`` returns ``False`` when there is nothing to do (e.g. the action was already
        taken by someone else); then nothing is written.
        """
        key = record_key(client_id, handoff_id)
        while True:
            document = await self._store.get(HANDOFF, key, partition=client_id)
            if document is None:
                return None, False
            handoff = Handoff.from_body(document.body)
            if change(handoff) is False:
                return handoff, False
            handoff.updated_at = utc_now().isoformat()
            try:
                await self._store.replace(
                    HANDOFF,
                    key,
                    handoff.to_body(),
                    partition=client_id,
                    etag=document.etag,
                    ttl_seconds=self._ttl(handoff),
                )
            except ConflictError:
                continue
            return handoff, True

    async def cancel_open(
        self, client_id: str, only_type: str = "", scrub: bool = False
    ) -> list[Handoff]:
        """Cancel the client's open handoffs (of one consultation type, if given): the ones
        this call cancelled (a repeated call finds none left to cancel).

        ``scrub`` also removes what is no longer needed once nothing will happen: the phone
        number, times, tech-check details and the way to reach the client.
        """

        def cancel(handoff: Handoff) -> bool:
            if handoff.status not in OPEN_HANDOFF_STATUSES or (
                only_type and handoff.consultation_type != only_type
            ):
                return False
            if scrub:
                _cancel_and_scrub(handoff)
            else:
                _cancel(handoff)
            return True

        cancelled = []
        for handoff in await self.for_client(client_id):
            updated, changed = await self.update(client_id, handoff.handoff_id, cancel)
            if updated is not None and changed:
                cancelled.append(updated)
        return cancelled

    async def note_interpreter(
        self, client_id: str, request: InterpreterRequest | None
    ) -> tuple[bool, list[Handoff]]:
        """Write an interpreter wish (``None``: none any more) into the client's open
        consultation requests: whether there is one, and the ones this call changed. The same
        language asked for again changes nothing (an interpreter arranged stays arranged)."""

        def is_open_request(handoff: Handoff) -> bool:
            return handoff.purpose == "consultation" and handoff.status in OPEN_HANDOFF_STATUSES

        def note(handoff: Handoff) -> bool:
            if not is_open_request(handoff):
                return False
            if InterpreterRequest.same_wish(
                InterpreterRequest.from_dict(handoff.interpreter), request
            ):
                return False
            handoff.interpreter = request.as_dict() if request else {}
            return True

        requests = [
            handoff for handoff in await self.for_client(client_id) if is_open_request(handoff)
        ]
        changed = []
        for handoff in requests:
            updated, did = await self.update(client_id, handoff.handoff_id, note)
            if updated is not None and did:
                changed.append(updated)
        return bool(requests), changed

    async def delete_all(self, client_id: str) -> int:
        handoffs = await self.for_client(client_id)
        for handoff in handoffs:
            await self._store.delete(
                HANDOFF, record_key(client_id, handoff.handoff_id), partition=client_id
            )
        return len(handoffs)


def _cancel(handoff: Handoff) -> None:
    handoff.status = HandoffStatus.CANCELLED


def _cancel_and_scrub(handoff: Handoff) -> None:
    _cancel(handoff)
    handoff.phone = ""
    handoff.windows = []
    handoff.tech = {}
    handoff.client_ref = {}
    handoff.interpreter = {}  # the client's own words for a language, too
