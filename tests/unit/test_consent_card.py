"""The consent card: a short summary, the full text one tap away, one explicit "yes" — and
every text version an event names stays readable, with the same SHA-256 (issue 10)."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.domain.consent import ConsentLog
from bot.i18n import SUPPORTED_LOCALES, translator
from bot.storage import DocumentStore
from cards.reading import card_actions, visible_texts
from dialogs.consent_texts import (
    CONSENT_VERSION,
    consent_summary,
    consent_text,
    fingerprints,
    register,
    text_fingerprint,
)
from tests.support.journey import CLIENT, Chat, reach_consent

t = translator("de")

#: the SHA-256 of text version 2026-11 as events recorded it (computed by that code, with the
#: test settings): the catalogs must keep rendering exactly that text
RECORDED_2026_11 = {
    "de": "318a9371e5ae949d1560ee0f713623e5087f737f56190a3b5535a1e33af252a6",
    "en": "1cb4b2e213cc686974a8605f572105e52f0198beb513cedb2e527c48eb11cf5a",
}


@pytest.mark.parametrize("locale", ["de", "en"])
def test_an_old_text_version_still_renders_to_the_hash_its_events_recorded(
    settings: Settings, locale: str
) -> None:
    old = consent_text(translator(locale), settings, "2026-11")
    assert text_fingerprint(old) == RECORDED_2026_11[locale]
    assert consent_text(translator(locale), settings) != old  # the new version differs


def test_the_register_holds_every_text_as_the_catalogs_have_it() -> None:
    """A consent text changed under a version already shown fails here: a new text is a new
    version (docs/translations.md)."""
    assert fingerprints() == {
        version: {locale: entry["sha256"] for locale, entry in languages.items()}
        for version, languages in register().items()
    }
    assert set(register()[CONSENT_VERSION]) == set(SUPPORTED_LOCALES)
    assert register()[CONSENT_VERSION]["de"]["status"] == "original"
    assert {entry["status"] for entry in register()[CONSENT_VERSION].values()} <= {
        "original",
        "reviewed",
        "draft",
    }


async def test_the_card_is_a_short_summary_with_the_full_text_one_tap_away(
    chat: Chat, settings: Settings
) -> None:
    await reach_consent(chat)
    card = chat.last_card()
    shown = visible_texts(card["body"])
    assert shown == [t("consent.title"), *consent_summary(t)]
    assert sum(len(text.split()) for text in shown) <= 40
    toggles = card_actions(card, "Action.ToggleVisibility")
    assert [action["title"] for action in toggles] == [t("consent.full_text")]
    [hidden] = [item for item in card["body"] if item.get("isVisible") is False]
    assert toggles[0]["targetElements"] == [hidden["id"]]
    full = [item["text"] for item in hidden["items"]]
    assert full[:-1] == consent_text(t, settings)
    assert full[-1] == t("consent.version", version=f"{CONSENT_VERSION}/de")
    assert not [item for item in card["body"] if item.get("type", "").startswith("Input.")]


async def test_agreeing_is_one_click_and_records_version_and_summary(
    chat: Chat, store: DocumentStore, settings: Settings
) -> None:
    await reach_consent(chat)
    await chat.click(t("consent.answer.agree"))
    assert chat.said(t("receipt.title.given"))
    [event] = await ConsentLog(store).events(CLIENT)
    assert event.action == "given"
    assert event.text_version == f"{CONSENT_VERSION}/de"
    assert event.text_sha256 == text_fingerprint(consent_text(t, settings))
    assert event.summary_sha256 == text_fingerprint(consent_summary(t))


async def test_an_unticked_card_from_before_needs_the_yes_button(
    chat: Chat, store: DocumentStore
) -> None:
    """A card sent before the summary version had a tick box: unticked, it is not a yes."""
    await reach_consent(chat)
    old_click = {**chat.button(t("consent.answer.agree")), "agree": "false"}
    await chat.send(value=old_click)
    assert chat.said(t("consent.retry_agree"))
    assert await ConsentLog(store).events(CLIENT) == []
