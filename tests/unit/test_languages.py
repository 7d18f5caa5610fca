"""Seven chat languages: chosen from the Teams locale or on one language card, typed in any
language, right to left for Arabic and Persian, the consent's German original one tap away,
and an interpreter for any language (issue 11). Texts come from the catalogs."""

from __future__ import annotations

import pytest

from bot.domain.handoffs import Handoffs
from bot.domain.interpreters import InterpreterRequest, choice_title, language_name
from bot.domain.typed_text import normalise
from bot.i18n import SUPPORTED_LOCALES, isolate_figures, translator
from bot.storage import DocumentStore
from cards.reading import card_actions, visible_texts
from dialogs.consent_texts import consent_text
from dialogs.interpreter import named_interpreter_language
from tests.support.journey import (
    CLIENT,
    TO_CONSENT_KEYS,
    Chat,
    reach_consent,
    reach_tech_check,
)

t = translator("de")
#: the language card, as the issue names the languages
OWN_NAMES = ["Deutsch", "English", "Українська", "Русский", "العربية", "دری / فارسی", "Türkçe"]


async def test_the_language_card_names_each_language_in_its_own_script(chat: Chat) -> None:
    await chat.install()
    welcome = chat.cards()[0]
    [button] = [a for a in card_actions(welcome) if "language" in str(a.get("data"))]
    assert button["data"] == {"command": "language"}  # one button, however many languages
    assert button["title"] == "Sprache · Language · Мова · Язык · اللغة · زبان · Dil"
    await chat.send(value=button["data"])
    card = chat.last_card()
    [choices] = [item for item in card["body"] if item["type"] == "Input.ChoiceSet"]
    assert [choice["title"] for choice in choices["choices"]] == OWN_NAMES
    assert [choice["value"] for choice in choices["choices"]] == list(SUPPORTED_LOCALES)
    assert choices["value"] == "de"
    await chat.click(t("language.choose"), locale="ar")
    assert chat.said(translator("ar")("language.changed"))
    assert chat.last_card().get("rtl") is True


async def test_a_forged_or_empty_language_choice_shows_the_card_again(chat: Chat) -> None:
    await chat.install()
    for forged in ({"command": "set_language", "locale": "xx"}, {"command": "set_language"}):
        await chat.send(value=forged)
        assert chat.last_card()["body"][0]["id"] == "locale"
        assert not chat.said(t("language.changed"))


@pytest.mark.parametrize(
    ("typed", "locale"),
    [("Türkçe", "tr"), ("arabic", "ar"), ("українською", "uk"), ("فارسی", "fa"), ("русский", "ru")],
)
async def test_a_language_typed_at_any_step_switches_and_keeps_the_step(
    chat: Chat, typed: str, locale: str
) -> None:
    await reach_tech_check(chat)
    await chat.send(typed)
    chosen = translator(locale)
    assert chat.said(chosen("language.changed"))
    assert chat.said(chosen("tech.device"))


@pytest.mark.parametrize("locale", ["uk-UA", "ru-RU", "ar-SA", "fa-IR", "fa-AF", "tr-TR"])
async def test_the_teams_locale_chooses_the_language(
    settings, store: DocumentStore, locale: str
) -> None:
    chat = Chat(settings, store, locale=locale)
    await chat.install()
    chosen = translator(locale)
    assert chosen.locale != "de"
    assert chat.said(chosen("welcome.title"))
    assert chat.last_card().get("rtl") is (True if chosen.locale in ("ar", "fa") else None)


async def test_a_translated_consent_card_opens_the_german_original(
    settings, store: DocumentStore
) -> None:
    chat = Chat(settings, store, locale="uk-UA")
    uk = translator("uk")
    await chat.install()
    for key in TO_CONSENT_KEYS:
        await chat.click(uk(key))
    card = chat.last_card()
    toggles = {a["title"]: a["targetElements"] for a in card_actions(card, "Action.Toggle")}
    assert toggles[uk("consent.original")] == ["original"]
    [original] = [item for item in card["body"] if item.get("id") == "original"]
    assert original["isVisible"] is False
    assert original["rtl"] is False
    assert [block["text"] for block in original["items"]] == consent_text(t, settings)
    assert "Deutscher Originaltext" in uk("consent.original")


