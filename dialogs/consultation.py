"""Step 2: the topic, then the kind of consultation (video, phone, in person).

Benefit matters (Leistungen, Bürgergeld) are never discussed by video: they are routed,
kindly, to an appointment in person. A kind of consultation the client asked for before the
topic ("Ich möchte ein Videogespräch") is taken: the type question is not asked.
"""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext

from bot.domain.handoffs import BENEFITS_TOPIC
from dialogs.question import ChoiceQuestion, ask
from dialogs.services import JourneyServices
from dialogs.session import session_of

TOPICS = ["training", "application", "job", "benefits", "other"]
CONSULTATION_TYPES = ["video", "phone", "in_person"]


class ConsultationChoiceDialog(ComponentDialog):
    def __init__(self, services: JourneyServices) -> None:
        super().__init__(ConsultationChoiceDialog.__name__)
        self._services = services
        self.add_dialog(ChoiceQuestion("choice.ask"))
        self.add_dialog(
            WaterfallDialog(
                "choice.steps", [self._ask_topic, self._after_topic, self._after_type_or_benefits]
            )
        )
        self.initial_dialog_id = "choice.steps"

    async def _ask_topic(self, step: WaterfallStepContext):
        return await step.begin_dialog("choice.ask", ask("choice.topic", TOPICS))

    async def _after_topic(self, step: WaterfallStepContext):
        topic = step.result
        session_of(step.context).answers["topic"] = topic
        if topic == BENEFITS_TOPIC:
            return await step.begin_dialog(
                "choice.ask",
                ask("choice.benefits", ["in_person", "other_topic"], intro=["choice.benefits.why"]),
            )
        wished = session_of(step.context).answers.get("type")
        if wished in CONSULTATION_TYPES:
            return await step.next(wished)
        return await step.begin_dialog("choice.ask", ask("choice.type", CONSULTATION_TYPES))

    async def _after_type_or_benefits(self, step: WaterfallStepContext):
        answers = session_of(step.context).answers
        if step.result == "other_topic":
            return await step.replace_dialog("choice.steps")
        answers["type"] = step.result  # "in_person" from the benefits question, too
        await self._services.progress(
            step.context, "choice", topic=answers["topic"], consultation_type=answers["type"]
        )
        if answers["type"] != "video":
            await self._services.dropped_out(step.context, f"chose_{answers['type']}", "choice")
        return await step.end_dialog({"topic": answers["topic"], "type": answers["type"]})
