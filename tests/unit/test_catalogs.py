"""Every text lives in the catalogs, in all seven languages (staff texts in German and
English), in the plain "Sie" form; typed answers never mean two things."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.domain.typed_text import normalise
from bot.i18n import (
    LOCALES_DIR,
    STAFF_LOCALES,
    STAFF_LOCALES_DIR,
    SUPPORTED_LOCALES,
    load_catalog,
    load_staff_catalog,
    match_locale,
    read_catalog,
    staff_translator,
    translator,
)
from dialogs.consent_texts import register

ROOT = Path(__file__).resolve().parents[2]


#: values that are the same in German and another language on purpose: names and brand words
SAME_AS_GERMAN = {
    "language.name",  # each catalog names its own language; German's is only in de.po
    "tech.device.tablet",  # "Tablet"
    "techcheck.label.browser",  # "Browser"
    "techcheck.page.browser",
    "tech.device.tablet.typed",  # "tablet|ipad"
    "techcheck.value.connection.figures",  # "↓ {down}, ↑ {up}, {rtt} ms"
    "my_data.requests.line",  # "{time}: {what}. {state}"
}


def client_keys(locale: str) -> set[str]:
    """The client texts a language must have: every key of the German client catalog,
    except consent versions that were never shown in that language (see the register)."""
    never_shown = {version for version, languages in register().items() if locale not in languages}
    return {
        key
        for key in read_catalog(LOCALES_DIR / "de.po")
        if not any(key.startswith(f"consent.{version}.") for version in never_shown)
    }


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_language_has_the_client_keys_and_nothing_empty(locale: str) -> None:
    catalog = read_catalog(LOCALES_DIR / f"{locale}.po")
    assert set(catalog) == client_keys(locale)
    assert [key for key, text in catalog.items() if not text.strip()] == []


@pytest.mark.parametrize("locale", [loc for loc in SUPPORTED_LOCALES if loc != "de"])
def test_nothing_is_left_in_german(locale: str) -> None:
    german, catalog = load_catalog("de"), read_catalog(LOCALES_DIR / f"{locale}.po")
    same = {key for key, text in catalog.items() if text == german[key]}
    assert same - SAME_AS_GERMAN == set()


def test_staff_texts_are_in_german_and_english_only() -> None:
    assert sorted(path.stem for path in STAFF_LOCALES_DIR.glob("*.po")) == sorted(STAFF_LOCALES)
    german, english = (read_catalog(STAFF_LOCALES_DIR / f"{loc}.po") for loc in ("de", "en"))
    assert set(german) == set(english)
    assert all(german.values())
    assert all(english.values())
    assert not set(german) & client_keys("de")
    assert staff_translator("tr-TR").locale == "de"
    assert staff_translator("en-GB").locale == "en"
    for key, text in german.items():
        assert _fields(text) == _fields(english[key]), key


def test_no_client_is_shown_a_staff_text() -> None:
    """A client's translator has no staff text, not even through the German fallback."""
    staff_key = next(iter(read_catalog(STAFF_LOCALES_DIR / "de.po")))
    for locale in SUPPORTED_LOCALES:
        assert not translator(locale).has(staff_key)
    assert staff_translator("de").has(staff_key)
    assert staff_translator("de").has("choice.topic.job")  # the cards quote client texts


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_literal_key_in_the_code_exists() -> None:
    catalog = load_staff_catalog("de")
    pattern = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""")
    used = set()
    for folder in ("bot", "dialogs"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern found no keys at all"
    assert sorted(used - set(catalog)) == []


def test_german_texts_address_the_client_with_sie() -> None:
    informal = re.compile(r"\b(du|dich|dir|dein\w*|hast|bist|kannst|willst)\b", re.IGNORECASE)
    offenders = {k: v for k, v in load_staff_catalog("de").items() if informal.search(v)}
    assert offenders == {}


def test_sentences_stay_short() -> None:
    for locale in SUPPORTED_LOCALES:
        catalog = load_staff_catalog(locale) if locale in STAFF_LOCALES else load_catalog(locale)
        for key, text in catalog.items():
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                assert len(sentence.split()) <= 30, (locale, key, sentence)


def test_locale_matching() -> None:
    assert match_locale("en-US") == "en"
    assert match_locale("de_AT") == "de"
    assert match_locale("tr-TR") == "tr"
    assert match_locale("uk-UA") == "uk"
    assert match_locale("ar-SA") == "ar"
    assert match_locale("fa-AF") == "fa"  # Dari
    assert match_locale("prs") == "fa"
    assert match_locale("ps-AF") == "de"  # Pashto: no catalog yet (an interpreter can be asked)
    assert match_locale(None) == "de"
    assert translator("en-GB")("common.next") == "Next"


#: yes/no confirmations are read before the global commands, so a command word may answer them
CONFIRMATIONS = ("delete.confirm", "restart.confirm")


def choice_questions() -> dict[str, set[str]]:
    """Each question with typed answers → its choice ids (from ``<question>.<choice>.typed``)."""
    found: dict[str, set[str]] = {}
    for key in load_catalog("de"):
        match = re.match(r"^(.+)\.([a-z0-9_]+)\.typed$", key)
        if match and not key.startswith(("command.", "language.", "desk.", "listen.", "windows.")):
            found.setdefault(match.group(1), set()).add(match.group(2))
    return found


def answer_words(question: str, choice: str) -> set[str]:
    """The label and typed synonyms of one choice, in every language, as they are matched."""
    words = set()
    for locale in SUPPORTED_LOCALES:
        t = translator(locale)
        words |= {
            normalise(word)
            for word in [t(f"{question}.{choice}"), *t.variants(f"{question}.{choice}.typed")]
        }
    return words


def test_no_typed_answer_means_two_choices_in_any_language() -> None:
    """Matching runs over every catalog at once: a word of one choice must not be a word of
    another choice of the same question, in any language."""
    questions = choice_questions()
    assert len(questions) >= 15
    for question, choices in questions.items():
        seen: dict[str, str] = {}
        for choice in sorted(choices):
            for word in answer_words(question, choice):
                assert seen.setdefault(word, choice) == choice, (question, word, seen[word], choice)


def test_no_global_command_swallows_an_answer() -> None:
    """Commands are read before the open question: none may be typed as one of its answers."""
    commands = {
        normalise(word)
        for locale in SUPPORTED_LOCALES
        for key in load_catalog(locale)
        if re.match(r"^(command\.[a-z_]+|language\.[a-z]+)\.typed$", key)
        for word in translator(locale).variants(key)
    }
    for question, choices in choice_questions().items():
        if question in CONFIRMATIONS:
            continue
        for choice in choices:
            assert not answer_words(question, choice) & commands, (question, choice)
