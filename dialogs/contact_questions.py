"""Questions with free answers: a phone number, and preferred time windows."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.domain.time_windows import DAYPARTS, WEEKDAYS, parse_typed, windows
from bot.i18n import Translator, all_translators
from cards import card_message
from dialogs.question import Options, Question, Reprompt

_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s/()\-.]+$")


def normalise_phone(text: str) -> str | None:
    """German and international numbers: 6–15 digits, separators allowed, ``+`` kept."""
    text = text.strip()
    if not _PHONE_CHARACTERS.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if not 6 <= len(digits) <= 15:
        return None
    return ("+" if text.startswith("+") else "") + digits


class PhoneQuestion(Question):
    """Asks for a phone number (typed, or in the card's text field)."""

    def render(self, t: Translator, options: Options, card_id: str, retry_text: str) -> Activity:
        question = t(options["question"])
        return card_message(
            t,
            "phone",
            {
                "card": card_id,
                "retry": bool(retry_text),
                "retry_text": retry_text,
                "question": question,
                "hint": t("phone.hint"),
                "label": t("phone.label"),
                "required_text": t("phone.required"),
                "submit_label": t("common.next"),
                "fallback": f"{question}\n{t('phone.hint')}",
            },
        )

    async def recognize(
        self, context: TurnContext, options: Options, submit: dict[str, Any] | None
    ) -> str | Reprompt:
        text = submit.get("phone") if submit is not None else context.activity.text
        if not isinstance(text, str):  # a card submit carries any JSON a client sends
            return Reprompt("phone.invalid")
        return normalise_phone(text) or Reprompt("phone.invalid")


class WindowsQuestion(Question):
    """When the client can: weekdays × mornings/afternoons, as two multi-select lists."""

    def render(self, t: Translator, options: Options, card_id: str, retry_text: str) -> Activity:
        question = t(options["question"])
        return card_message(
            t,
            "time_windows",
            {
                "card": card_id,
                "retry": bool(retry_text),
                "retry_text": retry_text,
                "question": question,
                "hint": t("windows.hint"),
                "days_label": t("windows.days"),
                "parts_label": t("windows.parts"),
                "days": [{"title": t(f"windows.day.{day}"), "value": day} for day in WEEKDAYS],
                "parts": [{"title": t(f"windows.part.{part}"), "value": part} for part in DAYPARTS],
                "submit_label": t("common.next"),
                "fallback": f"{question}\n{t('windows.hint')}",
            },
        )

    async def recognize(
        self, context: TurnContext, options: Options, submit: dict[str, Any] | None
    ) -> list[str] | None:
        """The chosen windows; ``[]`` for a card sent with nothing ticked (the caller asks
        whether any time suits: nothing is assumed)."""
        if submit is not None:
            days = _split(submit.get("days"))
            parts = _split(submit.get("parts"))
            return windows(days, parts) if days or parts else []
        return parse_windows(context.activity.text or "")


def parse_windows(text: str) -> list[str] | None:
    return parse_typed(text, *_window_words())


@cache
def _window_words() -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """Day, daypart and "any time" words of every catalog (worked out once)."""
    day_words: dict[str, list[str]] = {day: [] for day in WEEKDAYS}
    part_words: dict[str, list[str]] = {part: [] for part in DAYPARTS}
    any_words: list[str] = []
    for t in all_translators():
        for day in WEEKDAYS:
            day_words[day] += t.variants(f"windows.day.{day}.typed")
        for part in DAYPARTS:
            part_words[part] += t.variants(f"windows.part.{part}.typed")
        any_words += t.variants("windows.any.typed")
    return day_words, part_words, any_words


def _split(value: object) -> list[str]:
    """Adaptive Cards send a multi-select as ``"a,b"``."""
    return [item for item in str(value or "").split(",") if item]
