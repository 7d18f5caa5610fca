"""Step 1: what this chat is for, that video is voluntary, the alternatives, the benefits
rule, the privacy notice, and the language choice."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext

from bot.config import Settings
from bot.domain.stats import Metric
from bot.i18n import Translator
from cards import card_message
from dialogs.language import switch_label
from dialogs.services import JourneyServices
from dialogs.session import texts


class WelcomeDialog(ComponentDialog):
    def __init__(self, services: JourneyServices) -> None:
        super().__init__(WelcomeDialog.__name__)
        self._services = services
        self.add_dialog(WaterfallDialog("welcome.steps", [self._welcome]))
        self.initial_dialog_id = "welcome.steps"

    async def _welcome(self, step: WaterfallStepContext):
        t = texts(step.context)
        settings = self._services.settings
        alternatives = t("welcome.alternatives", jobcenter=jobcenter_in_text(t, settings))
        paragraphs = [
            t("welcome.purpose"),
            t("welcome.voluntary"),
            alternatives,
            t("welcome.benefits"),
            t("welcome.code"),
        ]
        await step.context.send_activity(
            card_message(
                t,
                "welcome",
                {
                    "title": t("welcome.title"),
                    "paragraphs": [{"text": text} for text in paragraphs],
                    "privacy_label": t("welcome.privacy"),
                    "privacy_url": settings.privacy_url,
                    "language_label": switch_label(),
                    "fallback": "\n\n".join([t("welcome.title"), *paragraphs]),
                },
            )
        )
        await self._services.progress(step.context, "welcome")
        self._services.counted(step.context, Metric.JOURNEYS_STARTED)
        return await step.end_dialog()


def jobcenter_in_text(t: Translator, settings: Settings) -> str:
    """The job centre in running text: its configured proper name ("Jobcenter Köln"), or — at
    the default — the language's own word ("Jobcenter", "job centre")."""
    if settings.jobcenter_name == Settings.model_fields["jobcenter_name"].default:
        return t("common.jobcenter")
    return settings.jobcenter_name
