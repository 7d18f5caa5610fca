"""The command "Meine Daten" (Art. 15 GDPR) in the chat: what is stored, in plain words, with
the day each part is deleted and a link to the same as a file (issue 12, item 1)."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.domain.consent import ConsentLog
from bot.domain.handoffs import Handoffs
from bot.domain.my_data import MyData
from bot.i18n import SUPPORTED_LOCALES, is_rtl, translator
from bot.storage import DocumentStore
from cards.reading import card_actions, card_texts
from tests.support.journey import CLIENT, Chat, reach_handoff, reach_tech_check


def my_data_card(chat: Chat) -> dict:
    card = next(
        (card for card in chat.cards() if card_texts(card)[:1] == ["Ihre Daten bei uns"]), None
    )
    assert card is not None, chat.texts()
    return card


def download_url(card: dict) -> str | None:
    return next(
        (
            action["url"]
            for action in card_actions(card)
            if action.get("title") == "Als Datei herunterladen"
        ),
        None,
    )


async def test_my_data_shows_what_is_stored_and_links_the_file(
    chat: Chat, store: DocumentStore
) -> None:
    await reach_handoff(chat)
    [handoff] = await Handoffs(store).for_client(CLIENT)
    await chat.send("Meine Daten")
    card = my_data_card(chat)
    texts = card_texts(card)
    assert "Das haben wir über Sie gespeichert." in texts
    assert "Sprache: Deutsch" in texts
    assert "Thema: Bewerbung (Lebenslauf, Anschreiben)" in texts
    assert "Gespräch: Per Video" in texts
    assert "Technik-Check: Alles ist bereit." in texts
    assert "Zeiten: Montag: vormittags (8–12 Uhr)" in texts
    consent = next(text for text in texts if "Sie haben zugestimmt" in text)
    assert consent.endswith(f"Belegnummer: {handoff.receipt_id}")
    assert any(text.endswith("Per Video. Noch kein Termin.") for text in texts)
    assert sum(text.startswith("Gespeichert bis ") for text in texts) == 3
    assert "Die Datei enthält alles noch einmal. Der Link gilt 10 Minuten." in " ".join(texts)
    url = download_url(card)
    assert url is not None
    assert url.startswith("http://127.0.0.1:3978/my-data/")
    assert CLIENT not in url
    assert any(action.get("data") == {"command": "delete"} for action in card_actions(card))


async def test_the_open_step_asks_again_below_the_card(chat: Chat) -> None:
    await reach_tech_check(chat)
    await chat.send("Meine Daten")
    my_data_card(chat)
    assert chat.texts()[-1] == "Welches Gerät nutzen Sie für das Video-Gespräch?"
    await chat.click("Laptop oder Computer")
    assert chat.said("Haben Sie die App „Microsoft Teams“ auf dem Gerät?")


async def test_my_data_is_typed_in_other_words_and_changes_nothing(
    chat: Chat, store: DocumentStore, settings: Settings
) -> None:
    await reach_handoff(chat)
    before = await MyData(store, settings).read(CLIENT)
    for typed in ("meine daten", "Auskunft", "was haben sie über mich gespeichert"):
        await chat.send(typed)
        my_data_card(chat)
    after = await MyData(store, settings).read(CLIENT)
    assert after.consents == before.consents
    assert after.handoffs == before.handoffs


async def test_with_nothing_stored_there_is_no_file(chat: Chat) -> None:
    await chat.send("Meine Daten")
    card = my_data_card(chat)
    assert "Wir haben nichts über Sie gespeichert." in card_texts(card)
    assert download_url(card) is None


async def test_after_deleting_only_the_consent_proof_is_left(
    chat: Chat, store: DocumentStore
) -> None:
    await reach_handoff(chat)
    await chat.send("Meine Daten löschen")
    await chat.click("Ja, löschen")
    await chat.send("Meine Daten")
    texts = card_texts(my_data_card(chat))
    assert [text for text in texts if text in ("Ihre Einwilligung", "Ihre Angaben im Chat")] == [
        "Ihre Einwilligung"
    ]
    assert "Ihre Anfragen und Termine" not in texts
    assert len(await ConsentLog(store).events(CLIENT)) == 1


async def test_english_and_links_off_without_a_public_address(
    settings: Settings, store: DocumentStore
) -> None:
    """With credentials but no BOT_PUBLIC_URL, browsers cannot reach the service."""
    chat = Chat(settings, store, locale="en-GB")
    await chat.install()
    await chat.send("my data")
    texts = card_texts(next(c for c in chat.cards() if card_texts(c)[0] == "Your data with us"))
    assert "This is what we have stored about you." in texts
    assert "Language: English" in texts
    production = Settings(
        _env_file=None, app_id="7e0c7a4e-0000-4000-8000-000000000001", app_password="pw"
    )
    assert MyData(store, production).link(CLIENT, "en") is None


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_my_data_in_every_language(
    settings: Settings, store: DocumentStore, locale: str
) -> None:
    t = translator(locale)
    chat = Chat(settings, store, locale=locale)
    await chat.install()
    await chat.send(t("command.my_data.label"))
    [card] = [card for card in chat.cards() if card_texts(card)[:1] == [t("my_data.title")]]
    assert card.get("rtl", False) == is_rtl(locale)
    assert t("my_data.profile.language", language=t("language.name")) in card_texts(card)
    assert t("command.delete.label") in [action.get("title") for action in card_actions(card)]
