"""The client journey in Microsoft's Agents Playground, clicked through in headless Chromium.

Run with ``UPDATE_SCREENSHOT=1`` to refresh ``docs/screenshot.png`` (the consent card).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.bot_process import BotService, documents
from tests.support.playground_chat import (
    PlaygroundChat,
    answer_tech_check_all_good,
    walk_to_tech_check,
)

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"
TOGGLE = "Ich habe den Text gelesen und bin einverstanden."


def test_whole_journey_by_clicking_the_cards(
    playground_chat: PlaygroundChat, bot_service: BotService
) -> None:
    chat = playground_chat
    walk_to_tech_check(chat)
    answer_tech_check_all_good(chat)
    chat.card("Ihre Technik ist bereit.")

    consent = chat.card("Ihre Einwilligung zum Videogespräch")
    for button in (
        "Einverstanden",
        "Unterschriebenes Formular als Foto senden",
        "Nein, lieber Telefon oder vor Ort",
        "Hilfe",
    ):
        expect(consent.get_by_role("button", name=button, exact=True)).to_be_visible()
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        consent.scroll_into_view_if_needed()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        chat.page.screenshot(path=SCREENSHOT)

    # "Einverstanden" without the tick: a kind re-prompt on a fresh consent card.
    consent.get_by_role("button", name="Einverstanden", exact=True).click()
    consent = chat.card("Bitte setzen Sie zuerst den Haken")
    consent.get_by_role("checkbox", name=TOGGLE).check()
    consent.get_by_role("button", name="Einverstanden", exact=True).click()

    receipt = chat.card("Danke! Ihre Einwilligung ist gespeichert.")
    receipt_id = chat.receipt_number(receipt)

    times = chat.card("Wann passt Ihnen ein Termin?")
    for choice in ("Montag", "Donnerstag", "vormittags (8–12 Uhr)"):
        times.get_by_role("checkbox", name=choice).check()
    times.get_by_role("button", name="Weiter", exact=True).click()

    summary = chat.card("Geschafft! Ihre Anfrage ist bei Ihrer Beraterin oder Ihrem Berater.")
    assert receipt_id in summary.inner_text()

    handoffs = documents(bot_service.database, "handoff")
    assert len(handoffs) == 1, handoffs
    handoff = handoffs[0]
    assert handoff["status"] == "requested"
    assert handoff["consultation_type"] == "video"
    assert handoff["topic"] == "application"
    assert handoff["consent_status"] == "given"
    assert handoff["receipt_id"] == receipt_id
    assert handoff["windows"] == ["mon-morning", "thu-morning"]

    events = documents(bot_service.database, "consent_event")
    assert [event["action"] for event in events] == ["given"], events
    assert events[0]["receipt_id"] == receipt_id


def test_typed_help_and_language_switch_at_the_tech_check(playground_chat: PlaygroundChat) -> None:
    chat = playground_chat
    walk_to_tech_check(chat)
    device_question = chat.cards.filter(has_text="Mit welchem Gerät nehmen Sie teil?")

    chat.type("Hilfe")
    help_card = chat.card_titled("Hilfe")
    expect(help_card).to_contain_text("Das können Sie jederzeit schreiben")
    # … and the same question again, below the help card.
    chat.expect_last_card("Mit welchem Gerät nehmen Sie teil?")
    assert device_question.count() == 2

    chat.type("English")
    chat.bot_says("Fine, we will continue in English.")
    chat.expect_last_card("Which device will you use?")
    chat.answer("Which device will you use?", "Laptop or PC")
    chat.expect_last_card("Microsoft Teams")
