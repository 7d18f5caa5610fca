"""The client journey in Microsoft's Agents Playground, clicked through in headless Chromium.

Run with ``UPDATE_SCREENSHOT=1`` to refresh ``docs/screenshot.png`` and
``docs/consent-card-phone.png`` (the consent card, on a desktop and at phone width).
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

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOT = DOCS / "screenshot.png"
PHONE_SCREENSHOT = DOCS / "consent-card-phone.png"
#: the width Teams on a 390 px phone gives a card (16 px margins); the Playground's own page is
#: not responsive, so the card is narrowed to it — its content reflows as it would on a phone
PHONE_CARD_WIDTH = 358
AGREE = "Ja, ich bin einverstanden"
FULL_TEXT = "Keine Aufnahme: Wir nehmen das Gespräch nicht auf."


def test_whole_journey_by_clicking_the_cards(
    playground_chat: PlaygroundChat, bot_service: BotService
) -> None:
    chat = playground_chat
    walk_to_tech_check(chat)
    answer_tech_check_all_good(chat)
    chat.card("Ihre Technik ist bereit.")

    consent = chat.card("Ihr Ja zum Video-Gespräch (Einwilligung)")
    for button in (
        AGREE,
        "Unterschriebenes Formular senden",
        "Nein, lieber Telefon oder vor Ort",
        "Hilfe",
    ):
        expect(consent.get_by_role("button", name=button, exact=True)).to_be_visible()
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        consent.scroll_into_view_if_needed()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        chat.page.screenshot(path=SCREENSHOT)

    # The full text is one tap away; agreeing is one click.
    expect(consent.get_by_text(FULL_TEXT)).to_be_hidden()
    consent.get_by_role("button", name="Ganzen Text lesen", exact=True).click()
    expect(consent.get_by_text(FULL_TEXT)).to_be_visible()
    consent.get_by_role("button", name=AGREE, exact=True).click()

    receipt = chat.card("Danke! Wir haben Ihre Einwilligung gespeichert.")
    receipt_id = chat.receipt_number(receipt)

    times = chat.card("Wann passt Ihnen ein Termin?")
    for choice in ("Montag", "Donnerstag", "vormittags (8–12 Uhr)"):
        times.get_by_role("checkbox", name=choice).check()
    times.get_by_role("button", name="Weiter", exact=True).click()

    summary = chat.card(
        "Geschafft! Wir haben Ihre Anfrage an Ihre Beraterin oder Ihren Berater geschickt."
    )
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


def test_the_consent_card_at_phone_width_is_agreed_with_one_click(
    playground_chat: PlaygroundChat, bot_service: BotService
) -> None:
    chat = playground_chat
    walk_to_tech_check(chat)
    answer_tech_check_all_good(chat)
    consent = chat.card("Ihr Ja zum Video-Gespräch (Einwilligung)")
    consent.evaluate(
        f"card => {{ card.style.width = card.style.maxWidth = '{PHONE_CARD_WIDTH}px'; }}"
    )
    agree = consent.get_by_role("button", name=AGREE, exact=True)
    expect(agree).to_be_visible()
    box = consent.bounding_box()
    assert box is not None
    assert box["width"] <= PHONE_CARD_WIDTH
    overflowing = consent.evaluate(
        "card => [...card.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1)"
        ".map(e => e.textContent)"
    )
    assert overflowing == []  # nothing is cut off or scrolls sideways
    expect(consent.get_by_text(FULL_TEXT)).to_be_hidden()  # the summary, not the full text
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        consent.scroll_into_view_if_needed()
        consent.screenshot(path=PHONE_SCREENSHOT)
    agree.click()
    chat.card("Danke! Wir haben Ihre Einwilligung gespeichert.")
    events = documents(bot_service.database, "consent_event")
    assert [event["action"] for event in events] == ["given"], events
    assert events[0]["text_version"] == "2026-12/de"
    assert events[0]["summary_sha256"]


def test_typed_help_and_language_switch_at_the_tech_check(playground_chat: PlaygroundChat) -> None:
    chat = playground_chat
    walk_to_tech_check(chat)
    device_question = chat.cards.filter(has_text="Welches Gerät nutzen Sie für das Video-Gespräch?")

    chat.type("Hilfe")
    help_card = chat.card_titled("Hilfe")
    expect(help_card).to_contain_text("Das können Sie jederzeit schreiben")
    # … and the same question again, below the help card.
    chat.expect_last_card("Welches Gerät nutzen Sie für das Video-Gespräch?")
    assert device_question.count() == 2

    chat.type("English")
    chat.bot_says("All right, we will now write in English.")
    chat.expect_last_card("Which device will you use for the video call?")
    chat.answer("Which device will you use for the video call?", "Laptop or computer")
    chat.expect_last_card("Microsoft Teams")
