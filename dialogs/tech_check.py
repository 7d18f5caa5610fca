"""Step 3 (video only): a guided tech check, one question at a time.

Device, Teams app or browser, camera and microphone, a quiet place, the connection and —
on mobile data — the volume left. The result is *ready*, *ready with advice*, or *help
needed*; with help needed the client chooses a call-back, a phone consultation, or later.
"""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext

from bot.techcheck import Assessment, Outcome, TechAnswers, assess
from dialogs.question import ChoiceQuestion, ask, card_message
from dialogs.services import JourneyServices
from dialogs.session import session_of, texts
from dialogs.volume_question import VolumeQuestion

QUESTIONS = [
    ("device", ["smartphone", "tablet", "computer"]),
    ("app", ["app", "browser", "unknown"]),
    ("camera_mic", ["both", "audio_only", "none", "unknown"]),
    ("place", ["yes", "no"]),
    ("connection", ["wifi", "mobile", "unknown"]),
]
HELP_CHOICES = ["callback", "phone", "later"]


class TechCheckDialog(ComponentDialog):
    def __init__(self, services: JourneyServices) -> None:
        super().__init__(TechCheckDialog.__name__)
        self._services = services
        self.add_dialog(ChoiceQuestion("tech.ask"))
        self.add_dialog(VolumeQuestion("tech.volume"))
        steps = [self._asker(index) for index in range(len(QUESTIONS))]
        self.add_dialog(
            WaterfallDialog(
                "tech.steps", [*steps, self._ask_volume, self._assess, self._after_help_choice]
            )
        )
        self.initial_dialog_id = "tech.steps"

    def _asker(self, index: int):
        """Step ``index``: keep the previous answer, ask question ``index``."""

        async def step_function(step: WaterfallStepContext):
            self._keep_previous_answer(step, index)
            name, choices = QUESTIONS[index]
            intro = ["tech.intro"] if index == 0 else []
            return await step.begin_dialog("tech.ask", ask(f"tech.{name}", choices, intro=intro))

        return step_function

    @staticmethod
    def _keep_previous_answer(step: WaterfallStepContext, index: int) -> None:
        if index > 0:
            name = QUESTIONS[index - 1][0]
            session_of(step.context).answers.setdefault("tech_answers", {})[name] = step.result

    async def _ask_volume(self, step: WaterfallStepContext):
        self._keep_previous_answer(step, len(QUESTIONS))
        if session_of(step.context).answers["tech_answers"]["connection"] != "mobile":
            return await step.next(None)
        return await step.begin_dialog("tech.volume", {})

    async def _assess(self, step: WaterfallStepContext):
        answers = session_of(step.context).answers
        volume = step.result if isinstance(step.result, int) else None
        tech_answers = TechAnswers(**answers["tech_answers"], volume_mb=volume)
        assessment = assess(tech_answers)
        answers["tech"] = assessment.to_dict()
        await step.context.send_activity(self._result_card(step, assessment))
        await self._services.progress(
            step.context, f"tech_{assessment.outcome}", tech=answers["tech"]
        )
        if assessment.outcome != Outcome.HELP_NEEDED:
            return await step.end_dialog({"next": "continue"})
        return await step.begin_dialog("tech.ask", ask("tech.help", HELP_CHOICES))

    async def _after_help_choice(self, step: WaterfallStepContext):
        choice = step.result
        if choice != "callback":
            reason = "prefers_phone" if choice == "phone" else "try_later"
            await self._services.dropped_out(step.context, reason, "tech_check")
        return await step.end_dialog({"next": choice})

    @staticmethod
    def _result_card(step: WaterfallStepContext, assessment: Assessment):
        t = texts(step.context)
        title = t(f"tech.result.{assessment.outcome}")
        advice = [
            t(key, mb30=assessment.mb_30_min, mb60=assessment.mb_60_min)
            for key in assessment.advice
        ]
        estimate = t(
            "tech.estimate",
            mb30=assessment.mb_30_min,
            mb60=assessment.mb_60_min,
            audio60=27,
        )
        return card_message(
            t,
            "tech_result",
            {
                "title": title,
                "style": {"ready": "good", "ready_with_advice": "warning"}.get(
                    assessment.outcome, "attention"
                ),
                "advice": [{"text": f"- {text}"} for text in advice],
                "has_advice": bool(advice),
                "estimate": estimate,
                "fallback": "\n".join([title, *advice, estimate]),
            },
        )
