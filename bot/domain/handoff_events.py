"""How counsellors hear about a client: the notifier seam.

The journey reports handoff events; the Teams implementation
(``bot/hosting/counsellor_notifier.py``) sends and updates the counsellors' cards. Tests put a
recording notifier in its place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from bot.domain.handoffs import Handoff


class HandoffEvent(StrEnum):
    REQUESTED = "requested"
    TECH_HELP_REQUESTED = "tech_help_requested"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PHONE_ACCEPTED = "phone_accepted"
    PHONE_DECLINED = "phone_declined"
    CLIENT_DELETED_DATA = "client_deleted_data"
    INTERPRETER_REQUESTED = "interpreter_requested"
    INTERPRETER_CANCELLED = "interpreter_cancelled"
    INTERPRETER_ARRANGED = "interpreter_arranged"


class Notifier(Protocol):
    async def handoff_event(self, handoff: Handoff, event: HandoffEvent) -> None:
        """Something happened that the counsellor must hear about."""
        ...

    async def refresh_cards(self, handoff: Handoff, stage: str) -> Handoff:
        """The handoff changed: update the counsellors' cards in place."""
        ...
