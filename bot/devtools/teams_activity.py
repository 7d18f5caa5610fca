"""What Microsoft Teams posts to a bot in a personal chat — for the local chat clients, the
tests and the benchmark, so that all of them talk to the bot the way Teams does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIMEZONE = "Europe/Berlin"


def _timezone() -> tzinfo:
    try:
        return ZoneInfo(TIMEZONE)
    except ZoneInfoNotFoundError:
        return UTC


@dataclass(frozen=True)
class PersonalChat:
    """One user's personal chat with the bot, as the Bot Connector addresses it."""

    service_url: str
    conversation_id: str
    tenant_id: str
    user: dict[str, Any]  # id, name, aadObjectId
    bot: dict[str, Any]  # id, name
    locale: str = "de-DE"

    def activity(self, kind: str = "message", **fields: Any) -> dict[str, Any]:
        """An activity with everything Teams puts into one; ``fields`` add or override."""
        now = datetime.now(UTC)
        activity: dict[str, Any] = {
            "type": kind,
            "id": f"1{uuid.uuid4().int % 10**12:012d}",  # Teams' ids are 13-digit numbers
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": now.astimezone(_timezone()).isoformat(timespec="milliseconds"),
            "localTimezone": TIMEZONE,
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": dict(self.user),
            "conversation": {
                "id": self.conversation_id,
                "conversationType": "personal",
                "tenantId": self.tenant_id,
            },
            "recipient": dict(self.bot),
            "locale": self.locale,
            "entities": [
                {
                    "type": "clientInfo",
                    "locale": self.locale,
                    "country": self.locale.rpartition("-")[2],
                    "platform": "Web",
                    "timezone": TIMEZONE,
                }
            ],
            "channelData": {"tenant": {"id": self.tenant_id}},
        }
        activity.update(fields)
        return activity
