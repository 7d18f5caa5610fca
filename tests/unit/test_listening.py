"""A journey that listens: what the client says or clicks out of turn is understood, and
nothing is assumed that the client did not say (issue 10). Texts come from the catalogs."""

from __future__ import annotations

from bot.domain.consent import ConsentLog
from bot.domain.handoffs import Handoffs
from bot.domain.time_windows import windows
from bot.i18n import translator
from bot.storage import DocumentStore
from tests.support.journey import CLIENT, Chat, reach_consent

t = translator("de")
WITHOUT_CAMERA = [
    ("device", "tablet"),
    ("app", "app"),
    ("camera_mic", "none"),
    ("place", "yes"),
    ("connection", "wifi"),
]


async def test_restart_asks_first_and_no_keeps_the_step(chat: Chat) -> None:
    await reach_consent(chat)
    await chat.send("Neu starten")
    assert chat.said(t("restart.confirm"))
    await chat.click(t("restart.confirm.no"))
    assert chat.said(t("restart.cancelled"))
    assert chat.said(t("consent.title"))  # the same step again

    await chat.send(value={"command": "restart"})  # the button on a card
    await chat.send("ja")
    assert chat.said(t("restart.done"))
    assert chat.said(t("choice.topic"))


async def test_restart_after_the_journey_ended_without_a_request_needs_no_confirmation(
    chat: Chat,
) -> None:
    await chat.install()
    await chat.click(t("choice.topic.application"))
    await chat.click(t("choice.type.video"))
    for question, answer in WITHOUT_CAMERA:
        await chat.click(t(f"tech.{question}.{answer}"))
    await chat.click(t("tech.help.later"))
    await chat.send("Neu starten")
    assert not chat.said(t("restart.confirm"))
    assert chat.said(t("choice.topic"))


async def test_the_summary_card_offers_no_restart(chat: Chat) -> None:
    await reach_consent(chat)
    await chat.click(t("consent.answer.agree"), agree="true")
    await chat.click(t("common.next"), days="mon", parts="morning")
    assert chat.said(t("summary.title.consultation"))
    titles = [action["title"] for action in chat.last_card().get("actions", [])]
    assert t("command.restart.label") not in titles
    assert t("command.help.label") in titles

    await chat.send("Neu starten")  # typed, after the request was made: asked first
    assert chat.said(t("restart.confirm"))


async def test_an_empty_times_card_asks_whether_any_time_suits(
    chat: Chat, store: DocumentStore
) -> None:
    await reach_consent(chat)
    await chat.click(t("consent.answer.agree"), agree="true")
    await chat.click(t("common.next"), days="", parts="")
    assert chat.said(t("windows.any_time"))
    assert await Handoffs(store).for_client(CLIENT) == []  # nothing assumed

    await chat.click(t("windows.any_time.no"))
    assert chat.said(t("windows.question.consultation"))  # the times card again
    await chat.click(t("common.next"), days="", parts="")
    await chat.click(t("windows.any_time.yes"))
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert sorted(handoff.windows) == sorted(windows([], []))
    assert len(await ConsentLog(store).events(CLIENT)) == 1


async def test_times_ticked_on_the_card_are_taken_without_a_question(
    chat: Chat, store: DocumentStore
) -> None:
    await reach_consent(chat)
    await chat.click(t("consent.answer.agree"), agree="true")
    await chat.click(t("common.next"), days="tue", parts="")
    assert not chat.said(t("windows.any_time"))
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.windows == ["tue-morning", "tue-afternoon"]


async def test_weiter_brings_back_the_open_step_or_says_where_the_journey_stands(
    chat: Chat,
) -> None:
    await reach_consent(chat)
    await chat.send(value={"command": "resume"})  # the button under the measured result
    assert chat.said(t("consent.title"))
    await chat.send("weiter")
    assert chat.said(t("consent.title"))
    await chat.click(t("consent.answer.agree"), agree="true")
    await chat.click(t("common.next"), days="mon", parts="")
    await chat.send(value={"command": "resume"})
    assert chat.said(t("journey.status"))
