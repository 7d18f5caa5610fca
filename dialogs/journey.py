"""The whole client journey: welcome → topic and type → tech check → consent → handoff.

Phone and in-person consultations skip the tech check and consent. Declining consent (or
withdrawing it later) re-enters the journey at "how else may we advise you?".
"""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext

from bot.domain.stats import Metric
from dialogs.consent import ConsentDialog, ConsentOutcome
from dialogs.consultation import ConsultationChoiceDialog
from dialogs.handoff import CONSULTATION, TECH_HELP, HandoffDialog
from dialogs.question import ChoiceQuestion, ask
from dialogs.services import JourneyServices
from dialogs.session import session_of, texts
from dialogs.tech_check import AfterTechCheck, TechCheckDialog
from dialogs.welcome import WelcomeDialog

ALTERNATIVES = "alternatives"
CHOSEN = "chosen"  # topic and type are known (said out of turn): on to the tech check
STEPS = "journey.steps"
SWITCHING = "switching"  # the client leaves video for the phone or a visit


class JourneyDialog(ComponentDialog):
    """Options: ``{"entry": "alternatives"}`` starts at the choice of phone or in person;
    ``{"entry": "chosen"}`` after the choice step, with the session's topic and type."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(JourneyDialog.__name__)
        self._services = services
        for dialog in (
            WelcomeDialog(services),
            ConsultationChoiceDialog(services),
            TechCheckDialog(services),
            ConsentDialog(services),
            HandoffDialog(services),
            ChoiceQuestion("journey.ask"),
        ):
            self.add_dialog(dialog)
        self.add_dialog(
            WaterfallDialog(
                STEPS,
                [
                    self._welcome,
                    self._choose,
                    self._tech_check,
                    self._consent,
                    self._handoff,
                    self._finish,
                ],
            )
        )
        self.initial_dialog_id = STEPS

    async def _welcome(self, step: WaterfallStepContext):
        entry = (step.options or {}).get("entry")
        if entry in (ALTERNATIVES, CHOSEN):
            return await step.next(entry)
        return await step.begin_dialog(WelcomeDialog.__name__)

    async def _choose(self, step: WaterfallStepContext):
        if step.result == CHOSEN:
            return await step.next(session_of(step.context).answers["type"])
        if step.result == ALTERNATIVES:
            step.values[SWITCHING] = True
            return await step.begin_dialog(
                "journey.ask", ask("journey.alternative", ["phone", "in_person", "none"])
            )
        return await step.begin_dialog(ConsultationChoiceDialog.__name__)

    async def _tech_check(self, step: WaterfallStepContext):
        answers = session_of(step.context).answers
        if step.result == "none":
            await step.context.send_activity(texts(step.context)("journey.goodbye"))
            return await step.end_dialog()
        if isinstance(step.result, str):
            answers["type"] = step.result
        if step.values.get(SWITCHING):  # from video (declined or withdrawn) to another way
            self._services.counted(step.context, Metric(f"switched_to_{answers['type']}"))
        if answers["type"] != "video":
            return await step.next(AfterTechCheck.CONTINUE)
        return await step.begin_dialog(TechCheckDialog.__name__)

    async def _consent(self, step: WaterfallStepContext):
        answers = session_of(step.context).answers
        choice = AfterTechCheck(step.result)
        step.values["purpose"] = CONSULTATION
        if choice == AfterTechCheck.LATER:
            await step.context.send_activity(texts(step.context)("journey.later"))
            return await step.end_dialog()
        if choice == AfterTechCheck.CALLBACK:
            step.values["purpose"] = TECH_HELP
            return await step.next(ConsentOutcome.NOT_NEEDED)
        if choice == AfterTechCheck.PHONE:
            answers["type"] = "phone"
            self._services.counted(step.context, Metric.SWITCHED_TO_PHONE)
        if answers["type"] != "video":
            return await step.next(ConsentOutcome.NOT_NEEDED)
        return await step.begin_dialog(ConsentDialog.__name__)

    async def _handoff(self, step: WaterfallStepContext):
        if step.result == ConsentOutcome.DECLINED:
            return await step.replace_dialog(STEPS, {"entry": ALTERNATIVES})
        return await step.begin_dialog(HandoffDialog.__name__, {"purpose": step.values["purpose"]})

    async def _finish(self, step: WaterfallStepContext):
        session_of(step.context).answers["done"] = True
        return await step.end_dialog()
