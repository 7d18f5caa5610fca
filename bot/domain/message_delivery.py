"""Whether a message reached someone's chat: what the journey records and shows.

The sender itself lives at the SDK's edge (``bot/hosting/proactive_messages.py``); flows
depend only on ``MessageSender``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Delivery(StrEnum):
    SENT = "sent"
    NOT_INSTALLED = "not_installed"  # 403: the app was removed for this person
    THROTTLED = "throttled"  # 429 after all attempts
    FAILED = "failed"  # 5xx, network, anything else


@dataclass(frozen=True)
class SendResult:
    delivery: Delivery
    activity_id: str = ""

    @property
    def ok(self) -> bool:
        return self.delivery == Delivery.SENT


class MessageSender(Protocol):
    async def send(self, reference: dict[str, Any], message: Any) -> SendResult:
        """Send ``message`` (an activity) to the conversation that ``reference`` names."""
        ...
