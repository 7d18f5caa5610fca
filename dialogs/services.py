"""What the dialogs need from the rest of the bot, passed in once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext

from bot.config import Settings
from bot.notify import Notifier
from bot.records import ClientProfile, ConsentLog, Dropouts, Handoffs, Profiles
from bot.uploads import ConsentForms
from dialogs.session import client_of, session_of


@dataclass(frozen=True)
class JourneyServices:
    settings: Settings
    consents: ConsentLog
    handoffs: Handoffs
    profiles: Profiles
    dropouts: Dropouts
    forms: ConsentForms
    notifier: Notifier

    async def progress(self, context: TurnContext, stage: str, **changes: Any) -> None:
        """Note the client's stage (for the counsellor overview) and what it settled."""
        locale = session_of(context).locale

        def apply(profile: ClientProfile) -> None:
            profile.stage = stage
            profile.locale = locale
            for name, value in changes.items():
                setattr(profile, name, value)

        await self.profiles.update(client_of(context).client_id, apply)

    async def dropped_out(self, context: TurnContext, reason: str, stage: str) -> None:
        await self.dropouts.count(reason, stage)
