"""The consent audit for the data protection officer: one row per consent event, and the
history of one receipt — read only, without names, phone numbers or client ids.

A receipt's history is the consent it names and what followed from it: the counsellor's
decision on an uploaded form, and the withdrawal that ended it (``withdrawn-<event id>``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

from bot.domain.consent import DECISIONS, ConsentAction, ConsentEvent

#: the columns, in order (CSV header and JSON keys)
FIELDS = (
    "receipt_id",
    "time_utc",
    "kind",
    "method",
    "text_version",
    "language",
    "text_sha256",
    "summary_sha256",
    "form_sha256",
    "verified_by",
)
CONSENTS = frozenset({ConsentAction.GIVEN, ConsentAction.FORM_UPLOADED})


@dataclass(frozen=True)
class AuditRow:
    receipt_id: str
    time_utc: str
    kind: str  # given | form_uploaded | verified | rejected | withdrawn
    method: str  # card | paper_form
    text_version: str  # 2026-12/ar
    language: str
    text_sha256: str
    summary_sha256: str
    form_sha256: str
    verified_by: str  # the deciding counsellor's Entra object id

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def audit_row(event: ConsentEvent) -> AuditRow:
    actor = event.actor.removeprefix("counsellor:") if event.actor.startswith("counsellor:") else ""
    return AuditRow(
        receipt_id=event.receipt_id,
        time_utc=utc_time(event.at),
        kind=event.action,
        method=event.method,
        text_version=event.text_version,
        language=event.text_version.partition("/")[2],
        text_sha256=event.text_sha256,
        summary_sha256=event.summary_sha256,
        form_sha256=event.form_sha256,
        verified_by=actor if event.action in DECISIONS else "",
    )


def utc_time(at: str) -> str:
    """``2026-12-02T06:10:00+01:00`` → ``2026-12-02T05:10:00Z`` (seconds)."""
    return _moment(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(at: str) -> datetime:
    moment = datetime.fromisoformat(at)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _in_time_order(events: list[ConsentEvent]) -> list[ConsentEvent]:
    return sorted(events, key=lambda event: _moment(event.at))


def rows_between(
    events: list[ConsentEvent], since: date, until: date | None = None
) -> list[AuditRow]:
    """The events from ``since`` to ``until`` (both whole UTC days), in time order."""
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = None if until is None else datetime(until.year, until.month, until.day, tzinfo=UTC)
    return [
        audit_row(event)
        for event in _in_time_order(events)
        if _moment(event.at) >= start and (end is None or _moment(event.at) < end + timedelta(1))
    ]


def receipt_history(events: list[ConsentEvent], receipt_id: str) -> list[AuditRow]:
    """The consent a receipt belongs to and what followed from it, in time order; empty when
    no event has the receipt."""
    named = [event for event in events if event.receipt_id == receipt_id]
    if not named:
        return []
    of_client = _in_time_order([e for e in events if e.client_id == named[0].client_id])
    consent = _consent_of(named[0], of_client)
    if consent is None:
        return [audit_row(named[0])]
    return [audit_row(event) for event in _chain(consent, of_client)]


def _consent_of(event: ConsentEvent, of_client: list[ConsentEvent]) -> ConsentEvent | None:
    """The consent (given in the card, or an uploaded form) an event belongs to."""
    if event.action in CONSENTS:
        return event
    if event.action == ConsentAction.WITHDRAWN:
        ended = event.event_id.removeprefix("withdrawn-")
        return next((e for e in of_client if e.event_id == ended), None)
    earlier = [
        e
        for e in of_client
        if e.action == ConsentAction.FORM_UPLOADED and _moment(e.at) <= _moment(event.at)
    ]
    return earlier[-1] if earlier else None  # a decision: on the latest form before it


def _chain(consent: ConsentEvent, of_client: list[ConsentEvent]) -> list[ConsentEvent]:
    """The consent, then what followed from it until the client's next consent: the decision
    on its form, its withdrawal."""
    chain = [consent]
    for event in of_client[of_client.index(consent) + 1 :]:
        if event.action in CONSENTS:
            break  # the next consent has receipts of its own
        if event.event_id == f"withdrawn-{consent.event_id}" or (
            event.action in DECISIONS and consent.action == ConsentAction.FORM_UPLOADED
        ):
            chain.append(event)
    return chain
