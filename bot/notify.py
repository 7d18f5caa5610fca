"""How counsellors hear about a client: the notifier seam.

The journey reports handoff events here. Until proactive Teams notifications are wired in,
the local notifier records that an event happened (ids only, never personal data).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Protocol

from bot.records import Handoff

log = logging.getLogger(__name__)


class HandoffEvent(StrEnum):
    REQUESTED = "requested"
    TECH_HELP_REQUESTED = "tech_help_requested"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PHONE_ACCEPTED = "phone_accepted"
    PHONE_DECLINED = "phone_declined"
    CLIENT_DELETED_DATA = "client_deleted_data"


class Notifier(Protocol):
    async def handoff_event(self, handoff: Handoff, event: HandoffEvent) -> None: ...


class LogNotifier:
    """Local default: writes the event to the log by id."""

    async def handoff_event(self, handoff: Handoff, event: HandoffEvent) -> None:
        log.info("handoff %s: %s (%s)", handoff.handoff_id, event, handoff.purpose)
