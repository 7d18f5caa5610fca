"""The data-volume question: a button per range, or typed ("2 GB", "500 MB", "Flatrate")."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.domain.tech_assessment import parse_volume_mb
from bot.i18n import Translator
from dialogs.question import ChoiceQuestion, Options, ask, recognize_choice

VOLUME_CHOICES = {"under_500": 250, "500_to_2000": 1000, "over_2000": 3000, "unknown": None}
QUESTION = "tech.volume"


class VolumeQuestion(ChoiceQuestion):
    """Answers the remaining volume in MB, or ``"unknown"``."""

    def render(self, t: Translator, options: Options, card_id: str, retry_text: str) -> Activity:
        return super().render(t, ask(QUESTION, list(VOLUME_CHOICES)), card_id, retry_text)

    async def recognize(
        self, context: TurnContext, options: Options, submit: dict[str, Any] | None
    ) -> int | str | None:
        if submit is not None:
            answer = submit.get("answer")
            if isinstance(answer, str) and answer in VOLUME_CHOICES:
                return _megabytes(answer)
            return None
        text = context.activity.text or ""
        megabytes = parse_volume_mb(text)
        if megabytes is not None:
            return megabytes
        answer = recognize_choice(text, QUESTION, list(VOLUME_CHOICES))
        return None if answer is None else _megabytes(answer)


def _megabytes(choice: str) -> int | str:
    megabytes = VOLUME_CHOICES[choice]
    return "unknown" if megabytes is None else megabytes