async def test_the_german_consent_card_has_no_original_to_open(chat: Chat) -> None:
    await reach_consent(chat)
    card = chat.last_card()
    assert not [item for item in card["body"] if item.get("id") == "original"]
    assert [a["title"] for a in card_actions(card, "Action.Toggle")] == [t("consent.full_text")]


def test_figures_read_left_to_right_inside_arabic_and_persian() -> None:
    lri, pdi = "\u2066", "\u2069"
    assert isolate_figures("نحو 1100 MB.") == f"نحو {lri}1100\u00a0MB{pdi}."
    assert isolate_figures("1280 × 720") == f"{lri}1280\u00a0×\u00a0720{pdi}"
    assert isolate_figures("VB-K7RM-HX4P, 2026-12/ar") == "VB-K7RM-HX4P, 2026-12/ar"
    ar = translator("ar")
    assert lri in ar("tech.data.share", minutes=30, share="x")
    assert lri not in t("tech.data.share", minutes=30, share="x")


def test_typed_text_is_folded_as_keyboards_differ() -> None:
    assert normalise("İptal") == normalise("iptal")
    assert normalise("مشاوره‌ای") == normalise("مشاوره ای")
    assert normalise("يكي") == normalise("یکی")
    assert normalise("أريد") == normalise("اريد")
    assert normalise("всё") == normalise("все")
    assert normalise("\u20661100 MB\u2069") == "1100 mb"


def test_interpreter_languages_are_named_for_each_reader() -> None:
    assert language_name("ps", "de") == "Paschtu"
    assert language_name("fa_AF", "de") == "Dari"
    assert choice_title("ps", "ar") == "البشتو (پښتو)"
    assert choice_title("ar", "ar") == "العربية"
    assert named_interpreter_language("Ich brauche Paschtu bitte") == "ps"
    assert named_interpreter_language("пушту") == "ps"
    assert named_interpreter_language("nein danke") == ""
    assert InterpreterRequest.from_dict({"language": "xx", "written": ""}) is None
    written = InterpreterRequest.from_dict({"written": "  Kurdisch\n(Badini) " + "x" * 99})
    assert written is not None
    assert written.written.startswith("Kurdisch (Badini) x")
    assert len(written.written) == 60


async def test_a_german_chat_is_not_asked_but_can_ask_at_any_step(
    chat: Chat, store: DocumentStore
) -> None:
    await reach_consent(chat)
    await chat.click(t("consent.answer.agree"))
    assert chat.said(t("windows.question.consultation"))  # no interpreter question
    await chat.send("Dolmetscher")
    assert chat.said(t("interpreter.question"))
    await chat.send("Paschtu")
    assert chat.said(t("interpreter.noted", language="Paschtu"))
    assert chat.said(t("windows.question.consultation"))  # back at the open step
    await chat.click(t("common.next"), days="fri", parts="morning")
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.interpreter == {"language": "ps", "written": "", "status": "requested"}
    summary = visible_texts(chat.last_card()["body"])
    assert f"{t('summary.interpreter')}: Paschtu" in summary


async def test_an_interpreter_wish_can_be_taken_back(chat: Chat, store: DocumentStore) -> None:
    await reach_consent(chat)
    await chat.click(t("consent.answer.agree"))
    await chat.click(t("common.next"), days="fri", parts="morning")
    await chat.send("Dolmetscher")
    await chat.click(t("interpreter.yes"), interpreter_language="tr", interpreter_written="")
    assert chat.said(t("interpreter.noted_later", language="Türkisch"))
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.interpreter["language"] == "tr"
    await chat.send("Dolmetscher")
    await chat.click(t("interpreter.no"))
    assert chat.said(t("interpreter.declined"))
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.interpreter == {}


