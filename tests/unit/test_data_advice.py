"""Data advice in the chat relates the estimate to the volume the client has left, and the
"help needed" result is short and tailored (issue 10). Texts come from the catalogs."""

from __future__ import annotations

import pytest

from bot.domain.handoffs import Handoffs
from bot.i18n import staff_translator
from bot.storage import DocumentStore
from cards.counsellor_cards import tech_summary
from cards.reading import card_actions
from tests.support.journey import CLIENT, Chat, reach_tech_check

t = staff_translator("de")  # the client texts, and the counsellor card quoting them
DEVICES = {"smartphone": "tech.device.smartphone", "computer": "tech.device.computer"}


async def answer_tech_check(chat: Chat, device: str, volume: str) -> None:
    await reach_tech_check(chat)
    for key in (DEVICES[device], "tech.app.app", "tech.camera_mic.both", "tech.place.yes"):
        await chat.click(t(key))
    await chat.click(t("tech.connection.mobile"))
    await chat.send(volume)


def share(minutes: int, words: str) -> str:
    return t("tech.data.share", minutes=minutes, share=t(f"tech.share.{words}"))


@pytest.mark.parametrize(
    ("device", "volume", "share30", "share60", "warning"),
    [
        ("smartphone", "0,5 GB", "half", "almost_all", True),
        ("smartphone", "1 GB", "fifth", "half", True),
        ("smartphone", "2 GB", "tenth", "fifth", False),
        ("smartphone", "5 GB", "little", "tenth", False),
        ("computer", "1 GB", "half", "more", True),
        ("computer", "2 GB", "quarter", "half", True),
        ("computer", "5 GB", "tenth", "fifth", False),
    ],
)
async def test_the_estimate_is_said_as_a_share_of_the_data_left(
    chat: Chat, device: str, volume: str, share30: str, share60: str, warning: bool
) -> None:
    await answer_tech_check(chat, device, volume)
    assert chat.said(share(30, share30))
    assert chat.said(share(60, share60))
    rate, mb30, mb60 = ("computer", 550, 1100) if device == "computer" else ("mobile", 225, 450)
    assert chat.said(t(f"tech.estimate.{rate}", mb30=mb30, mb60=mb60))
    assert chat.said(t("tech.estimate.more"))
    buttons = [action.get("title") for card in chat.cards() for action in card_actions(card)]
    save_data = [t(f"tech.save_data.{choice}") for choice in ("wifi", "audio_only", "phone")]
    if warning:
        assert chat.said(t("tech.advice.volume_warning"))
        assert not chat.said(t("tech.advice.volume_ok"))
        for label in save_data:  # offered right in the result card
            chat.button(label)
    else:
        assert chat.said(t("tech.advice.volume_ok"))
        assert chat.said(t("consent.title"))  # the journey goes straight on
        assert not set(save_data) & set(buttons)


async def test_a_laptop_with_half_a_gigabyte_left_needs_help(chat: Chat) -> None:
    await answer_tech_check(chat, "computer", "0,5 GB")
    assert chat.said(t("tech.result.help_needed"))
    assert chat.said(t("tech.advice.volume_too_low"))
    assert chat.said(share(30, "more"))


async def test_saving_data_is_noted_for_the_counsellor_or_switches_to_phone(
    chat: Chat, store: DocumentStore
) -> None:
    await answer_tech_check(chat, "smartphone", "1 GB")
    await chat.click(t("tech.save_data.wifi"))
    assert chat.said(t("consent.title"))
    await chat.click(t("consent.answer.agree"))
    await chat.click(t("common.next"), days="mon", parts="")
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.tech["data_plan"] == "wifi"
    assert handoff.consultation_type == "video"
    told = tech_summary(t, handoff.tech)  # what the counsellor's card says about it
    assert told.endswith(t("counsellor.data_plan.wifi"))


async def test_a_phone_call_instead_skips_consent(chat: Chat, store: DocumentStore) -> None:
    await answer_tech_check(chat, "computer", "2 GB")
    await chat.send("lieber Telefon")
    assert chat.said(t("phone.question.consultation"))


async def test_help_needed_without_a_camera_is_short_and_leads_with_the_ways_forward(
    chat: Chat,
) -> None:
    await reach_tech_check(chat)
    for key in ("tech.device.tablet", "tech.app.app", "tech.camera_mic.none", "tech.place.no"):
        await chat.click(t(key))
    await chat.click(t("tech.connection.mobile"))
    await chat.send("1 GB")
    [card] = chat.cards()
    texts = chat.texts()
    assert texts[0] == t("tech.result.help_needed")
    assert texts[1] == t("tech.help")  # the ways forward come first
    assert texts[2:] == [t("tech.advice.camera_mic_none")]  # only what applies: no data figures
    titles = [action.get("title") for action in card_actions(card)]
    assert titles[:3] == [t(f"tech.help.{choice}") for choice in ("callback", "phone", "later")]
    words = sum(len(text.split()) for text in texts)
    assert words <= 30, texts
