"""Choosing the chat language: the language card, and the button that opens it.

Each language is named in its own name and script (``language.name`` of its own catalog), so a
new language is one more catalog — no card grows a button per language.
"""

from __future__ import annotations

from functools import cache

from botbuilder.schema import Activity

from bot.domain.typed_text import normalise
from bot.i18n import SUPPORTED_LOCALES, Translator, translator
from cards import card_message, numbered


def language_card(t: Translator) -> Activity:
    names = [(locale, translator(locale)("language.name")) for locale in SUPPORTED_LOCALES]
    return card_message(
        t,
        "language",
        {
            "question": t("language.question"),
            "current": t.locale,
            "languages": [{"locale": locale, "title": name} for locale, name in names],
            "choose_label": t("language.choose"),
            "missing_label": t("language.missing"),
            "fallback": numbered(t("language.question"), [name for _, name in names]),
        },
    )


def switch_label() -> str:
    """ "Sprache · Language · Мова …": the word in every language, for a client who cannot read
    the one the chat is in."""
    words = dict.fromkeys(translator(locale)("language.word") for locale in SUPPORTED_LOCALES)
    return " · ".join(words)


def named_language(text: str | None) -> str | None:
    """The language a client typed ("Türkçe", "arabic", "українською"), if it is one of ours."""
    return _language_names().get(normalise(text))


@cache
def _language_names() -> dict[str, str]:
    """Each language's own name and typed forms (from its own catalog) → the language."""
    names: dict[str, str] = {}
    for locale in SUPPORTED_LOCALES:
        t = translator(locale)
        for name in [t("language.name"), *t.variants("language.typed")]:
            names.setdefault(normalise(name), locale)
    return names
