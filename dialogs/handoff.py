"""Step 5: preferred times (and a phone number where one is needed), then the handoff
record for the counsellor, who is notified. A tech-help call-back is a handoff, too."""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import Activity

from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoff
from bot.domain.interpreters import InterpreterRequest
from bot.domain.stats import Metric
from bot.domain.time_windows import format_windows, windows
from bot.i18n import DEFAULT_LOCALE
from cards import card_message
from cards.markdown import literal
from dialogs.contact_questions import PhoneQuestion, WindowsQuestion
from dialogs.interpreter import INTERPRETER, InterpreterDialog
from dialogs.question import ChoiceQuestion, ask
from dialogs.services import JourneyServices
from dialogs.session import client_of, conversation_reference, effect_key, session_of, texts

TECH_HELP = "tech_help"
CONSULTATION = "consultation"
STEPS = "handoff.with_interpreter"


class HandoffDialog(ComponentDialog):
    """Options: ``{"purpose": "consultation" | "tech_help"}``."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(HandoffDialog.__name__)
        self._services = services
        self.add_dialog(PhoneQuestion("handoff.phone"))
        self.add_dialog(InterpreterDialog(services))
        self.add_dialog(PreferredTimesDialog())
        # a conversation saved while the times card was a question of its own waits on this id
        self.add_dialog(WindowsQuestion("handoff.windows"))
        self.add_dialog(
            WaterfallDialog(
                STEPS, [self._ask_phone, self._ask_interpreter, self._ask_windows, self._record]
            )
        )
        # a conversation saved before the interpreter question waits in these steps
        self.add_dialog(
            WaterfallDialog("handoff.steps", [self._ask_phone, self._ask_windows, self._record])
        )
        self.initial_dialog_id = STEPS

    async def _ask_phone(self, step: WaterfallStepContext):
        purpose = (step.options or {}).get("purpose", CONSULTATION)
        step.values["purpose"] = purpose
        answers = session_of(step.context).answers
        if purpose == TECH_HELP or answers.get("type") == "phone":
            return await step.begin_dialog(
                "handoff.phone", {"question": f"phone.question.{purpose}"}
            )
        return await step.next(None)

    async def _ask_interpreter(self, step: WaterfallStepContext):
        """Asked in a chat that is not in German, unless the client said it already."""
        step.values["phone"] = step.result or ""
        session = session_of(step.context)
        if (
            step.values["purpose"] == CONSULTATION
            and session.locale != DEFAULT_LOCALE
            and INTERPRETER not in session.answers
        ):
            return await step.begin_dialog(InterpreterDialog.__name__)
        return await step.next(None)

    async def _ask_windows(self, step: WaterfallStepContext):
        step.values.setdefault("phone", step.result or "")  # the steps saved before: no question
        question = f"windows.question.{step.values['purpose']}"
        return await step.begin_dialog(PreferredTimesDialog.__name__, {"question": question})

    async def _record(self, step: WaterfallStepContext):
        context = step.context
        answers = session_of(context).answers
        client = client_of(context)
        purpose = step.values["purpose"]
        consent = answers.get("consent", {})
        profile = await self._services.profiles.get(client.client_id)
        handoff = Handoff(
            # One answer to the times card is one handoff, however often it arrives.
            handoff_id=f"h-{effect_key(context)}",
            client_id=client.client_id,
            client_name=client.display_name,
            purpose=purpose,
            consultation_type=answers.get("type", "video"),
            topic=answers.get("topic", ""),
            windows=step.result or windows([], []),  # [] only from a stack saved before
            tech=answers.get("tech", {}),
            consent_status=consent.get("status", "none"),
            receipt_id=consent.get("receipt_id", ""),
            phone=step.values["phone"],
            interpreter=answers.get(INTERPRETER, {}) if purpose == CONSULTATION else {},
            locale=session_of(context).locale,
            client_ref=conversation_reference(context),
            counsellor_id=profile.counsellor_id if profile else "",
        )
        handoff, created = await self._services.handoffs.create(handoff)
        if created:
            metric = Metric.handoff(handoff.purpose, handoff.consultation_type)
            self._services.counted(context, metric)
        # Told until a card was delivered: a turn that failed after creating the handoff (and
        # is sent again) still tells the counsellor; cards already sent are updated in place.
        if created or not handoff.delivery:
            event = (
                HandoffEvent.TECH_HELP_REQUESTED if purpose == TECH_HELP else HandoffEvent.REQUESTED
            )
            await self._services.notifier.handoff_event(handoff, event)
        await self._services.progress(context, f"{purpose}_requested", windows=handoff.windows)
        await context.send_activity(_summary(context, handoff))
        return await step.end_dialog({"handoff_id": handoff.handoff_id})


class PreferredTimesDialog(ComponentDialog):
    """The times card; sent with nothing ticked, it asks once whether any time suits.

    Options: ``{"question": catalog key}``. Ends with the chosen windows."""

    def __init__(self) -> None:
        super().__init__(PreferredTimesDialog.__name__)
        self.add_dialog(WindowsQuestion("times.windows"))
        self.add_dialog(ChoiceQuestion("times.any_time"))
        self.add_dialog(
            WaterfallDialog("times.steps", [self._ask, self._confirm_any_time, self._finish])
        )
        self.initial_dialog_id = "times.steps"

    async def _ask(self, step: WaterfallStepContext):
        step.values["options"] = dict(step.options or {})
        return await step.begin_dialog("times.windows", step.values["options"])

    async def _confirm_any_time(self, step: WaterfallStepContext):
        if step.result:
            return await step.end_dialog(step.result)
        return await step.begin_dialog("times.any_time", ask("windows.any_time", ["yes", "no"]))

    async def _finish(self, step: WaterfallStepContext):
        if step.result == "yes":
            return await step.end_dialog(windows([], []))
        return await step.replace_dialog("times.steps", step.values["options"])


def _summary(context: TurnContext, handoff: Handoff) -> Activity:
    t = texts(context)
    facts = [(t("summary.when"), format_windows(handoff.windows, t))]
    if handoff.purpose == CONSULTATION:
        facts = [
            (t("summary.topic"), t(f"choice.topic.{handoff.topic}")),
            (t("summary.type"), t(f"choice.type.{handoff.consultation_type}")),
            *facts,
        ]
        if handoff.receipt_id:
            facts.append((t("summary.receipt"), handoff.receipt_id))
    if handoff.phone:
        facts.append((t("summary.phone"), literal(handoff.phone)))
    request = InterpreterRequest.from_dict(handoff.interpreter)
    if request is not None:
        facts.append((t("summary.interpreter"), literal(request.name(t.locale))))
    title = t(f"summary.title.{handoff.purpose}")
    next_steps = t(f"summary.next.{handoff.purpose}.{handoff.consultation_type}")
    return card_message(
        t,
        "handoff_summary",
        {
            "title": title,
            "facts": [{"title": name, "value": value} for name, value in facts],
            "next_steps": next_steps,
            "fallback": "\n".join([title, *(f"{n}: {v}" for n, v in facts), next_steps]),
        },
    )
