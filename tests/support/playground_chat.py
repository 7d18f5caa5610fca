"""A client in Microsoft's Agents Playground, driven through Playwright: what they do and see in
the personal chat with the bot, and the usual walk to the tech check."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


class PlaygroundChat:
    """What a client does and sees in the Playground's personal chat with the bot."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.cards = page.locator(".ac-adaptiveCard")

    def card(self, text: str) -> Locator:
        """The newest card containing ``text``, once it is visible."""
        card = self.cards.filter(has_text=text).last
        expect(card).to_be_visible()
        return card

    def card_titled(self, title: str) -> Locator:
        """The newest card whose heading is exactly ``title``, once it is visible."""
        heading = self.page.get_by_role("heading", name=title, exact=True)
        card = self.cards.filter(has=heading).last
        expect(card).to_be_visible()
        return card

    def expect_last_card(self, text: str) -> Locator:
        """Wait until the newest card of the whole chat contains ``text``."""
        expect(self.cards.last).to_contain_text(text)
        return self.cards.last

    def answer(self, question: str, button: str) -> None:
        """Click ``button`` on the newest card asking ``question``."""
        self.card(question).get_by_role("button", name=button, exact=True).click()

    def bot_says(self, text: str) -> Locator:
        """Wait for a chat bubble (not the sidebar or the log panel) with ``text``."""
        bubble = self.page.get_by_role("paragraph").filter(has_text=text).last
        expect(bubble).to_be_visible()
        return bubble

    def type(self, text: str) -> None:
        """Type ``text`` into the message box and send it."""
        box = self.page.locator('div[contenteditable="true"][data-lexical-editor="true"]')
        box.click()
        box.fill(text)
        expect(box).to_have_text(text)
        self.page.get_by_role("button", name="Send Message").click()
        expect(box).to_have_text("")

    def hide_log_panel(self) -> None:
        """More room for the chat (the log panel is open by default)."""
        self.page.get_by_role("button", name="Hide log panel").click()
        expect(self.page.get_by_role("button", name="Hide log panel")).to_be_hidden()

    def switch_to_german(self) -> None:
        """The Playground always sends locale en-US, so the bot starts in English; a client
        who prefers German opens the language card from the welcome card and picks Deutsch."""
        self.card("Welcome").get_by_role("button", name=re.compile("^Sprache · Language")).click()
        languages = self.card("Which language would you like to use?")
        languages.get_by_role("radio", name="Deutsch", exact=True).check()
        languages.get_by_role("button", name="Choose language", exact=True).click()
        self.bot_says("Gut, wir schreiben jetzt auf Deutsch.")

    def receipt_number(self, card: Locator) -> str:
        match = re.search(r"VB-[A-Z0-9]{4}-[A-Z0-9]{4}", card.inner_text())
        assert match, f"no receipt number on the card: {card.inner_text()}"
        return match.group(0)


def walk_to_tech_check(chat: PlaygroundChat) -> None:
    chat.switch_to_german()
    chat.answer("Worüber möchten Sie sprechen?", "Bewerbung (Lebenslauf, Anschreiben)")
    chat.answer("Wie möchten Sie mit uns sprechen?", "Per Video")
    chat.card("Welches Gerät nutzen Sie für das Video-Gespräch?")


def answer_tech_check_all_good(chat: PlaygroundChat) -> None:
    """Laptop with the Teams app, camera and microphone, a quiet place, Wi-Fi."""
    chat.answer("Welches Gerät nutzen Sie für das Video-Gespräch?", "Laptop oder Computer")
    chat.answer(
        "Haben Sie die App „Microsoft Teams“ auf dem Gerät?",
        "Ja, die Teams-App",
    )
    chat.answer("Hat Ihr Gerät eine Kamera und ein Mikrofon?", "Ja, beides")
    chat.answer("Haben Sie einen ruhigen Ort", "Ja")
    chat.answer("Wie kommen Sie ins Internet?", "WLAN oder Flatrate (unbegrenzt)")
