"""Step 3 (video only): a guided tech check, one question at a time.

Device, Teams app or browser, camera and microphone, a quiet place, the connection and —
on mobile data — the volume left. The result is *ready*, *ready with advice*, or *help
needed*; with help needed the client chooses a call-back, a phone consultation, or later.
"""

from __future__ import annotations

from enum import StrEnum

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import Activity

from bot.domain.stats import Metric
from bot.domain.tech_assessment import Assessment, Outcome, TechAnswers, assess
from bot.domain.techcheck_links import IssuedLink
from bot.i18n import Translator
from cards.tech_result_cards import ResultQuestion, assessment_card
from dialogs.question import ChoiceQuestion, Options, ask
from dialogs.services import JourneyServices
from dialogs.session import client_of, conversation_reference, session_of, texts
from dialogs.volume_question import VolumeQuestion

QUESTIONS = [
    ("device", ["smartphone", "tablet", "computer"]),
    ("app", ["app", "browser", "unknown"]),
    ("camera_mic", ["both", "audio_only", "none", "unknown"]),
    ("place", ["yes", "no"]),
    ("connection", ["wifi", "mobile", "unknown"]),
]


class AfterTechCheck(StrEnum):
    """How the journey goes on once the tech check has ended."""

    CONTINUE = "continue"  # ready, with or without advice
    CALLBACK = "callback"  # help needed: tech support calls back
    PHONE = "phone"  # help needed: a phone consultation instead
    LATER = "later"  # help needed: the client tries again later


#: plain strings: the choices are kept in the dialog state, which must name no class of ours
HELP_CHOICES = [
    AfterTechCheck.CALLBACK.value,
    AfterTechCheck.PHONE.value,
    AfterTechCheck.LATER.value,
]
#: a call would take much of the mobile data left: ways to save it, or video anyway
SAVE_DATA_CHOICES = ["wifi", "audio_only", AfterTechCheck.PHONE.value, "video"]


class TechResultQuestion(ChoiceQuestion):
    """The result card with the choice on it: the ways forward when help is needed, or ways to
    save data. Options: ``ask(...)`` plus ``assessment`` (its dict) and ``link`` (a URL)."""

    def render(self, t: Translator, options: Options, card_id: str, retry_text: str) -> Activity:
        question = ResultQuestion(options["question"], options["choices"], card_id, retry_text)
        assessment = Assessment.from_dict(options["assessment"])
        return assessment_card(t, assessment, options.get("link", ""), question)


class TechCheckDialog(ComponentDialog):
    def __init__(self, services: JourneyServices) -> None:
        super().__init__(TechCheckDialog.__name__)
        self._services = services
        self.add_dialog(ChoiceQuestion("tech.ask"))
        self.add_dialog(VolumeQuestion("tech.volume"))
        self.add_dialog(TechResultQuestion("tech.result"))
        steps = [self._asker(index) for index in range(len(QUESTIONS))]
        self.add_dialog(
            WaterfallDialog(
                "tech.steps", [*steps, self._ask_volume, self._assess, self._after_result_choice]
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
        if answers.get("measured"):  # measured in the browser before the questions ended
            answers["tech"]["measured"] = answers["measured"]
        link = await issue_link(self._services, step.context)
        await self._services.progress(
            step.context, f"tech_{assessment.outcome}", tech=answers["tech"]
        )
        self._services.counted(step.context, Metric(f"tech_{assessment.outcome}"))
        url = link.url if link else ""
        if assessment.outcome == Outcome.HELP_NEEDED:
            choice = ask("tech.help", HELP_CHOICES)
        elif assessment.data_warning:
            choice = ask("tech.save_data", SAVE_DATA_CHOICES)
        else:
            await step.context.send_activity(assessment_card(texts(step.context), assessment, url))
            return await step.end_dialog(AfterTechCheck.CONTINUE)
        options = {**choice, "assessment": dict(answers["tech"]), "link": url}
        return await step.begin_dialog("tech.result", options)

    async def _after_result_choice(self, step: WaterfallStepContext):
        """Help needed: call-back, phone or later. Much data: a phone call instead, or video
        with a plan (Wi-Fi, sound only, or anyway) noted for the counsellor."""
        if step.result in SAVE_DATA_CHOICES and step.result != AfterTechCheck.PHONE:
            session_of(step.context).answers["tech"]["data_plan"] = step.result
            return await step.end_dialog(AfterTechCheck.CONTINUE)
        choice = AfterTechCheck(step.result)
        if choice != AfterTechCheck.CALLBACK:
            reason = "prefers_phone" if choice == AfterTechCheck.PHONE else "try_later"
            await self._services.dropped_out(step.context, reason, "tech_check")
        return await step.end_dialog(choice)


async def issue_link(services: JourneyServices, context: TurnContext) -> IssuedLink | None:
    """A fresh link to the measured check for the client of this turn (``None``: not set up)."""
    return await services.links.issue(
        conversation_reference(context), client_of(context).client_id, session_of(context).locale
    )
