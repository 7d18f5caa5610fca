"""Reminders before a scheduled video consultation.

24 hours and 15 minutes before the meeting the client gets a reminder; the counsellor gets a
short one at 15 minutes. Several bot instances may run a ``ReminderScheduler`` against the same
store. Each due reminder is *claimed* with an eTag-guarded replace before it is sent, so only one
instance sends it; a claim carries a lease, so a reminder whose claimant died is sent by another
instance once the lease has run out. Delivery is therefore at least once: a duplicate is only
possible if an instance dies (or loses the store) after sending and before recording it.

Storage layout — the document store lists only by partition, so "what is due" is found by time:

* kind ``reminder``, key = reminder id, partition ``due:YYYY-MM-DDTHH`` (the UTC hour bucket of
  ``due_at``). The scheduler lists the buckets from ``now - LOOK_BACK`` (48 h) up to the current
  hour: at most 49 single-partition reads per run, however many reminders exist. A reminder not
  sent within 48 h of its due time (every instance down that long) is no longer looked at — the
  meeting is over by then anyway.
* kind ``reminder_index``, key = reminder id, partition ``meeting:<meeting id>``: one small entry
  per reminder, so ``cancel_for_meeting`` finds the reminders with one partition read.

Both expire ``RETENTION`` (7 days) after the reminder was due. A retry never moves a reminder to
another bucket (a key cannot change its partition atomically); ``retry_at`` holds the next attempt.

Reminders hold no names or phone numbers: ``target_ref`` is an opaque reference the sender
resolves (e.g. a conversation key), and logs name reminders by id and errors by type only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from dataclasses import replace as copy_with
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from bot.domain.periodic import Periodic, Sleep
from bot.domain.record import utc_now
from bot.storage.documents import ConflictError, Document, DocumentStore

log = logging.getLogger(__name__)

REMINDER = "reminder"
REMINDER_INDEX = "reminder_index"

#: how far back the scheduler looks for reminders that are due but not sent
LOOK_BACK = timedelta(hours=48)
#: how long a reminder (and its index entry) is kept after it was due
RETENTION = timedelta(days=7)
#: the shortest time to live ever given to the store (a write long after the due time)
_MIN_TTL_SECONDS = 3600

Clock = Callable[[], datetime]
Send = Callable[["Reminder"], Awaitable[None]]


class ReminderTarget(StrEnum):
    CLIENT = "client"
    COUNSELLOR = "counsellor"


class ReminderKind(StrEnum):
    DAY_BEFORE = "24h"
    SHORTLY_BEFORE = "15min"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"


#: who is reminded, which reminder, how long before the start of the meeting
PLAN: tuple[tuple[ReminderTarget, ReminderKind, timedelta], ...] = (
    (ReminderTarget.CLIENT, ReminderKind.DAY_BEFORE, timedelta(hours=24)),
    (ReminderTarget.CLIENT, ReminderKind.SHORTLY_BEFORE, timedelta(minutes=15)),
    (ReminderTarget.COUNSELLOR, ReminderKind.SHORTLY_BEFORE, timedelta(minutes=15)),
)


@dataclass
class Reminder:
    """One reminder; times are UTC ISO strings, as in the other domain records."""

    reminder_id: str
    meeting_id: str
    handoff_id: str
    client_id: str = field(repr=False)
    target: str  # ReminderTarget
    target_ref: str = field(repr=False)  # opaque, understood by the sender
    due_at: str
    kind: str  # ReminderKind
    locale: str
    meeting_start: str  # so the sender can say when, and late reminders are dropped
    status: str = ReminderStatus.PENDING
    claimed_by: str = ""
    claimed_until: str = ""
    attempts: int = 0
    retry_at: str = ""
    sent_at: str = ""
    last_error: str = ""  # exception type or reason, never a message
    #: the store's eTag of the version this object was read as; not part of the document
    etag: str = field(default="", repr=False, compare=False)

    def to_body(self) -> dict[str, Any]:
        body = asdict(self)
        del body["etag"]
        return body

    @classmethod
    def from_document(cls, document: Document) -> Self:
        known = {f.name for f in fields(cls)} - {"etag"}
        values = {name: value for name, value in document.body.items() if name in known}
        return cls(**values, etag=document.etag)

    @property
    def due_time(self) -> datetime:
        return datetime.fromisoformat(self.due_at)

    @property
    def meeting_time(self) -> datetime:
        return datetime.fromisoformat(self.meeting_start)

    @property
    def partition(self) -> str:
        return due_bucket(self.due_time)

    def is_due(self, now: datetime) -> bool:
        """Pending and due (and past any retry time), or claimed by someone whose lease ran out."""
        if self.status == ReminderStatus.PENDING:
            if self.retry_at and datetime.fromisoformat(self.retry_at) > now:
                return False
            return self.due_time <= now
        if self.status == ReminderStatus.CLAIMED:
            return not self.claimed_until or datetime.fromisoformat(self.claimed_until) <= now
        return False


def due_bucket(moment: datetime) -> str:
    """The partition of reminders due within the UTC hour of ``moment``."""
    return f"due:{as_utc(moment):%Y-%m-%dT%H}"


def meeting_partition(meeting_id: str) -> str:
    return f"meeting:{meeting_id}"


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("reminder times must be timezone-aware")
    return moment.astimezone(UTC)


def reminder_id(meeting_id: str, start: datetime, target: str, kind: str) -> str:
    """Deterministic, so scheduling a meeting twice finds the same reminders.

    The start time is part of it: a meeting moved to another time gets new reminders (the old
    ones are cancelled) instead of colliding with the old ones. Hashed, so that ids in logs do
    not reveal meeting ids.
    """
    text = f"{meeting_id}|{as_utc(start).isoformat()}|{target}|{kind}"
    return "rem-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _ttl_seconds(due_at: datetime, now: datetime) -> int:
    """Seconds from ``now`` until ``RETENTION`` after ``due_at``.

    The store measures time to live on its own clock, so it gets a duration, not a point in
    time: that stays right when the injected clock is offset from the wall clock (as in tests).
    """
    return max(int((due_at + RETENTION - now).total_seconds()), _MIN_TTL_SECONDS)


class Reminders:
    """The stored reminders: scheduling, cancelling, finding due ones, and the claim protocol."""

    def __init__(
        self, store: DocumentStore, clock: Clock = utc_now, *, look_back: timedelta = LOOK_BACK
    ) -> None:
        self._store = store
        self._clock = clock
        self._look_back = look_back

    async def schedule(
        self,
        meeting_id: str,
        handoff_id: str,
        client_id: str,
        client_ref: str,
        counsellor_ref: str,
        start: datetime,
        locale: str,
    ) -> list[Reminder]:
        """Create the reminders of a meeting that are still ahead; returns them as stored.

        Idempotent: the same meeting and start again finds the reminders already there (and
        revives ones that were cancelled). A different start for a known meeting cancels the
        reminders of the old start. An empty ``counsellor_ref`` schedules no counsellor reminder.
        """
        if not meeting_id:
            raise ValueError("meeting_id is required")
        start = as_utc(start)
        now = as_utc(self._clock())
        await self._cancel_entries(meeting_id, keep_start=start.isoformat())
        refs = {ReminderTarget.CLIENT: client_ref, ReminderTarget.COUNSELLOR: counsellor_ref}
        scheduled = []
        for target, kind, before in PLAN:
            due_at = start - before
            if due_at <= now or not refs[target]:
                continue
            reminder = Reminder(
                reminder_id=reminder_id(meeting_id, start, target, kind),
                meeting_id=meeting_id,
                handoff_id=handoff_id,
                client_id=client_id,
                target=target,
                target_ref=refs[target],
                due_at=due_at.isoformat(),
                kind=kind,
                locale=locale,
                meeting_start=start.isoformat(),
            )
            scheduled.append(await self._create(reminder, now))
        return scheduled

    async def cancel_for_meeting(self, meeting_id: str) -> int:
        """Cancel the meeting's reminders not sent yet; returns how many were cancelled."""
        return await self._cancel_entries(meeting_id, keep_start=None)

    async def for_meeting(self, meeting_id: str) -> list[Reminder]:
        """Every stored reminder of a meeting, whatever its status."""
        found = []
        for entry in await self._store.list_partition(
            REMINDER_INDEX, meeting_partition(meeting_id)
        ):
            document = await self._store.get(
                REMINDER, entry.body["reminder_id"], partition=entry.body["partition"]
            )
            if document is not None:
                found.append(Reminder.from_document(document))
        return found

    async def due(self, now: datetime) -> list[Reminder]:
        """Reminders to send at ``now``, oldest first: one partition read per hour bucket."""
        now = as_utc(now)
        found = []
        hour = (now - self._look_back).replace(minute=0, second=0, microsecond=0)
        while hour <= now:
            for document in await self._store.list_partition(REMINDER, due_bucket(hour)):
                reminder = Reminder.from_document(document)
                if reminder.is_due(now):
                    found.append(reminder)
            hour += timedelta(hours=1)
        return sorted(found, key=lambda reminder: reminder.due_time)

    async def claim(
        self, reminder: Reminder, instance_id: str, now: datetime, lease: timedelta
    ) -> Reminder | None:
        """Claim a reminder as read by ``due``; ``None`` if anyone changed it since (lost race).

        Taking over an expired lease counts as an attempt: the previous claimant's outcome is
        unknown, and a reminder that kills every process sending it must not loop forever.
        """
        claimed = copy_with(
            reminder,
            status=ReminderStatus.CLAIMED,
            claimed_by=instance_id,
            claimed_until=(as_utc(now) + lease).isoformat(),
            attempts=reminder.attempts + (1 if reminder.status == ReminderStatus.CLAIMED else 0),
        )
        return await self._write_if_current(claimed, now)

    async def mark_sent(self, claimed: Reminder, now: datetime) -> bool:
        """``False`` if the claim was lost meanwhile (cancelled, or the lease ran out)."""
        sent = copy_with(
            claimed, status=ReminderStatus.SENT, sent_at=as_utc(now).isoformat(), claimed_until=""
        )
        return await self._write_if_current(sent, now) is not None

    async def retry_later(
        self, claimed: Reminder, now: datetime, retry_at: datetime, error: str
    ) -> bool:
        """Back to pending after a failed attempt; ``attempts`` is already counted in."""
        pending = copy_with(
            claimed,
            status=ReminderStatus.PENDING,
            claimed_by="",
            claimed_until="",
            retry_at=as_utc(retry_at).isoformat(),
            last_error=error,
        )
        return await self._write_if_current(pending, now) is not None

    async def mark_failed(self, claimed: Reminder, now: datetime, error: str) -> bool:
        failed = copy_with(
            claimed, status=ReminderStatus.FAILED, claimed_until="", last_error=error
        )
        return await self._write_if_current(failed, now) is not None

    async def _create(self, reminder: Reminder, now: datetime) -> Reminder:
        ttl = _ttl_seconds(reminder.due_time, now)
        # The index entry first: a crash in between leaves an entry pointing at nothing
        # (harmless), never a reminder that cancel_for_meeting cannot find.
        with contextlib.suppress(ConflictError):
            await self._store.create(
                REMINDER_INDEX,
                reminder.reminder_id,
                {
                    "reminder_id": reminder.reminder_id,
                    "partition": reminder.partition,
                    "meeting_start": reminder.meeting_start,
                },
                partition=meeting_partition(reminder.meeting_id),
                ttl_seconds=ttl,
            )
        while True:
            try:
                document = await self._store.create(
                    REMINDER,
                    reminder.reminder_id,
                    reminder.to_body(),
                    partition=reminder.partition,
                    ttl_seconds=ttl,
                )
            except ConflictError:
                stored = await self._store.get(
                    REMINDER, reminder.reminder_id, partition=reminder.partition
                )
                if stored is None:  # expired or deleted in between: create again
                    continue
                existing = Reminder.from_document(stored)
                if existing.status != ReminderStatus.CANCELLED:
                    return existing
                # Scheduled again after a cancellation: a fresh reminder under the same id.
                revived = await self._write_if_current(copy_with(reminder, etag=stored.etag), now)
                if revived is not None:
                    return revived
                continue
            return Reminder.from_document(document)

    async def _cancel_entries(self, meeting_id: str, keep_start: str | None) -> int:
        """Cancel the meeting's unsent reminders, except those for the start ``keep_start``."""
        cancelled = 0
        for entry in await self._store.list_partition(
            REMINDER_INDEX, meeting_partition(meeting_id)
        ):
            if keep_start is not None and entry.body.get("meeting_start") == keep_start:
                continue
            if await self._cancel(entry.body["reminder_id"], entry.body["partition"]):
                cancelled += 1
        return cancelled

    async def _cancel(self, key: str, partition: str) -> bool:
        while True:
            document = await self._store.get(REMINDER, key, partition=partition)
            if document is None:
                return False
            reminder = Reminder.from_document(document)
            if reminder.status not in (ReminderStatus.PENDING, ReminderStatus.CLAIMED):
                return False
            # A claimed reminder is cancelled too: its sender's mark_sent then fails and logs.
            cancelled = copy_with(
                reminder, status=ReminderStatus.CANCELLED, claimed_by="", claimed_until=""
            )
            if await self._write_if_current(cancelled, as_utc(self._clock())) is not None:
                return True

    async def _write_if_current(self, reminder: Reminder, now: datetime) -> Reminder | None:
        """Replace guarded by ``reminder.etag``; ``None`` on a conflict.

        The time to live is given again on every write: a replace without one would make the
        document live forever.
        """
        try:
            document = await self._store.replace(
                REMINDER,
                reminder.reminder_id,
                reminder.to_body(),
                partition=reminder.partition,
                etag=reminder.etag,
                ttl_seconds=_ttl_seconds(reminder.due_time, as_utc(now)),
            )
        except ConflictError:
            return None
        return copy_with(reminder, etag=document.etag)


