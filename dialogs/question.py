"""One question at a time: the building block of every journey step.

A ``Question`` shows a card, then accepts either a click on that card or a typed answer.
Its state holds only catalog keys and ids — never rendered text — so a language switch or a
restart of the service re-renders the same question correctly.

Each card carries a fresh id. A click on a card that was already answered (a double click,
or an old card further up the chat) is ignored, so nothing happens twice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogContext,
    DialogInstance,
    DialogTurnResult,
)
from botbuilder.dialogs.choices import Choice, ChoiceRecognizers, FindChoicesOptions
from botbuilder.schema import Activity, ActivityTypes

from bot.domain.typed_text import normalise
from bot.i18n import Translator, all_translators
from cards import card_message, numbered
from dialogs.session import ANSWERED_CARD_KEY, session_of, texts

Options = dict[str, Any]
ESCALATE_AFTER = 2  # failed attempts before the re-prompt also names the alternatives
#: no answer to any question is longer; a longer text is not understood without being parsed
#: (the SDK's recognisers take time that grows with the square of the words: 200 KB of
#: "1 1 1 …" held the event loop for minutes)
MAX_TYPED_ANSWER_CHARS = 500


@dataclass(frozen=True)
class Reprompt:
    """``recognize`` could not accept the answer and says why (a catalog key and its
    placeholders)."""

    reason_key: str
    params: dict[str, object] = field(default_factory=dict)


def card_submit(activity: Activity) -> dict[str, Any] | None:
    """The data of an Adaptive Card ``Action.Submit`` (Teams merges the inputs into it)."""
    return activity.value if isinstance(activity.value, dict) else None


class Question(Dialog):
    """Base class: subclasses say how to render the card and how to read an answer."""

    async def begin_dialog(self, dialog_context: DialogContext, options: object = None):
        state = dialog_context.active_dialog.state
        state["options"] = dict(options or {})  # type: ignore[call-overload]
        state["card"] = secrets.token_hex(6)
        state["attempts"] = 0
        await self._show(dialog_context.context, state, retry=None)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        context = dialog_context.context
        if context.activity.type != ActivityTypes.message:
            return Dialog.end_of_turn
        state = dialog_context.active_dialog.state
        submit = card_submit(context.activity)
        if submit is not None and submit.get("card") != state["card"]:
            await tell_card_is_answered(context, submit.get("card"))
            return Dialog.end_of_turn

        too_long = submit is None and len(context.activity.text or "") > MAX_TYPED_ANSWER_CHARS
        answer = None if too_long else await self.recognize(context, state["options"], submit)
        if answer is None or isinstance(answer, Reprompt):
            state["attempts"] += 1
            reason = answer if isinstance(answer, Reprompt) else Reprompt("common.not_understood")
            await self._show(context, state, retry=reason)
            return Dialog.end_of_turn
        choice_key = self.choice_key(state["options"], answer)
        session_of(context).mark_card_answered(state["card"], choice_key)
        context.turn_state[ANSWERED_CARD_KEY] = state["card"]
        return await dialog_context.end_dialog(answer)

    def choice_key(self, options: Options, answer: object) -> str:
        """The catalog key of the label of ``answer``, for "Das haben Sie schon gewählt";
        empty where an answer has no single label (inputs, uploads)."""
        return ""

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        await self._show(context, instance.state, retry=None)

    async def _show(self, context: TurnContext, state: dict[str, Any], retry: Reprompt | None):
        t = texts(context)
        retry_text = ""
        if retry:
            retry_text = t(retry.reason_key, **retry.params)
            if state["attempts"] >= ESCALATE_AFTER:
                retry_text = f"{retry_text} {t('common.escalate')}"
        await context.send_activity(self.render(t, state["options"], state["card"], retry_text))

    def render(self, t: Translator, options: Options, card_id: str, retry_text: str) -> Activity:
        raise NotImplementedError

    async def recognize(
        self, context: TurnContext, options: Options, submit: dict[str, Any] | None
    ) -> Any:
        """The answer, or ``None`` / ``Reprompt`` to ask again."""
        raise NotImplementedError


def ask(
    question: str, choices: list[str], *, intro: list[str] | None = None, **params: Any
) -> Options:
    """Options for a ``ChoiceQuestion``: catalog keys of the question and its paragraphs.

    Choice labels are ``{question}.{choice}``; typed synonyms ``{question}.{choice}.typed``.
    """
    return {"question": question, "choices": choices, "intro": intro or [], "params": params}


class ChoiceQuestion(Question):
    """Pick one of a few answers: a button each, or typed ("Video", "ja", "2")."""

    def render(self, t: Translator, options: Options, card_id: str, retry_text: str) -> Activity:
        return choice_card(t, options, card_id, retry_text)

    async def recognize(
        self, context: TurnContext, options: Options, submit: dict[str, Any] | None
    ) -> object:
        """A choice id, or ``None``; subclasses may answer more (a number, a ``Reprompt``)."""
        return chosen(context, options, submit)

    def choice_key(self, options: Options, answer: object) -> str:
        if isinstance(answer, str) and answer in options.get("choices", []):
            return f"{options['question']}.{answer}"
        return ""


def chosen(context: TurnContext, options: Options, submit: dict[str, Any] | None) -> str | None:
    """The choice a click or a typed answer names, or ``None``."""
    if submit is not None:
        answer = submit.get("answer")
        return answer if isinstance(answer, str) and answer in options["choices"] else None
    return recognize_choice(context.activity.text, options["question"], options["choices"])


async def tell_card_is_answered(context: TurnContext, card_id: object) -> None:
    """A click on a card that is not the open question: a second click on an answered card is
    told what was chosen (and acts no more); a card the session never saw is refused kindly."""
    t = texts(context)
    session = session_of(context)
    if not isinstance(card_id, str) or card_id not in session.answered_cards:
        await context.send_activity(t("common.old_card"))
        return
    choice_key = session.answered_choice(card_id)
    if choice_key:
        await context.send_activity(t("common.already_chosen", choice=t(choice_key)))
    else:
        await context.send_activity(t("common.already_answered"))


def choice_card(t: Translator, options: Options, card_id: str, retry_text: str = "") -> Activity:
    """The question card: intro paragraphs, the question, one button per choice."""
    params = options.get("params", {})
    question = t(options["question"], **params)
    labels = [t(f"{options['question']}.{choice}") for choice in options["choices"]]
    intro = [t(key, **params) for key in options.get("intro", [])]
    return card_message(
        t,
        "question",
        {
            "card": card_id,
            "retry": bool(retry_text),
            "retry_text": retry_text,
            "intro": [{"text": paragraph} for paragraph in intro],
            "question": question,
            "choices": [
                {"id": choice, "title": label}
                for choice, label in zip(options["choices"], labels, strict=True)
            ],
            "fallback": numbered("\n\n".join([*intro, question]), labels),
        },
    )


@cache
def typed_forms(*keys: str) -> frozenset[str]:
    """What a client may type for catalog entries, in every language, normalised: each ``|``
    form of a ``.typed`` or ``.words`` entry, any other entry (a label) as it is. The catalogs
    do not change while the service runs, so this is worked out once per key."""
    forms: set[str] = set()
    for t in all_translators():
        for key in keys:
            if key.endswith((".typed", ".words")):
                forms |= {normalise(form) for form in t.variants(key)} if t.has(key) else set()
            else:
                forms.add(normalise(t(key)))
    return frozenset(forms - {""})


def recognize_choice(
    text: str | None, question_key: str, choices: list[str], *, exact: bool = False
) -> str | None:
    """Typed answer → choice id, in any supported language (labels, synonyms, "1", "2" …);
    ``exact``: only when the whole text is a label or synonym ("Telefon", not "lieber
    Telefon")."""
    utterance = normalise(text)
    if not utterance:
        return None
    candidates = []
    for choice in choices:
        whole = typed_forms(f"{question_key}.{choice}", f"{question_key}.{choice}.typed")
        if utterance in whole:
            return choice
        candidates.append(Choice(value=choice, synonyms=sorted(whole)))
    if exact:
        return None
    found = ChoiceRecognizers.recognize_choices(
        utterance, candidates, FindChoicesOptions(allow_partial_matches=False)
    )
    return found[0].resolution.value if found else None


async def open_question_takes(dialog_context: DialogContext) -> bool:
    """Whether the question waiting for an answer reads this text as its answer."""
    stack = dialog_context.stack
    dialog: Dialog | None = dialog_context.find_dialog_sync(stack[0].id) if stack else None
    # the SDK's ComponentDialog is no DialogContainer here: walk down its inner stacks
    while isinstance(dialog, ComponentDialog) and stack:
        stack = stack[0].state[ComponentDialog.persisted_dialog_state].dialog_stack
        dialog = await dialog.find_dialog(stack[0].id) if stack else None
    if not isinstance(dialog, Question) or not stack:
        return False
    options = stack[0].state["options"]
    context = dialog_context.context
    if isinstance(dialog, ChoiceQuestion) and "choices" in options:
        # only a whole answer: "Telefon" names the device, "lieber Telefon" is a wish
        exact = recognize_choice(
            context.activity.text, options["question"], options["choices"], exact=True
        )
        return exact is not None
    answer = await dialog.recognize(context, options, None)
    return answer is not None and not isinstance(answer, Reprompt)
