"""The client's right of access and to data portability (Art. 15 and 20 GDPR, §83 SGB X):
everything stored about one client, read fresh from the store, and a short-lived link to it as
a JSON file.

What is theirs: the profile, the consent events with their receipts, the requests to a
counsellor with their appointments, the uploaded forms (when, their fingerprint, until when
they are kept), the line on the counsellor's overview, and wrong invitation codes of the last
hour. Each with the date it will be deleted. What is not theirs, or means nothing outside the
service, stays out: the counsellors' object ids, the conversation references, card and record
ids, the links to the tech-check page. Consent events refer to one another by receipt number.

The link is ``{BOT_PUBLIC_URL}/my-data/{token}``: the token names the client, sealed as the
tech-check links are (``LinkCodec``, with keys of its own), and lapses after
``LINK_MINUTES``. The file is made when the link is opened, so it shows what is stored then.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.config import Settings
from bot.domain.consent import CONSENT_EVENT, ConsentEvent
from bot.domain.consent_forms import CONSENT_FORM, FormFile
from bot.domain.counsellors import CASELOAD, CaseloadEntry
from bot.domain.handoffs import HANDOFF, Handoff
from bot.domain.invitations import CODE_ATTEMPTS
from bot.domain.profiles import PROFILE, ClientProfile
from bot.domain.record import record_key, utc_now
from bot.domain.techcheck_links import (
    LinkClaims,
    LinkCodec,
    LinkError,
    codec_for,
    public_base_url,
)
from bot.storage.documents import Document, DocumentStore

FORMAT = "videoberatung-bot/my-data/1"
PATH = "/my-data/"
LINK_MINUTES = 10
LINK_PURPOSE = "my-data-link"


@dataclass(frozen=True)
class Kept:
    """A record and when the store will delete it (``None``: not set)."""

    record: Any
    until: datetime | None


@dataclass
class ClientRecords:
    """Everything stored about one client, as read at ``read_at``."""

    read_at: datetime
    profile: Kept | None = None
    consents: list[Kept] = field(default_factory=list)
    handoffs: list[Kept] = field(default_factory=list)
    forms: list[FormFile] = field(default_factory=list)
    overview: list[Kept] = field(default_factory=list)
    failed_codes: int = 0

    @property
    def empty(self) -> bool:
        return not (
            self.profile
            or self.consents
            or self.handoffs
            or self.forms
            or self.overview
            or self.failed_codes
        )

    def receipts(self) -> dict[str, str]:
        """Consent event id → its receipt number (the only id a client knows)."""
        return {kept.record.event_id: kept.record.receipt_id for kept in self.consents}


class MyData:
    def __init__(self, store: DocumentStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._codec: LinkCodec = codec_for(settings, LINK_PURPOSE)

    async def read(self, client_id: str) -> ClientRecords:
        records = ClientRecords(read_at=utc_now())
        store = self._store
        profile_document = await store.get(PROFILE, client_id, partition=client_id)
        profile = None
        if profile_document is not None:
            profile = ClientProfile.from_body(profile_document.body)
            records.profile = _kept(profile, profile_document)
        for document in await store.list_partition(CONSENT_EVENT, client_id):
            records.consents.append(_kept(ConsentEvent.from_body(document.body), document))
        handoffs = []
        for document in await store.list_partition(HANDOFF, client_id):
            handoff = Handoff.from_body(document.body)
            handoffs.append(handoff)
            records.handoffs.append(_kept(handoff, document))
        records.forms = [
            FormFile.from_body(document.body)
            for document in await store.list_partition(CONSENT_FORM, client_id)
        ]
        for counsellor_id in sorted(counsellors_of(profile, handoffs)):
            line = await store.get(
                CASELOAD, record_key(counsellor_id, client_id), partition=counsellor_id
            )
            if line is not None:
                records.overview.append(_kept(CaseloadEntry.from_body(line.body), line))
        attempts = await store.get(CODE_ATTEMPTS, client_id, partition=client_id)
        if attempts is not None:
            records.failed_codes = len(attempts.body.get("attempts", []))
        return records

    # --- the link --------------------------------------------------------------------------

    def link(self, client_id: str, locale: str, now: float | None = None) -> str | None:
        """A fresh link to the client's file; ``None`` where browsers cannot reach us."""
        base = public_base_url(self._settings)
        if base is None:
            return None
        now = time.time() if now is None else now
        claims = LinkClaims(
            client_id, secrets.token_urlsafe(9), int(now) + LINK_MINUTES * 60, locale
        )
        return f"{base}{PATH}{self._codec.mint(claims)}"

    def claims(self, token: str, now: float | None = None) -> LinkClaims:
        """Whose file a token opens; ``LinkError`` for a forged, altered or lapsed one."""
        return self._codec.read(token, now)

    def claimed_locale(self, token: str) -> str | None:
        """The chat language of an authentic token, even a lapsed one."""
        try:
            return self._codec.read(token, now=0).locale
        except LinkError:
            return None

    # --- the file --------------------------------------------------------------------------

    def export(self, records: ClientRecords, locale: str) -> dict[str, Any]:
        """The machine-readable file (Art. 20): plain JSON, English field names, times in UTC."""
        settings = self._settings
        receipts = records.receipts()
        return {
            "format": FORMAT,
            "created_at": _utc(records.read_at),
            "chat_language": locale,
            "controller": {
                "name": settings.jobcenter_name,
                "phone": settings.jobcenter_phone,
                "address": settings.jobcenter_address,
                "privacy_notice": settings.privacy_url,
                "data_protection_contact": settings.data_protection_contact,
            },
            "profile": _profile(records.profile) if records.profile else None,
            "consent_events": [_consent(kept, receipts) for kept in records.consents],
            "requests": [_request(kept) for kept in records.handoffs],
            "consent_forms": [_form(entry) for entry in records.forms],
            "counsellor_overview": [_overview_line(kept) for kept in records.overview],
            "wrong_invitation_codes_this_hour": records.failed_codes,
            "retention_days": {
                "conversation": settings.state_ttl_days,
                "profile": settings.retention_profile_days,
                "requests": settings.retention_handoff_days,
                "consent_forms_after_decision": settings.retention_form_days,
                "consent_events": settings.retention_consent_days,
            },
        }


