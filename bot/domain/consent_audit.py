"""The consent audit for the data protection officer: one row per consent event, and the
history of one receipt — read only, without names, phone numbers or client ids.

A receipt's history is the consent it belongs to and what refers to it: the counsellor's
decision on an uploaded form and the withdrawal that ended it (``ConsentEvent.refers_to``;
events from before that field are linked as they were made: ``withdrawn-<event id>``, and a
decision to the latest form before it). ``counted`` says whether an event changed the
consent status — a decision on a form no longer awaiting one did not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

from bot.domain.consent import CONSENTS, DECISIONS, ConsentAction, ConsentEvent, replay

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
    "counted",
)


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
    counted: str  # "yes" | "no": whether the event changed the consent status

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class ConsentHistory:
    """Every client's events in time order (storage order breaks ties), replayed once."""

    def __init__(self, events: list[ConsentEvent]) -> None:
        self._by_client: dict[str, list[ConsentEvent]] = defaultdict(list)
        order = {id(event): index for index, event in enumerate(events)}
        for event in sorted(events, key=lambda event: (_moment(event.at), order[id(event)])):
            self._by_client[event.client_id].append(event)
        self._ignored = set()
        for client_events in self._by_client.values():
            self._ignored |= replay(client_events)[1]

    def rows_between(self, since: date, until: date | None = None) -> list[AuditRow]:
        """The events from ``since`` to ``until`` (both whole UTC days), in time order."""
        start = datetime(since.year, since.month, since.day, tzinfo=UTC)
        end = None if until is None else datetime(until.year, until.month, until.day, tzinfo=UTC)
        chosen = [
            event
            for events in self._by_client.values()
            for event in events
            if start <= _moment(event.at)
            and (end is None or _moment(event.at) < end + timedelta(1))
        ]
        return [self._row(event) for event in sorted(chosen, key=lambda e: _moment(e.at))]

    def receipt(self, receipt_id: str) -> list[AuditRow]:
        """The consent a receipt belongs to and what refers to it, in time order (the event
        with the receipt always among them); empty when no event has it."""
        named = next(
            (
                e
                for events in self._by_client.values()
                for e in events
                if e.receipt_id == receipt_id
            ),
            None,
        )
        if named is None:
            return []
        events = self._by_client[named.client_id]
        consent = named if named.action in CONSENTS else _consent_of(named, events)
        chain = [e for e in events if e is consent or e is named or _refers(e, consent, events)]
        return [self._row(event) for event in chain]

    def _row(self, event: ConsentEvent) -> AuditRow:
        decision = event.action in DECISIONS
        return AuditRow(
            receipt_id=event.receipt_id,
            time_utc=_moment(event.at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            kind=event.action,
            method=event.method,
            text_version=event.text_version,
            language=event.text_version.partition("/")[2],
            text_sha256=event.text_sha256,
            summary_sha256=event.summary_sha256,
            form_sha256=event.form_sha256,
            verified_by=event.actor.removeprefix("counsellor:") if decision else "",
            counted="no" if event.event_id in self._ignored else "yes",
        )


def _moment(at: str) -> datetime:
    moment = datetime.fromisoformat(at)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _consent_of(event: ConsentEvent, events: list[ConsentEvent]) -> ConsentEvent | None:
    """The consent a decision or withdrawal is about."""
    if event.refers_to:
        return next((e for e in events if e.event_id == event.refers_to), None)
    if event.action == ConsentAction.WITHDRAWN:  # recorded before ``refers_to``
        ended = event.event_id.removeprefix("withdrawn-")
        return next((e for e in events if e.event_id == ended), None)
    earlier = events[: events.index(event)]
    forms = [e for e in earlier if e.action == ConsentAction.FORM_UPLOADED]
    return forms[-1] if forms else None  # a decision recorded before ``refers_to``


def _refers(event: ConsentEvent, consent: ConsentEvent | None, events: list[ConsentEvent]) -> bool:
    return (
        consent is not None
        and event.action not in CONSENTS
        and (_consent_of(event, events) is consent)
    )
