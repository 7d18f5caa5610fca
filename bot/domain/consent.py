"""Consent events (given in the card, a form uploaded, verified, rejected, withdrawn) and the
append-only log that keeps them: the store itself refuses to change or delete one.

An event's id says what caused it (the card the client answered, the consent a withdrawal
ends), so appending the same answer twice — a turn that runs again, a second instance —
stores one event and hands back the stored one, with its receipt.

The events are the proof that the processing was lawful (Art. 7(1) GDPR), so they are kept
``keep_for`` (``RETENTION_CONSENT_DAYS``) after the client's last event or the end of their
last appointment, whichever is later. All of a client's events go together: each new event,
and each appointment, moves the expiry of all of them (``DocumentStore.extend_expiry``, the
one change the store allows on an event).
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.record import Record, record_key, seconds_until, utc_now
from bot.storage.documents import DocumentStore

CONSENT_EVENT = "consent_event"
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no look-alikes (0/O, 1/I)


RECEIPT_PATTERN = re.compile(rf"^VB-[{_RECEIPT_ALPHABET}]{{4}}-[{_RECEIPT_ALPHABET}]{{4}}$")


def new_receipt_id() -> str:
    """Short, readable over the phone: ``VB-7KQ4-M2XD``."""
    chars = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(8))
    return f"VB-{chars[:4]}-{chars[4:]}"


class ConsentAction(StrEnum):
    GIVEN = "given"
    FORM_UPLOADED = "form_uploaded"
    VERIFIED = "verified"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


DECISIONS = frozenset({ConsentAction.VERIFIED, ConsentAction.REJECTED})
#: the events that are a consent (and carry the receipt the client keeps)
CONSENTS = frozenset({ConsentAction.GIVEN, ConsentAction.FORM_UPLOADED})


class ConsentStatus(StrEnum):
    NONE = "none"
    GIVEN = "given"
    PENDING_VERIFICATION = "pending_verification"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


@dataclass
class ConsentEvent(Record):
    event_id: str
    client_id: str
    action: str
    text_version: str
    text_sha256: str
    method: str = "card"  # card | paper_form
    #: the short summary the card showed beside the full text (empty before 2026-12)
    summary_sha256: str = ""
    receipt_id: str = ""
    form_ref: str = ""
    form_sha256: str = ""
    actor: str = "client"
    #: a decision or withdrawal: the event id of the consent it is about (empty before 2026-12)
    refers_to: str = ""
    #: the activity that caused it: a turn that runs again recognises its own event
    cause: str = ""
    at: str = field(default_factory=lambda: utc_now().isoformat())


@dataclass
class ConsentState:
    status: ConsentStatus
    #: the event that set the status
    last: ConsentEvent | None = None
    #: the consent (given in the card, or the uploaded form) the status rests on
    consent: ConsentEvent | None = None

    @property
    def in_force(self) -> bool:
        return self.status in (ConsentStatus.GIVEN, ConsentStatus.PENDING_VERIFICATION)


class ConsentLog:
    """Append-only consent events of each client."""

    def __init__(self, store: DocumentStore, keep_for: timedelta = timedelta(days=1095)) -> None:
        self._store = store
        self._keep_for = keep_for

    async def append(self, event: ConsentEvent) -> tuple[ConsentEvent, bool]:
        """Record the event once: the stored event, and ``True`` if this call stored it.

        An event with the same id (the same answer, recorded by a turn that ran before or runs
        beside this one) stays as it is and is returned instead — with its receipt."""
        ttl = int(self._keep_for.total_seconds())
        stored, created = await self._store.create_or_get(
            CONSENT_EVENT,
            record_key(event.client_id, event.event_id),
            event.to_body(),
            partition=event.client_id,
            ttl_seconds=ttl,
        )
        if created and stored.expires_at is not None:
            # the others may be kept past a booked appointment: the new one as long as they
            store_now = stored.expires_at - ttl
            events = await self._store.list_partition(CONSENT_EVENT, event.client_id)
            latest = max((e.expires_at for e in events if e.expires_at is not None), default=0.0)
            ttl = max(ttl, math.ceil(latest - store_now))
        await self._store.extend_expiry(CONSENT_EVENT, event.client_id, ttl)
        return ConsentEvent.from_body(stored.body), created

    async def keep_past(self, client_id: str, moment: datetime) -> None:
        """An appointment ends at ``moment``: keep the client's events ``keep_for`` past it."""
        now = utc_now()
        ttl = seconds_until(max(now, moment) + self._keep_for, now)
        await self._store.extend_expiry(CONSENT_EVENT, client_id, ttl)

    async def events(self, client_id: str) -> list[ConsentEvent]:
        documents = await self._store.list_partition(CONSENT_EVENT, client_id)
        return [ConsentEvent.from_body(document.body) for document in documents]

    async def every_event(self) -> list[ConsentEvent]:
        """Every client's events, for the audit (a read of the whole log)."""
        documents = await self._store.list_kind(CONSENT_EVENT)
        return [ConsentEvent.from_body(document.body) for document in documents]

    async def status(self, client_id: str) -> ConsentState:
        return replay(await self.events(client_id))[0]


def replay(events: list[ConsentEvent]) -> tuple[ConsentState, set[str]]:
    """The status a client's events (in order) lead to, and the ids of the events that did not
    count: a counsellor's decision on a form counts only while a form awaits one (not, say,
    after a withdrawal)."""
    state = ConsentState(ConsentStatus.NONE)
    ignored = set()
    for event in events:
        action = ConsentAction(event.action)
        if action in DECISIONS and state.status != ConsentStatus.PENDING_VERIFICATION:
            ignored.add(event.event_id)
            continue
        state.status = {
            ConsentAction.GIVEN: ConsentStatus.GIVEN,
            ConsentAction.FORM_UPLOADED: ConsentStatus.PENDING_VERIFICATION,
            ConsentAction.VERIFIED: ConsentStatus.GIVEN,
            ConsentAction.REJECTED: ConsentStatus.REJECTED,
            ConsentAction.WITHDRAWN: ConsentStatus.WITHDRAWN,
        }[action]
        state.last = event
        if action in CONSENTS:
            state.consent = event
    return state, ignored
