"""What a client writes out of turn, understood at any step.

- A benefits matter (Bürgergeld, Miete, Bescheid …) is answered kindly: these are handled only
  in person, and an appointment in person is one click away; the client may also go on
  preparing a video consultation on another topic.
- A wish for video, phone or in person counts: before the topic is chosen it is noted (the
  type question is then skipped); later the journey switches to it.

Only typed text is read, and only when the open question cannot take it as its own answer:
the question comes first ("Telefon" at the type question answers that question).
"""

from __future__ import annotations

import re
import secrets
from functools import cache

from botbuilder.dialogs import DialogContext
from botbuilder.schema import Activity

from bot.domain.handoffs import BENEFITS_TOPIC
from bot.domain.typed_text import normalise, word_pattern
from bot.i18n import Translator, all_translators
from cards import card_message
from dialogs.journey import CHOSEN, JourneyDialog
from dialogs.question import (
    MAX_TYPED_ANSWER_CHARS,
    card_submit,
    open_question_takes,
    tell_card_is_answered,
)
from dialogs.services import JourneyServices
from dialogs.session import session_of, texts

CONSULTATION_TYPES = ("video", "phone", "in_person")
#: the submit data of the benefits card's in-person button
IN_PERSON_FOR_BENEFITS = "benefits_in_person"
#: how many words before a wish a negation still reverses it ("kein Video", "nicht per Video")
NEGATION_REACH = 2


@cache
def _patterns(key: str) -> tuple[re.Pattern[str], ...]:
    """Whole words or phrases from ``listen.<key>.words`` in every catalog (``word_pattern``:
    a trailing ``*`` also takes longer words)."""
    words = (word for t in all_translators() for word in t.variants(f"listen.{key}.words"))
    return tuple(pattern for word in words if (pattern := word_pattern(word)) is not None)


def _mentioned(utterance: str, key: str, negatable: bool = True) -> bool:
    """Said — and, for a wish, not negated just before ("kein Video", "not by phone"; but
    "kein Geld" is a benefits matter all the same)."""
    negations = _patterns("negation") if negatable else ()
    for pattern in _patterns(key):
        for match in pattern.finditer(utterance):
            before = utterance[: match.start()].split()[-NEGATION_REACH:]
            if not any(n.fullmatch(word) for word in before for n in negations):
                return True
    return False


def understood(text: str | None) -> str | None:
    """``"benefits"``, a consultation type the client wishes, or ``None``."""
    utterance = normalise(text)
    if not utterance or len(utterance) > MAX_TYPED_ANSWER_CHARS:
        return None
    if _mentioned(utterance, "benefits", negatable=False):
        return BENEFITS_TOPIC
    wishes = [kind for kind in CONSULTATION_TYPES if _mentioned(utterance, kind)]
    return wishes[0] if len(wishes) == 1 else None


class EarlyAnswers:
    def __init__(self, services: JourneyServices) -> None:
        self._services = services

    async def handle(self, dialog_context: DialogContext) -> bool:
        """``True`` if the turn was an out-of-turn answer (and is done)."""
        context = dialog_context.context
        submit = card_submit(context.activity)
        if submit is not None:
            if submit.get("benefits") != IN_PERSON_FOR_BENEFITS:
                return False
            await self._in_person_for_benefits(dialog_context, str(submit.get("card") or ""))
            return True
        if context.activity.attachments:
            return False
        meant = understood(context.activity.text)
        if meant is None or await open_question_takes(dialog_context):
            return False
        answers = session_of(context).answers
        if meant == BENEFITS_TOPIC:
            if answers.get("topic") == BENEFITS_TOPIC:
                return False  # already on its way to an appointment in person
            await context.send_activity(_benefits_card(texts(context)))
            return True
        await self._wish(dialog_context, meant)
        return True

    async def _wish(self, dialog_context: DialogContext, wish: str) -> None:
        context = dialog_context.context
        t = texts(context)
        answers = session_of(context).answers
        if answers.get("done"):
            await context.send_activity(t("listen.after_request"))
            return
        await context.send_activity(t(f"listen.noted.{wish}"))
        if "topic" not in answers or answers.get("type") == wish:
            answers["type"] = wish  # the type question will not be asked
            if dialog_context.active_dialog is None:
                await dialog_context.begin_dialog(JourneyDialog.__name__)
            else:
                await dialog_context.reprompt_dialog()
            return
        await self._switch(dialog_context, answers["topic"], wish)

    async def _in_person_for_benefits(self, dialog_context: DialogContext, card_id: str) -> None:
        """The in-person button on the benefits card — acting once, however often clicked."""
        context = dialog_context.context
        session = session_of(context)
        if not card_id or card_id in session.answered_cards:
            await tell_card_is_answered(context, card_id)
            return
        session.mark_card_answered(card_id, "listen.in_person")
        await self._switch(dialog_context, BENEFITS_TOPIC, "in_person")

    async def _switch(self, dialog_context: DialogContext, topic: str, kind: str) -> None:
        """Go on as if the client had chosen this topic and kind at the choice step."""
        context = dialog_context.context
        answers = session_of(context).answers
        await dialog_context.cancel_all_dialogs()
        answers.update({"topic": topic, "type": kind})
        answers.pop("done", None)
        await self._services.progress(context, "choice", topic=topic, consultation_type=kind)
        if kind != "video":
            await self._services.dropped_out(context, f"chose_{kind}", "choice")
        await dialog_context.begin_dialog(JourneyDialog.__name__, {"entry": CHOSEN})


def _benefits_card(t: Translator) -> Activity:
    """Benefit matters are handled in person: an appointment one click away, or go on."""
    title = t("listen.benefits.title")
    why = t("listen.benefits.why")
    return card_message(
        t,
        "benefits_offer",
        {
            "title": title,
            "why": why,
            "in_person_label": t("listen.in_person"),
            "in_person": {"benefits": IN_PERSON_FOR_BENEFITS, "card": secrets.token_hex(6)},
            "go_on_label": t("listen.go_on"),
            "fallback": "\n".join([title, why]),
        },
    )
