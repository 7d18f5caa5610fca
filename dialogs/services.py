"""What the dialogs need from the rest of the bot, passed in once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext

from bot.config import Settings
from bot.domain.card_answers import CardAnswers
from bot.domain.consent import ConsentLog
from bot.domain.consent_forms import ConsentForms
from bot.domain.counsellors import CaseloadEntry, CounsellorDirectory
from bot.domain.handoff_events import Notifier
from bot.domain.handoff_lifecycle import HandoffLifecycle
from bot.domain.handoffs import Handoffs
from bot.domain.invitations import Invitations
from bot.domain.my_data import MyData
from bot.domain.profiles import ClientProfile, Profiles
from bot.domain.stats import Metric, Stats
from bot.domain.techcheck_links import LinkIssuer
from dialogs.session import after_commit, answered_card, client_of, session_of

CLAIMED_KEY = "videoberatung.claimed_answers"
CASELOAD_STAGES = {
    "welcome": "invited",
    "choice": "in_tech_check",
    "tech_help_needed": "needs_help",
    "tech_help_requested": "needs_help",
    "consultation_requested": "ready",
}


@dataclass(frozen=True)
class JourneyServices:
    settings: Settings
    consents: ConsentLog
    handoffs: Handoffs
    profiles: Profiles
    stats: Stats
    forms: ConsentForms
    notifier: Notifier
    invitations: Invitations
    directory: CounsellorDirectory
    lifecycle: HandoffLifecycle
    card_answers: CardAnswers
    links: LinkIssuer  # links to the measured tech check in the browser
    my_data: MyData  # what is stored about a client (Art. 15), and the link to it as a file

    async def progress(self, context: TurnContext, stage: str, **changes: Any) -> None:
        """Note the client's stage (for the counsellor overview) and what it settled."""
        locale = session_of(context).locale

        def apply(profile: ClientProfile) -> None:
            profile.stage = stage
            profile.locale = locale
            for name, value in changes.items():
                setattr(profile, name, value)

        client = client_of(context)
        profile = await self.profiles.update(client.client_id, apply)
        if profile.counsellor_id:
            await self.directory.note_case(
                profile.counsellor_id,
                CaseloadEntry(
                    client.client_id,
                    client.display_name,
                    CASELOAD_STAGES.get(stage, "in_tech_check"),
                    topic=profile.topic,
                    consultation_type=profile.consultation_type,
                ),
            )

    async def first_answer(self, context: TurnContext, answer: Any) -> Any:
        """The answer to the card this turn answered, as first given (see ``CardAnswers``);
        claimed once per turn, however many steps ask."""
        card = answered_card(context)
        if not card:
            return answer
        claimed: dict[str, Any] = context.turn_state.setdefault(CLAIMED_KEY, {})
        if card not in claimed:
            client_id = client_of(context).client_id
            claimed[card] = await self.card_answers.claim(client_id, card, answer)
        return claimed[card]

    def counted(self, context: TurnContext, metric: Metric) -> None:
        """Count ``metric`` (a number, no personal data) once this turn's state is committed:
        a turn that runs again counts once."""

        async def count() -> None:
            await self.stats.count(metric)

        after_commit(context, count)

    async def dropped_out(self, context: TurnContext, reason: str, stage: str) -> None:
        """Count why someone left the video path (``stage`` says where; the reason implies it)."""
        self.counted(context, Metric.dropout(reason))
