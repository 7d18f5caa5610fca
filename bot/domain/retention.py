"""How long each kind of record is kept — the deletion concept in code — and the daily purge.

Every kind the service stores is listed in ``RECORD_KINDS`` with its period, the setting that
sets it and when the period starts (docs/privacy/deletion-concept.md is written from it, and a
test holds both to the code). Almost all of it is enforced by the stores themselves: every write
of a record carries its time to live, counted from that write (or from the appointment), so
Cosmos DB deletes the item on its own (item ``ttl``) and SQLite hides it at once and deletes it
in the purge. Consent events cannot be rewritten, so their expiry is the one thing that moves
(``DocumentStore.extend_expiry``). Uploaded form files live outside the store: the daily purge
deletes them (``ConsentForms.purge_due``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.card_answers import CARD_ANSWER
from bot.domain.consent import CONSENT_EVENT
from bot.domain.consent_forms import CONSENT_FORM, ConsentForms
from bot.domain.counsellors import CASELOAD, COUNSELLOR
from bot.domain.handoffs import HANDOFF
from bot.domain.invitations import CODE_ATTEMPTS, INVITATION
from bot.domain.profiles import PROFILE
from bot.domain.record import seconds_until, utc_now
from bot.domain.reminders import REMINDER, REMINDER_INDEX
from bot.domain.stats import STATS
from bot.storage.documents import ConflictError, DocumentStore, JsonObject

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

#: conversation state (bot/hosting/state_storage.py) and the tech-check page's usage log
#: (bot/techcheck_page/usage.py) are stored by layers above this one
STATE = "state"
TECHCHECK_USAGE = "techcheck_usage"
#: daily dropout counters written by versions before the weekly ``stats`` (no longer written)
LEGACY_DROPOUT = "dropout"


@dataclass(frozen=True)
class RetentionPolicy:
    """The configurable periods (``RETENTION_*_DAYS``, ``BOT_STATE_TTL_DAYS``)."""

    state: timedelta = timedelta(days=30)
    profile: timedelta = timedelta(days=180)
    handoff: timedelta = timedelta(days=180)
    form: timedelta = timedelta(days=30)
    consent: timedelta = timedelta(days=1095)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            state=timedelta(days=settings.state_ttl_days),
            profile=timedelta(days=settings.retention_profile_days),
            handoff=timedelta(days=settings.retention_handoff_days),
            form=timedelta(days=settings.retention_form_days),
            consent=timedelta(days=settings.retention_consent_days),
        )


@dataclass(frozen=True)
class KindRetention:
    kind: str
    #: the setting that sets the period; empty where the period is fixed in code
    setting: str
    #: how long, and from when, as the deletion concept says it
    rule: str
    #: who deletes it: "store" (time to live), "purge" (the daily purge), "uninstall", "kept"
    enforced_by: str


RECORD_KINDS: tuple[KindRetention, ...] = (
    KindRetention(STATE, "BOT_STATE_TTL_DAYS", "days after the conversation's last turn", "store"),
    KindRetention(CARD_ANSWER, "BOT_STATE_TTL_DAYS", "days after the card was answered", "store"),
    KindRetention(
        PROFILE,
        "RETENTION_PROFILE_DAYS",
        "days after its last change (each step writes it)",
        "store",
    ),
    KindRetention(CASELOAD, "RETENTION_PROFILE_DAYS", "days after the line last changed", "store"),
    KindRetention(
        HANDOFF,
        "RETENTION_HANDOFF_DAYS",
        "days after its last change or the end of its appointment, whichever is later",
        "store",
    ),
    KindRetention(
        CONSENT_EVENT,
        "RETENTION_CONSENT_DAYS",
        "days after the client's last consent event (a withdrawal, say) or the end of their"
        " last appointment, whichever is later; all of a client's events go together",
        "store",
    ),
    KindRetention(
        CONSENT_FORM,
        "RETENTION_FORM_DAYS",
        "days after the counsellor confirmed or rejected the form; a form nobody decided on"
        " goes RETENTION_HANDOFF_DAYS after the upload (the file and its entry)",
        "purge",
    ),
    KindRetention(
        INVITATION,
        "INVITATION_VALID_DAYS",
        "days of validity, then 30 days more (to answer “expired”, not “unknown”)",
        "store",
    ),
    KindRetention(CODE_ATTEMPTS, "", "one hour after the first failed code of the hour", "store"),
    KindRetention(REMINDER, "", "7 days after the reminder was due", "store"),
    KindRetention(REMINDER_INDEX, "", "7 days after the reminder was due", "store"),
    KindRetention(
        TECHCHECK_USAGE,
        "TECHCHECK_LINK_MINUTES",
        "minutes of the link's validity, then 10 minutes more",
        "store",
    ),
    KindRetention(
        COUNSELLOR,
        "",
        "while the counsellor has the app installed (staff data; uninstalling deletes it)",
        "uninstall",
    ),
    KindRetention(STATS, "", "kept: weekly counters without any personal data", "kept"),
    KindRetention(
        LEGACY_DROPOUT, "", "kept: daily counters of earlier versions, no personal data", "kept"
    ),
)


@dataclass(frozen=True)
class PurgeReport:
    documents: int
    forms: int
    #: records from before retention existed that got their expiry in this run
    backfilled: int = 0


class RetentionSweep:
    """The daily purge: removes what has expired from the store and the form files that are
    due, and gives records written before there was retention (no expiry) the one they would
    have had. Any number of instances may run it: each step is idempotent."""

    def __init__(
        self,
        store: DocumentStore,
        forms: ConsentForms,
        policy: RetentionPolicy,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._forms = forms
        self._policy = policy
        self._clock = clock

    async def run_once(self) -> PurgeReport:
        """Each step on its own: a form storage that does not answer stops none of the others."""
        backfilled = await self._step("backfill", self._backfill)
        forms = await self._step("forms", lambda: self._forms.purge_due(self._clock()))
        documents = await self._step("documents", self._store.purge_expired)
        log.info(
            "retention purge: %d expired documents, %d form files, %d older records dated",
            documents,
            forms,
            backfilled,
        )
        return PurgeReport(documents, forms, backfilled)

    async def _step(self, name: str, step: Callable[[], Awaitable[int]]) -> int:
        try:
            return await step()
        except Exception as error:  # the next run tries again
            log.error("retention purge, %s: %s", name, type(error).__name__)
            return 0

    async def _backfill(self) -> int:
        now = self._clock()
        dated = 0
        for kind, keep in (
            (PROFILE, self._policy.profile),
            (CASELOAD, self._policy.profile),
            (HANDOFF, self._policy.handoff),
        ):
            for document in await self._store.list_kind(kind):
                if document.expires_at is not None:
                    continue
                until = _last_moment(document.body, now) + keep
                try:
                    await self._store.replace(
                        kind,
                        document.key,
                        document.body,
                        partition=document.partition,
                        etag=document.etag,
                        ttl_seconds=seconds_until(until, now),
                    )
                except ConflictError:
                    continue  # written meanwhile, and so given its expiry
                dated += 1
        undated: dict[str, datetime] = {}
        for document in await self._store.list_kind(CONSENT_EVENT):
            if document.expires_at is None:
                moment = _last_moment(document.body, now)
                undated[document.partition] = max(moment, undated.get(document.partition, moment))
        for client_id, last in undated.items():
            ttl = seconds_until(last + self._policy.consent, now)
            dated += await self._store.extend_expiry(CONSENT_EVENT, client_id, ttl)
        return dated


def _last_moment(body: JsonObject, now: datetime) -> datetime:
    """The latest time a record names: its last change, its event or its appointment's end
    (now, if it names none that can be read)."""
    named = [body.get("updated_at"), body.get("at"), (body.get("meeting") or {}).get("end")]
    moments = []
    for value in named:
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            moments.append(moment)
    return max(moments, default=now)