def counsellors_of(profile: ClientProfile | None, handoffs: list[Handoff]) -> set[str]:
    """The counsellors whose overview may list the client."""
    ids = {profile.counsellor_id} if profile is not None else set()
    for handoff in handoffs:
        ids |= {handoff.counsellor_id, *handoff.cards}
    return {counsellor_id.lower() for counsellor_id in ids} - {""}


def _kept(record: Any, document: Document) -> Kept:
    until = document.expires_at
    return Kept(record, None if until is None else datetime.fromtimestamp(until, UTC))


def _utc(moment: datetime | str | None) -> str | None:
    if not moment:
        return None
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _profile(kept: Kept) -> dict[str, Any]:
    profile: ClientProfile = kept.record
    return {
        "language": profile.locale,
        "stage": profile.stage,
        "topic": profile.topic or None,
        "consultation_type": profile.consultation_type or None,
        "preferred_times": profile.windows,
        "tech_check_answers": profile.tech,
        "measured_tech_check": profile.measured,
        "linked_by_invitation": bool(profile.counsellor_id),
        "linked_at": _utc(profile.linked_at),
        "updated_at": _utc(profile.updated_at),
        "kept_until": _utc(kept.until),
    }


def _consent(kept: Kept, receipts: dict[str, str]) -> dict[str, Any]:
    event: ConsentEvent = kept.record
    return {
        "receipt": event.receipt_id,
        "at": _utc(event.at),
        "action": event.action,
        "how": event.method,
        "by": "counsellor" if event.actor.startswith("counsellor") else "you",
        "text_version": event.text_version,
        "text_sha256": event.text_sha256,
        "summary_sha256": event.summary_sha256 or None,
        "form_sha256": event.form_sha256 or None,
        "about_receipt": receipts.get(event.refers_to) if event.refers_to else None,
        "kept_until": _utc(kept.until),
    }


def _request(kept: Kept) -> dict[str, Any]:
    handoff: Handoff = kept.record
    meeting = handoff.meeting
    return {
        "created_at": _utc(handoff.created_at),
        "updated_at": _utc(handoff.updated_at),
        "purpose": handoff.purpose,
        "consultation_type": handoff.consultation_type,
        "topic": handoff.topic,
        "status": handoff.status,
        "name_in_teams": handoff.client_name,
        "phone": handoff.phone or None,
        "preferred_times": handoff.windows,
        "tech_check_answers": handoff.tech,
        "consent_status": handoff.consent_status,
        "receipt": handoff.receipt_id or None,
        "interpreter": handoff.interpreter or None,
        "phone_offer": handoff.phone_offer or None,
        "appointment": {
            "start": _utc(meeting.get("start")),
            "end": _utc(meeting.get("end")),
            "join_url": meeting.get("join_url") or None,
        }
        if meeting
        else None,
        "kept_until": _utc(kept.until),
    }


def _form(entry: FormFile) -> dict[str, Any]:
    return {
        "sha256": entry.sha256,
        "uploaded_at": _utc(entry.uploaded_at),
        "decided_at": _utc(entry.decided_at),
        "deleted_by": _utc(entry.delete_after),
    }


def _overview_line(kept: Kept) -> dict[str, Any]:
    entry: CaseloadEntry = kept.record
    return {
        "name_in_teams": entry.client_name,
        "stage": entry.stage,
        "topic": entry.topic or None,
        "consultation_type": entry.consultation_type or None,
        "updated_at": _utc(entry.updated_at),
        "kept_until": _utc(kept.until),
    }