class ReminderScheduler:
    """Sends due reminders; any number of instances may run against one store.

    Protocol per due reminder: claim it (eTag-guarded replace: status ``claimed``, ``claimed_by``,
    ``claimed_until`` = now + lease); only the instance whose replace succeeded sends; then it
    records ``sent`` (eTag-guarded with the claim's eTag). A failed send counts an attempt and
    goes back to ``pending`` with ``retry_at`` after an exponential backoff, or to ``failed``
    after ``max_attempts``. Sends are cut off at ``send_timeout`` (half the lease by default), so
    a slow send cannot outlive its lease and be sent a second time by another instance.
    """

    def __init__(
        self,
        reminders: Reminders,
        send: Send,
        instance_id: str,
        clock: Clock = utc_now,
        lease: timedelta = timedelta(minutes=2),
        *,
        interval_seconds: float = 30.0,
        max_attempts: int = 5,
        retry_backoff: timedelta = timedelta(minutes=1),
        max_backoff: timedelta = timedelta(minutes=30),
        send_timeout: timedelta | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        send_timeout = lease / 2 if send_timeout is None else send_timeout
        if not timedelta(0) < send_timeout < lease:
            raise ValueError("send_timeout must be positive and shorter than the lease")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._reminders = reminders
        self._send = send
        self._instance_id = instance_id
        self._clock = clock
        self._lease = lease
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._max_backoff = max_backoff
        self._send_timeout = send_timeout
        self._loop = Periodic(f"reminders:{instance_id}", self.run_once, interval_seconds, sleep)

    def backoff(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 … minutes, capped."""
        wait: timedelta = self._retry_backoff * 2 ** max(attempts - 1, 0)
        return min(wait, self._max_backoff)

    async def run_once(self) -> int:
        """Send what is due now; returns how many reminders this instance sent."""
        sent = 0
        for reminder in await self._reminders.due(self._clock()):
            if self._loop.stopping:
                break
            if await self._process(reminder):
                sent += 1
        return sent

    async def _process(self, reminder: Reminder) -> bool:
        now = self._clock()
        claimed = await self._reminders.claim(reminder, self._instance_id, now, self._lease)
        if claimed is None:
            return False  # another instance claimed (or someone cancelled) it first
        if claimed.attempts >= self._max_attempts:  # only reached through expired leases
            await self._give_up(claimed, now, "lease_expired")
            return False
        if now >= claimed.meeting_time:
            await self._give_up(claimed, now, "meeting_started")
            return False
        try:
            async with asyncio.timeout(self._send_timeout.total_seconds()):
                await self._send(claimed)
        except Exception as error:
            await self._failed_attempt(claimed, type(error).__name__)
            return False
        if await self._reminders.mark_sent(claimed, self._clock()):
            log.info("reminder %s (%s, %s) sent", claimed.reminder_id, claimed.target, claimed.kind)
        else:
            log.warning(
                "reminder %s was sent, but its claim was lost meanwhile (cancelled or expired)",
                claimed.reminder_id,
            )
        return True

    async def _failed_attempt(self, claimed: Reminder, error: str) -> None:
        now = self._clock()
        failed = copy_with(claimed, attempts=claimed.attempts + 1)
        if failed.attempts >= self._max_attempts:
            await self._give_up(failed, now, error)
            return
        retry_at = now + self.backoff(failed.attempts)
        log.warning(
            "reminder %s: send failed (%s), attempt %d of %d, retry at %s",
            failed.reminder_id,
            error,
            failed.attempts,
            self._max_attempts,
            retry_at.isoformat(),
        )
        if not await self._reminders.retry_later(failed, now, retry_at, error):
            log.warning("reminder %s: claim lost before the retry was recorded", failed.reminder_id)

    async def _give_up(self, claimed: Reminder, now: datetime, reason: str) -> None:
        log.error(
            "reminder %s given up (%s) after %d failed attempts",
            claimed.reminder_id,
            reason,
            claimed.attempts,
        )
        if not await self._reminders.mark_failed(claimed, now, reason):
            log.warning(
                "reminder %s: claim lost before the failure was recorded", claimed.reminder_id
            )

    @property
    def running(self) -> bool:
        return self._loop.running

    def start(self) -> None:
        """Run ``run_once`` every ``interval_seconds`` in a background task (idempotent)."""
        self._loop.start()

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Stop the background task; a run in progress may finish (up to ``grace_seconds``)."""
        await self._loop.stop(grace_seconds)
