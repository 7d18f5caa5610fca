"""Turns a due reminder into a proactive Teams message to the client or the counsellor."""

from __future__ import annotations

from botbuilder.core import MessageFactory
from opentelemetry import trace

from bot.domain.counsellors import CounsellorDirectory
from bot.domain.handoffs import Handoffs, HandoffStatus
from bot.domain.local_time import format_local
from bot.domain.reminders import Reminder
from bot.hosting.proactive_messages import ProactiveSender
from bot.hosting.turn_telemetry import REMINDERS_SENT
from bot.i18n import staff_translator, translator
from bot.observability import mark_failed

_tracer = trace.get_tracer("videoberatung.reminders")


class ReminderNotDelivered(Exception):
    """Raised so the scheduler retries later (or gives up after its attempts)."""


class ReminderSender:
    def __init__(
        self, handoffs: Handoffs, directory: CounsellorDirectory, sender: ProactiveSender
    ) -> None:
        self._handoffs = handoffs
        self._directory = directory
        self._sender = sender

    async def __call__(self, reminder: Reminder) -> None:
        target = "client" if reminder.target == "client" else "counsellor"
        with _tracer.start_as_current_span(
            "reminder send",
            attributes={"bot.reminder.target": target},
            record_exception=False,  # an exception's text can hold data
            set_status_on_exception=False,
        ) as span:
            try:
                outcome = await self._send(reminder)
            except Exception as error:
                mark_failed(span, type(error).__name__)
                REMINDERS_SENT.add(1, {"target": target, "outcome": "error"})
                raise
            span.set_attribute("bot.outcome", outcome)
            REMINDERS_SENT.add(1, {"target": target, "outcome": outcome})
            if outcome == "failed":
                raise ReminderNotDelivered(outcome)

    async def _send(self, reminder: Reminder) -> str:
        """``sent``, ``failed`` (retried later) or ``obsolete`` (nothing left to remind of)."""
        handoff = await self._handoffs.get(reminder.client_id, reminder.handoff_id)
        if handoff is None or handoff.status != HandoffStatus.SCHEDULED:
            return "obsolete"  # cancelled or deleted meanwhile: nothing to remind of
        t = translator(reminder.locale)
        when = format_local(handoff.meeting["start"], t.locale)
        join_url = handoff.meeting.get("join_url", "")
        if reminder.target == "client":
            reference = handoff.client_ref
            text = t(f"reminder.client.{reminder.kind}", when=when)
            if join_url:
                text = f"{text}\n\n[{t('appointment.join')}]({join_url})"
        else:
            counsellor = await self._directory.get(reminder.target_ref.removeprefix("counsellor:"))
            if counsellor is None:
                return "obsolete"
            reference = counsellor.reference
            t = staff_translator(counsellor.locale)
            text = t("reminder.counsellor", when=format_local(handoff.meeting["start"], t.locale))
        result = await self._sender.send(reference, MessageFactory.text(text))
        return "sent" if result.ok else "failed"
