"""Reminders before a video consultation: scheduling, due times, the claim protocol, retries."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.domain.reminders import (
    REMINDER,
    REMINDER_INDEX,
    Reminder,
    ReminderKind,
    Reminders,
    ReminderScheduler,
    ReminderStatus,
    ReminderTarget,
    due_bucket,
    meeting_partition,
)
from bot.storage import DocumentStore, open_document_store

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
START = datetime(2030, 3, 6, 10, 0, tzinfo=UTC)  # two days and an hour ahead
CLIENT_REF = "conv:a:aad-client-1"
COUNSELLOR_REF = "conv:a:aad-counsellor-7"


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Outbox:
    """Stands in for the Teams sender; optionally fails the first ``failures`` sends."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[str] = []
        self.calls = 0
        self.failures = failures

    async def __call__(self, reminder: Reminder) -> None:
        self.calls += 1
        await asyncio.sleep(0)  # let concurrent schedulers interleave
        if self.calls <= self.failures:
            raise ConnectionError(f"Teams unreachable for {reminder.target_ref}")
        self.sent.append(reminder.reminder_id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def reminders(store: DocumentStore, clock: FakeClock) -> Reminders:
    return Reminders(store, clock)


async def schedule(
    reminders: Reminders, meeting_id: str = "meeting-1", start: datetime = START
) -> list[Reminder]:
    return await reminders.schedule(
        meeting_id, "handoff-1", "client-1", CLIENT_REF, COUNSELLOR_REF, start, "de"
    )


def scheduler(
    reminders: Reminders, send: Outbox, clock: FakeClock, instance_id: str = "instance-a"
) -> ReminderScheduler:
    return ReminderScheduler(reminders, send, instance_id, clock)


async def stored_reminders(store: DocumentStore, start: datetime = START) -> list[Reminder]:
    """Every reminder in the hour buckets around ``start`` (read straight from the store)."""
    found = []
    hour = start - timedelta(hours=25)
    while hour <= start:
        documents = await store.list_partition(REMINDER, due_bucket(hour))
        found += [Reminder.from_document(document) for document in documents]
        hour += timedelta(hours=1)
    return found


async def test_schedule_creates_three_reminders_with_due_times(
    reminders: Reminders, store: DocumentStore
) -> None:
    created = await schedule(reminders)

    assert {(r.target, r.kind, r.due_time, r.target_ref) for r in created} == {
        ("client", "24h", START - timedelta(hours=24), CLIENT_REF),
        ("client", "15min", START - timedelta(minutes=15), CLIENT_REF),
        ("counsellor", "15min", START - timedelta(minutes=15), COUNSELLOR_REF),
    }
    assert all(r.status == ReminderStatus.PENDING and r.attempts == 0 for r in created)
    assert all(r.meeting_start == START.isoformat() for r in created)
    assert len({r.reminder_id for r in created}) == 3
    day_before = next(r for r in created if r.kind == ReminderKind.DAY_BEFORE)
    assert day_before.partition == "due:2030-03-05T10"
    assert sorted(r.reminder_id for r in await stored_reminders(store)) == sorted(
        r.reminder_id for r in created
    )
    index = await store.list_partition(REMINDER_INDEX, meeting_partition("meeting-1"))
    assert len(index) == 3


async def test_meeting_in_two_hours_gets_only_the_15_minute_reminders(
    reminders: Reminders, store: DocumentStore
) -> None:
    start = NOW + timedelta(hours=2)

    created = await schedule(reminders, start=start)

    assert {(r.target, r.kind) for r in created} == {("client", "15min"), ("counsellor", "15min")}
    assert len(await stored_reminders(store, start)) == 2


async def test_meeting_starting_in_ten_minutes_gets_no_reminders(reminders: Reminders) -> None:
    assert await schedule(reminders, start=NOW + timedelta(minutes=10)) == []


async def test_scheduling_twice_creates_nothing_new(
    reminders: Reminders, store: DocumentStore
) -> None:
    first = await schedule(reminders)
    again = await schedule(reminders)

    assert sorted(r.reminder_id for r in again) == sorted(r.reminder_id for r in first)
    assert len(await stored_reminders(store)) == 3
    assert len(await store.list_partition(REMINDER_INDEX, meeting_partition("meeting-1"))) == 3


async def test_naive_start_time_is_refused(reminders: Reminders) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await schedule(reminders, start=START.replace(tzinfo=None))


async def test_nothing_is_due_before_its_time(reminders: Reminders, clock: FakeClock) -> None:
    await schedule(reminders)

    assert await reminders.due(clock()) == []
    day_before = START - timedelta(hours=24)
    assert await reminders.due(day_before - timedelta(seconds=1)) == []

    clock.now = day_before
    assert [r.kind for r in await reminders.due(clock())] == ["24h"]

    clock.now = START - timedelta(minutes=15, seconds=1)
    assert len(await reminders.due(clock())) == 1
    clock.advance(timedelta(seconds=1))
    assert sorted((r.target, r.kind) for r in await reminders.due(clock())) == [
        ("client", "15min"),
        ("client", "24h"),
        ("counsellor", "15min"),
    ]


async def test_reminders_older_than_the_look_back_are_not_listed(
    store: DocumentStore, clock: FakeClock
) -> None:
    reminders = Reminders(store, clock, look_back=timedelta(hours=2))
    await schedule(reminders)

    later = START - timedelta(hours=24) + timedelta(hours=3)
    assert await reminders.due(later) == []


async def test_due_reminders_are_sent_once_and_marked_sent(
    reminders: Reminders, clock: FakeClock
) -> None:
    created = await schedule(reminders)
    outbox = Outbox()
    clock.now = START - timedelta(minutes=10)

    assert await scheduler(reminders, outbox, clock).run_once() == 3
    assert await scheduler(reminders, outbox, clock).run_once() == 0

    assert sorted(outbox.sent) == sorted(r.reminder_id for r in created)
    stored = await reminders.for_meeting("meeting-1")
    assert {r.status for r in stored} == {ReminderStatus.SENT}
    assert all(r.sent_at == clock().isoformat() and r.claimed_by == "instance-a" for r in stored)


@pytest.mark.parametrize("connections", ["shared", "separate"])
async def test_two_schedulers_send_every_reminder_exactly_once(
    store: DocumentStore, settings: Settings, clock: FakeClock, connections: str
) -> None:
    other_store = store
    if connections == "separate":  # two processes: two connections to the same database
        other_store = open_document_store(settings.storage_url)
        await other_store.open()
    try:
        first, second = Reminders(store, clock), Reminders(other_store, clock)
        created = [
            *await schedule(first, "meeting-1"),
            *await schedule(first, "meeting-2"),
            *await schedule(first, "meeting-3", START + timedelta(minutes=5)),
        ]
        outbox_a, outbox_b = Outbox(), Outbox()
        a = scheduler(first, outbox_a, clock, "instance-a")
        b = scheduler(second, outbox_b, clock, "instance-b")
        clock.now = START - timedelta(minutes=10)

        counts = await asyncio.gather(a.run_once(), b.run_once())
        again = await asyncio.gather(a.run_once(), b.run_once())

        assert sum(counts) == len(created) == 9
        assert again == [0, 0]
        assert sorted(outbox_a.sent + outbox_b.sent) == sorted(r.reminder_id for r in created)
        assert outbox_a.calls + outbox_b.calls == 9
    finally:
        if other_store is not store:
            await other_store.close()


async def test_claim_of_a_dead_instance_is_taken_over_after_the_lease(
    reminders: Reminders, clock: FakeClock
) -> None:
    created = await schedule(reminders)
    clock.now = START - timedelta(minutes=10)
    sending = asyncio.Event()

    async def hang(reminder: Reminder) -> None:
        sending.set()
        await asyncio.Event().wait()

    dying = asyncio.create_task(ReminderScheduler(reminders, hang, "dying", clock).run_once())
    await sending.wait()
    dying.cancel()  # the process dies while sending: the claim stays, nobody renews it
    with pytest.raises(asyncio.CancelledError):
        await dying
    orphan = next(r for r in await reminders.for_meeting("meeting-1") if r.status == "claimed")
    assert orphan.claimed_by == "dying"

    outbox = Outbox()
    survivor = scheduler(reminders, outbox, clock, "survivor")
    assert await survivor.run_once() == 2  # the others, but not the claimed one
    assert orphan.reminder_id not in outbox.sent

    clock.advance(timedelta(minutes=2) - timedelta(seconds=1))  # the lease is still running
    assert await survivor.run_once() == 0
    clock.advance(timedelta(seconds=1))  # claimed_until reached: the lease has run out
    assert await survivor.run_once() == 1
    assert await survivor.run_once() == 0

    assert sorted(outbox.sent) == sorted(r.reminder_id for r in created)
    taken_over = next(
        r for r in await reminders.for_meeting("meeting-1") if r.reminder_id == orphan.reminder_id
    )
    assert taken_over.status == ReminderStatus.SENT
    assert taken_over.claimed_by == "survivor"
    assert taken_over.attempts == 1  # the lost attempt counts


async def test_cancelled_reminders_are_not_sent(reminders: Reminders, clock: FakeClock) -> None:
    await schedule(reminders, "meeting-1")
    other = await schedule(reminders, "meeting-2")

    assert await reminders.cancel_for_meeting("meeting-1") == 3
    assert await reminders.cancel_for_meeting("meeting-1") == 0
    assert await reminders.cancel_for_meeting("unknown-meeting") == 0

    outbox = Outbox()
    clock.now = START - timedelta(minutes=10)
    assert await scheduler(reminders, outbox, clock).run_once() == 3
    assert sorted(outbox.sent) == sorted(r.reminder_id for r in other)
    cancelled = await reminders.for_meeting("meeting-1")
    assert {r.status for r in cancelled} == {ReminderStatus.CANCELLED}


async def test_a_claimed_reminder_can_be_cancelled(reminders: Reminders, clock: FakeClock) -> None:
    await schedule(reminders)
    clock.now = START - timedelta(minutes=10)
    [first, *_] = await reminders.due(clock())
    claimed = await reminders.claim(first, "instance-a", clock(), timedelta(minutes=2))
    assert claimed is not None

    assert await reminders.cancel_for_meeting("meeting-1") == 3
    assert await reminders.mark_sent(claimed, clock()) is False  # the sender learns it lost


async def test_stale_listing_cannot_claim(reminders: Reminders, clock: FakeClock) -> None:
    await schedule(reminders)
    clock.now = START - timedelta(minutes=10)
    [first, *_] = await reminders.due(clock())

    assert await reminders.claim(first, "instance-a", clock(), timedelta(minutes=2)) is not None
    assert await reminders.claim(first, "instance-b", clock(), timedelta(minutes=2)) is None


async def test_moved_meeting_cancels_the_old_reminders(
    reminders: Reminders, clock: FakeClock
) -> None:
    old = await schedule(reminders)
    new_start = START + timedelta(days=1)
    new = await schedule(reminders, start=new_start)

    assert not {r.reminder_id for r in old} & {r.reminder_id for r in new}
    statuses = {r.reminder_id: r.status for r in await reminders.for_meeting("meeting-1")}
    assert {statuses[r.reminder_id] for r in old} == {ReminderStatus.CANCELLED}
    assert {statuses[r.reminder_id] for r in new} == {ReminderStatus.PENDING}

    outbox = Outbox()
    clock.now = new_start - timedelta(minutes=10)
    assert await scheduler(reminders, outbox, clock).run_once() == 3
    assert sorted(outbox.sent) == sorted(r.reminder_id for r in new)


async def test_scheduling_again_after_cancelling_revives_the_reminders(
    reminders: Reminders, clock: FakeClock
) -> None:
    await schedule(reminders)
    await reminders.cancel_for_meeting("meeting-1")

    revived = await schedule(reminders)

    assert {r.status for r in revived} == {ReminderStatus.PENDING}
    clock.now = START - timedelta(minutes=10)
    assert await scheduler(reminders, Outbox(), clock).run_once() == 3


async def test_failed_send_is_retried_after_the_backoff(
    reminders: Reminders, clock: FakeClock
) -> None:
    await schedule(reminders)
    clock.now = START - timedelta(hours=24)  # only the day-before reminder is due
    outbox = Outbox(failures=1)
    sender = scheduler(reminders, outbox, clock)

    assert await sender.run_once() == 0
    [pending] = [r for r in await reminders.for_meeting("meeting-1") if r.kind == "24h"]
    assert (pending.status, pending.attempts, pending.last_error) == (
        "pending",
        1,
        "ConnectionError",
    )
    assert pending.retry_at == (clock() + timedelta(minutes=1)).isoformat()

    clock.advance(timedelta(seconds=59))
    assert await sender.run_once() == 0
    assert outbox.calls == 1
    clock.advance(timedelta(seconds=1))
    assert await sender.run_once() == 1
    [sent] = [r for r in await reminders.for_meeting("meeting-1") if r.kind == "24h"]
    assert (sent.status, sent.attempts) == ("sent", 1)


async def test_send_failing_every_time_is_marked_failed_after_max_attempts(
    reminders: Reminders, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await schedule(reminders)
    clock.now = START - timedelta(hours=24)
    outbox = Outbox(failures=1000)
    sender = scheduler(reminders, outbox, clock)

    with caplog.at_level(logging.INFO, logger="bot.domain.reminders"):
        for attempt in range(1, 6):
            assert await sender.run_once() == 0
            assert outbox.calls == attempt
            clock.advance(sender.backoff(attempt))
        clock.advance(timedelta(hours=1))
        assert await sender.run_once() == 0

    assert outbox.calls == 5
    [failed] = [r for r in await reminders.for_meeting("meeting-1") if r.kind == "24h"]
    assert (failed.status, failed.attempts, failed.last_error) == (
        "failed",
        5,
        "ConnectionError",
    )
    assert [sender.backoff(n).total_seconds() / 60 for n in range(1, 5)] == [1, 2, 4, 8]
    assert "ConnectionError" in caplog.text
    assert CLIENT_REF not in caplog.text  # the exception's message is never logged
    assert any(record.levelno == logging.ERROR for record in caplog.records)


async def test_reminder_is_not_sent_after_the_meeting_started(
    reminders: Reminders, clock: FakeClock
) -> None:
    await schedule(reminders)
    clock.now = START + timedelta(minutes=1)  # every instance was down until now
    outbox = Outbox()

    assert await scheduler(reminders, outbox, clock).run_once() == 0

    assert outbox.calls == 0
    stored = await reminders.for_meeting("meeting-1")
    assert {(r.status, r.last_error) for r in stored} == {("failed", "meeting_started")}


async def test_documents_keep_their_time_to_live_through_every_write(
    reminders: Reminders, store: DocumentStore, clock: FakeClock
) -> None:
    await schedule(reminders)
    clock.now = START - timedelta(minutes=10)
    await scheduler(reminders, Outbox(), clock).run_once()

    rows = await store.db.execute_fetchall(  # type: ignore[attr-defined]
        "SELECT kind, body, expires_at FROM documents WHERE kind IN (?, ?)",
        (REMINDER, REMINDER_INDEX),
    )
    assert len(rows) == 6
    for kind, body, expires_at in rows:
        assert expires_at is not None, kind  # a replace without a ttl would keep it forever
        if kind == REMINDER:
            # kept 7 days after it was due by the injected clock, however far off the wall clock
            due_at = datetime.fromisoformat(json.loads(body)["due_at"])
            expected = (due_at + timedelta(days=7) - clock()).total_seconds()
            assert expected - 60 <= expires_at - time.time() <= expected
    assert {json.loads(body).get("status") for kind, body, _ in rows if kind == REMINDER} == {
        "sent"
    }


async def test_reminders_survive_a_restart(settings: Settings, clock: FakeClock) -> None:
    before = open_document_store(settings.storage_url)
    await before.open()
    created = await schedule(Reminders(before, clock))
    await before.close()

    clock.now = START - timedelta(minutes=10)
    after = open_document_store(settings.storage_url)
    await after.open()
    try:
        outbox = Outbox()
        assert await scheduler(Reminders(after, clock), outbox, clock).run_once() == 3
        assert sorted(outbox.sent) == sorted(r.reminder_id for r in created)
    finally:
        await after.close()


@pytest.fixture
async def due_now(reminders: Reminders, clock: FakeClock) -> list[Reminder]:
    """A meeting whose three reminders are all due."""
    created = await schedule(reminders)
    clock.now = START - timedelta(minutes=10)
    return created


async def test_background_task_runs_and_stops_cleanly(
    reminders: Reminders, clock: FakeClock, due_now: list[Reminder]
) -> None:
    sleeps: list[float] = []
    a_few_rounds = asyncio.Event()

    async def fast_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) >= 3:
            a_few_rounds.set()
        await asyncio.sleep(0)

    outbox = Outbox()
    background = ReminderScheduler(reminders, outbox, "bg", clock, sleep=fast_sleep)
    background.start()
    background.start()  # a second start does not start a second loop
    await asyncio.wait_for(a_few_rounds.wait(), 10)  # a safety net, not a timing assertion

    await background.stop()

    assert not background.running
    assert sorted(outbox.sent) == sorted(r.reminder_id for r in due_now)
    assert set(sleeps) == {30.0}
    rounds = len(sleeps)
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(sleeps) == rounds  # nothing runs after stop
    await background.stop()  # stopping again is harmless


async def test_stop_wakes_a_sleeping_loop(
    reminders: Reminders, clock: FakeClock, due_now: list[Reminder]
) -> None:
    all_sent = asyncio.Event()
    outbox = Outbox()

    async def send(reminder: Reminder) -> None:
        await outbox(reminder)
        if len(outbox.sent) == len(due_now):
            all_sent.set()

    background = ReminderScheduler(reminders, send, "bg", clock, interval_seconds=3600)
    background.start()
    await asyncio.wait_for(all_sent.wait(), 10)

    await background.stop()  # the real one-hour sleep is interrupted

    assert not background.running


async def test_background_task_survives_errors_and_logs_only_their_type(
    reminders: Reminders,
    clock: FakeClock,
    due_now: list[Reminder],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real_due = reminders.due
    calls = 0

    async def flaky_due(now: datetime) -> list[Reminder]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("Erika Muster, 0171 1234567")
        return await real_due(now)

    monkeypatch.setattr(reminders, "due", flaky_due)
    sent = asyncio.Event()
    outbox = Outbox()

    async def send(reminder: Reminder) -> None:
        await outbox(reminder)
        if len(outbox.sent) == len(due_now):
            sent.set()

    async def fast_sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    background = ReminderScheduler(reminders, send, "bg", clock, sleep=fast_sleep)
    with caplog.at_level(logging.INFO, logger="bot.domain.reminders"):
        background.start()
        await asyncio.wait_for(sent.wait(), 10)
        await background.stop()

    assert calls >= 2
    assert sorted(outbox.sent) == sorted(r.reminder_id for r in due_now)
    assert "RuntimeError" in caplog.text
    assert "Erika" not in caplog.text
    assert "0171" not in caplog.text


def test_send_timeout_must_be_shorter_than_the_lease(reminders: Reminders) -> None:
    with pytest.raises(ValueError, match="send_timeout"):
        ReminderScheduler(
            reminders, Outbox(), "a", lease=timedelta(minutes=1), send_timeout=timedelta(minutes=1)
        )


def test_targets_and_kinds() -> None:
    assert {t.value for t in ReminderTarget} == {"client", "counsellor"}
    assert {k.value for k in ReminderKind} == {"24h", "15min"}
