"""An interpreter for the consultation: asked at the handoff step when the chat is not in
German, and by the command "Dolmetscher" at any step.

The wish is kept in the session's answers (so the handoff made later carries it) and, when a
request is already with the counsellor, written into that handoff — the counsellor's card
then shows it.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import Activity

from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import OPEN_HANDOFF_STATUSES, Handoff
from bot.domain.interpreters import (
    INTERPRETER_LANGUAGES,
    InterpreterRequest,
    choice_title,
    language_name,
    own_name,
)
from bot.domain.typed_text import normalise
from bot.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, Translator
from cards import card_message
from dialogs.question import Options, Question, Reprompt, recognize_choice
from dialogs.services import JourneyServices
from dialogs.session import client_of, session_of, texts

#: the session's answer: ``InterpreterRequest.as_dict()``, or ``{}`` for "no, thank you"
INTERPRETER = "interpreter"
NOT_WANTED: dict[str, str] = {}


class InterpreterQuestion(Question):
    """The language from a list (the chat's own preselected), or written; or no."""

    def render(self, t: Translator, options: Options, card_id: str, retry_text: str) -> Activity:
        question = t("interpreter.question")
        return card_message(
            t,
            "interpreter",
            {
                "card": card_id,
                "retry": bool(retry_text),
                "retry_text": retry_text,
                "question": question,
                "why": t("interpreter.why"),
                "language_label": t("interpreter.language"),
                "preset": chat_language(t.locale),
                "languages": [
                    {"code": code, "title": choice_title(code, t.locale)}
                    for code in INTERPRETER_LANGUAGES
                ],
                "other_label": t("interpreter.other"),
                "yes_label": t("interpreter.yes"),
                "no_label": t("interpreter.no"),
                "fallback": f"{question}\n{t('interpreter.why')}",
            },
        )

    def choice_key(self, options: Options, answer: object) -> str:
        return "interpreter.no" if answer == NOT_WANTED else "interpreter.yes"

    async def recognize(
        self, context: TurnContext, options: Options, submit: dict[str, Any] | None
    ) -> dict[str, str] | Reprompt | None:
        locale = session_of(context).locale
        if submit is not None:
            if submit.get("answer") == "no":
                return NOT_WANTED
            if submit.get("answer") != "yes":
                return None
            request = InterpreterRequest.from_dict(
                {
                    "language": submit.get("interpreter_language"),
                    "written": submit.get("interpreter_written"),
                }
            )
            return request.as_dict() if request else Reprompt("interpreter.missing_language")
        named = named_interpreter_language(context.activity.text)
        if named:
            return InterpreterRequest(language=named).as_dict()
        answer = recognize_choice(context.activity.text, "interpreter", ["yes", "no"])
        if answer == "no":
            return NOT_WANTED
        if answer == "yes":
            if chat_language(locale):
                return InterpreterRequest(language=chat_language(locale)).as_dict()
            return Reprompt("interpreter.missing_language")
        return None


class InterpreterDialog(ComponentDialog):
    """Asks, keeps the answer, and tells the counsellor of a request already made."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(InterpreterDialog.__name__)
        self._services = services
        self.add_dialog(InterpreterQuestion("interpreter.ask"))
        self.add_dialog(WaterfallDialog("interpreter.steps", [self._ask, self._keep]))
        self.initial_dialog_id = "interpreter.steps"

    async def _ask(self, step: WaterfallStepContext):
        return await step.begin_dialog("interpreter.ask")

    async def _keep(self, step: WaterfallStepContext):
        context = step.context
        t = texts(context)
        session_of(context).answers[INTERPRETER] = step.result
        request = InterpreterRequest.from_dict(step.result)
        told = await self._tell_open_handoffs(context, request)
        if request is None:
            await context.send_activity(t("interpreter.declined"))
        else:
            key = "interpreter.noted_later" if told else "interpreter.noted"
            await context.send_activity(t(key, language=request.name(t.locale)))
        return await step.end_dialog(step.result)

    async def _tell_open_handoffs(
        self, context: TurnContext, request: InterpreterRequest | None
    ) -> bool:
        """Write the wish into the client's open consultation requests; ``True`` if any."""
        wish = request.as_dict() if request else {}

        def note(handoff: Handoff) -> bool:
            if handoff.status not in OPEN_HANDOFF_STATUSES or handoff.interpreter == wish:
                return False
            handoff.interpreter = wish
            return True

        told = False
        client_id = client_of(context).client_id
        for handoff in await self._services.handoffs.for_client(client_id):
            if handoff.purpose != "consultation" or handoff.status not in OPEN_HANDOFF_STATUSES:
                continue
            told = True
            updated, changed = await self._services.handoffs.update(
                client_id, handoff.handoff_id, note
            )
            if updated is not None and changed:
                event = (
                    HandoffEvent.INTERPRETER_REQUESTED
                    if request
                    else HandoffEvent.INTERPRETER_CANCELLED
                )
                await self._services.notifier.handoff_event(updated, event)
        return told


def chat_language(locale: str) -> str:
    """The interpreter language a chat language suggests ("" for German)."""
    return locale if locale != DEFAULT_LOCALE and locale in INTERPRETER_LANGUAGES else ""


def named_interpreter_language(text: str | None) -> str:
    """A language named in the text ("Paschtu", "pashto", "پښتو"), in any chat language."""
    words = f" {normalise(text)} "
    for code in INTERPRETER_LANGUAGES:
        names = {own_name(code), *(language_name(code, loc) for loc in SUPPORTED_LOCALES)}
        if any(f" {normalise(name)} " in words for name in names if name):
            return code
    return ""
