"""Numbers without names: weekly counters of the journey's funnel and of why people left the
video path, for team leads (``python -m bot stats``, and the "Auswertung" card).

Only counters are stored — a few small documents per week and metric (``SHARDS`` of them, so
that turns at the same moment seldom write the same one), never a row per client —
and a count below ``SMALL`` is shown as "< 5", so that nobody can be singled out. Every count
is made where its event really happened once: after a client's turn has been committed (a turn
that runs again counts once), or where a write reports a real change (a counsellor's click
that won, a result the tech-check page accepted).

Weeks are ISO weeks in the job centre's time (Europe/Berlin), "2026-W49".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.domain.local_time import BERLIN
from bot.domain.record import utc_now
from bot.storage.documents import ConflictError, DocumentStore

STATS = "stats"
#: documents per week and metric: a count goes to one of them at random, a report adds them up
SHARDS = 16
#: counts below this are shown as "< 5"
SMALL = 5
SUPPRESSED = "< 5"


class Metric(StrEnum):
    INVITATIONS_CREATED = "invitations_created"
    INVITATIONS_REDEEMED = "invitations_redeemed"
    JOURNEYS_STARTED = "journeys_started"
    TECH_READY = "tech_ready"
    TECH_READY_WITH_ADVICE = "tech_ready_with_advice"
    TECH_HELP_NEEDED = "tech_help_needed"
    MEASURED_CHECKS = "measured_checks"
    CONSENTS_GIVEN = "consents_given"
    CONSENT_FORMS_UPLOADED = "consent_forms_uploaded"
    CONSENTS_WITHDRAWN = "consents_withdrawn"
    HANDOFFS_VIDEO = "handoffs_video"
    HANDOFFS_PHONE = "handoffs_phone"
    HANDOFFS_IN_PERSON = "handoffs_in_person"
    HANDOFFS_TECH_HELP = "handoffs_tech_help"
    APPOINTMENTS_SCHEDULED = "appointments_scheduled"
    SWITCHED_TO_PHONE = "switched_to_phone"
    SWITCHED_TO_IN_PERSON = "switched_to_in_person"
    DELETIONS = "deletions"
    # why people left the video path
    DROPOUT_CHOSE_PHONE = "dropout.chose_phone"
    DROPOUT_CHOSE_IN_PERSON = "dropout.chose_in_person"
    DROPOUT_PREFERS_PHONE = "dropout.prefers_phone"
    DROPOUT_TRY_LATER = "dropout.try_later"
    DROPOUT_CONSENT_DECLINED = "dropout.consent_declined"
    DROPOUT_CONSENT_WITHDRAWN = "dropout.consent_withdrawn"

    @classmethod
    def dropout(cls, reason: str) -> Metric:
        return cls(f"dropout.{reason}")

    @classmethod
    def handoff(cls, purpose: str, consultation_type: str) -> Metric:
        kind = "tech_help" if purpose == "tech_help" else consultation_type
        return cls(f"handoffs_{kind}")


def week_of(moment: datetime) -> str:
    return _iso_week(moment.astimezone(BERLIN).date())


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def shown(count: int) -> str:
    """What a report may show: the count, or "< 5" for 1 to 4."""
    return SUPPRESSED if 0 < count < SMALL else str(count)


@dataclass(frozen=True)
class WeekCounts:
    week: str
    counts: dict[str, int]

    @property
    def start(self) -> date:
        return week_start(self.week)

    def count(self, metric: Metric) -> int:
        return self.counts.get(metric.value, 0)

    def shown(self, metric: Metric) -> str:
        return shown(self.count(metric))


class Stats:
    def __init__(self, store: DocumentStore, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def count(self, metric: Metric) -> None:
        """One more of ``metric`` this week (eTag-guarded: no increment is lost; after a
        conflict the next try goes to another shard)."""
        week = week_of(self._clock())
        partition = _partition(week)
        while True:
            key = f"{week}:{metric.value}:{random.randrange(SHARDS)}"
            document = await self._store.get(STATS, key, partition=partition)
            body = {"week": week, "metric": metric.value, "count": 0}
            if document is not None:
                body = dict(document.body)
            body["count"] = int(body.get("count", 0)) + 1
            try:
                await self._store.save(STATS, key, body, partition=partition, read=document)
            except ConflictError:
                continue
            return

    async def weeks(self, number: int) -> list[WeekCounts]:
        """The last ``number`` weeks, this one included, oldest first."""
        # stepped back on the Berlin date: a week is 7 days there, also across DST changes
        today = self._clock().astimezone(BERLIN).date()
        weeks = [_iso_week(today - timedelta(weeks=back)) for back in range(number - 1, -1, -1)]
        found = []
        for week in weeks:
            counts: dict[str, int] = {}
            for document in await self._store.list_partition(STATS, _partition(week)):
                metric = str(document.body["metric"])
                counts[metric] = counts.get(metric, 0) + int(document.body.get("count", 0))
            found.append(WeekCounts(week, counts))
        return found


def _partition(week: str) -> str:
    return f"stats-{week}"