async def test_yes_without_a_language_in_a_german_chat_asks_which(chat: Chat) -> None:
    await reach_tech_check(chat)
    await chat.send("Dolmetscher")
    await chat.click(t("interpreter.yes"), interpreter_language="", interpreter_written="")
    assert chat.said(t("interpreter.missing_language"))
    await chat.send("ja")
    assert chat.said(t("interpreter.missing_language"))
    await chat.send("nein")
    assert chat.said(t("interpreter.declined"))
    assert chat.said(t("tech.device"))


async def test_a_language_named_at_the_interpreter_question_answers_it(chat: Chat) -> None:
    """ "Türkisch" there means the interpreter's language; the chat stays German."""
    await reach_tech_check(chat)
    await chat.send("Dolmetscher")
    await chat.send("Türkisch")
    assert not chat.said(translator("tr")("language.changed"))
    assert chat.said(t("interpreter.noted", language="Türkisch"))
    assert chat.said(t("tech.device"))


@pytest.mark.parametrize("typed", ["No thanks, I speak English", "Nein, ich spreche Englisch"])
async def test_no_with_a_language_named_is_a_no(settings, store: DocumentStore, typed: str) -> None:
    chat = Chat(settings, store, locale="en-GB")
    await chat.install()
    await chat.send("interpreter")
    await chat.send(typed)
    en = translator("en")
    assert chat.said(en("interpreter.declined"))


async def test_the_clients_own_words_win_over_the_preselected_language(
    settings, store: DocumentStore
) -> None:
    """In an Arabic chat Arabic is preselected; a client who writes "Kurdisch (Badini)" means
    that — and what they wrote is shown as text, not Markdown."""
    chat = Chat(settings, store, locale="ar-SY")
    ar = translator("ar")
    await chat.install()
    await chat.send(ar("command.interpreter.label"))
    written = "Kurdisch [Badini](https://evil.example)"
    await chat.click(ar("interpreter.yes"), interpreter_language="ar", interpreter_written=written)
    reply = next(text for text in chat.texts() if "Badini" in text)
    assert "\\[Badini\\]" in reply
    assert "](https://evil.example)" not in reply.replace("\\]", "")


async def test_the_persian_chat_asks_farsi_or_dari(settings, store: DocumentStore) -> None:
    chat = Chat(settings, store, locale="fa-IR")
    fa = translator("fa")
    await chat.install()
    await chat.send(fa("command.interpreter.label"))
    [choices] = [i for i in chat.last_card()["body"] if i.get("id") == "interpreter_language"]
    assert choices["value"] == ""  # nothing preselected: Farsi and Dari are both on the list
    await chat.send(fa("interpreter.yes"))
    assert chat.said(fa("interpreter.missing_language"))
    await chat.send("دری")
    assert chat.said(fa("interpreter.noted", language="دری"))


async def test_asking_again_for_the_same_language_changes_nothing(
    chat: Chat, store: DocumentStore
) -> None:
    await reach_consent(chat)
    await chat.click(t("consent.answer.agree"))
    await chat.click(t("common.next"), days="fri", parts="morning")
    for _ in range(2):
        await chat.send("Dolmetscher")
        await chat.send("Paschtu")
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.interpreter == {"language": "ps", "written": "", "status": "requested"}
    assert chat.notifier.events.count((handoff.handoff_id, "interpreter_requested")) == 1


async def test_the_help_card_names_and_offers_the_interpreter(chat: Chat) -> None:
    await reach_tech_check(chat)
    await chat.send("Hilfe")
    assert chat.said(f"- {t('help.command.interpreter')}")
    help_card = chat.cards()[0]  # the open question follows it
    await chat.send(value=chat.button(t("command.interpreter.label"), help_card))
    assert chat.said(t("interpreter.question"))
    await chat.click(t("interpreter.no"))
    assert chat.said(t("tech.device"))
