"""Ending a handoff: the meeting is deleted, its reminders cancelled, the counsellor told."""

from __future__ import annotations

import logging

from bot.domain.handoff_events import HandoffEvent, Notifier
from bot.domain.handoffs import Handoff
from bot.domain.reminders import Reminders
from bot.integrations.meetings import MeetingError, MeetingProvider

log = logging.getLogger(__name__)


class HandoffLifecycle:
    def __init__(self, meetings: MeetingProvider, reminders: Reminders, notifier: Notifier) -> None:
        self._meetings = meetings
        self._reminders = reminders
        self._notifier = notifier

    async def cancel_meeting(self, handoff: Handoff) -> None:
        meeting_id = handoff.meeting.get("id")
        if not meeting_id:
            return
        await self._reminders.cancel_for_meeting(meeting_id)
        try:
            await self._meetings.cancel(handoff.meeting.get("organizer", ""), meeting_id)
        except MeetingError as error:
            log.warning(
                "handoff %s: meeting not cancelled (%s)", handoff.handoff_id, type(error).__name__
            )

    async def ended(self, handoffs: list[Handoff], event: HandoffEvent) -> None:
        """``handoffs`` were just cancelled: clean up after each and tell the counsellor."""
        for handoff in handoffs:
            await self.cancel_meeting(handoff)
            await self._notifier.handoff_event(handoff, event)
