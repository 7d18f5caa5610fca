"""An interpreter for the consultation: asked at the handoff step when the chat is not in
German, and by the command "Dolmetscher" at any step.

The wish is kept in the session's answers (so the handoff made later carries it) and, when a
request is already with the counsellor, written into that handoff — the counsellor's card
then shows it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import Activity

from bot.domain.handoff_events import HandoffEvent
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
from cards.markdown import literal
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
        # "No thanks, I speak English" is a no: the answer comes before a language named
        answer = recognize_choice(context.activity.text, "interpreter", ["yes", "no"])
        if answer == "no":
            return NOT_WANTED
        named = named_interpreter_language(context.activity.text)
        if named:
            return InterpreterRequest(language=named).as_dict()
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
        requested, changed = await self._services.handoffs.note_interpreter(
            client_of(context).client_id, request
        )
        event = (
            HandoffEvent.INTERPRETER_REQUESTED if request else HandoffEvent.INTERPRETER_CANCELLED
        )
        for handoff in changed:
            await self._services.notifier.handoff_event(handoff, event)
        if request is None:
            await context.send_activity(t("interpreter.declined"))
        else:
            key = "interpreter.noted_later" if requested else "interpreter.noted"
            await context.send_activity(t(key, language=literal(request.name(t.locale))))
        return await step.end_dialog(step.result)


def chat_language(locale: str) -> str:
    """The interpreter language a chat language suggests: none for German, and none for the
    Persian chat, whose readers may need Farsi or Dari — they pick one."""
    if locale in (DEFAULT_LOCALE, "fa"):
        return ""
    return locale if locale in INTERPRETER_LANGUAGES else ""


def named_interpreter_language(text: str | None) -> str:
    """A language named in the text ("Paschtu", "pashto", "پښتو"), in any chat language."""
    words = f" {normalise(text)} "
    for code, names in _interpreter_language_names():
        if any(f" {name} " in words for name in names):
            return code
    return ""


@cache
def _interpreter_language_names() -> tuple[tuple[str, frozenset[str]], ...]:
    """Each interpreter language's names (its own, and in every chat language), normalised,
    in the order of the list (worked out once: CLDR is read for each)."""
    return tuple(
        (
            code,
            frozenset(
                normalise(name)
                for name in (
                    own_name(code),
                    *(language_name(code, loc) for loc in SUPPORTED_LOCALES),
                )
                if normalise(name)
            ),
        )
        for code in INTERPRETER_LANGUAGES
    )
