"""A journey that listens: what the client says or clicks out of turn is understood, and
nothing is assumed that the client did not say (issue 10). Texts come from the catalogs."""

from __future__ import annotations

import pytest

from bot.domain.consent import ConsentLog
from bot.domain.handoffs import Handoff, Handoffs
from bot.domain.time_windows import windows
from bot.i18n import translator
from bot.storage import DocumentStore
from tests.support.journey import CLIENT, Chat, reach_consent, reach_tech_check

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
    await chat.click(t("consent.answer.agree"))
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
    await chat.click(t("consent.answer.agree"))
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
    await chat.click(t("consent.answer.agree"))
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
    await chat.click(t("consent.answer.agree"))
    await chat.click(t("common.next"), days="mon", parts="")
    await chat.send(value={"command": "resume"})
    assert chat.said(t("journey.status"))


BENEFITS = "Ich möchte über mein Bürgergeld sprechen"


async def at_welcome(chat: Chat) -> None:
    """Nothing yet: the very first message."""


async def at_type_question(chat: Chat) -> None:
    await chat.install()
    await chat.click(t("choice.topic.application"))


async def at_tech_check(chat: Chat) -> None:
    await reach_tech_check(chat)


async def at_consent(chat: Chat) -> None:
    await reach_consent(chat)


async def at_times(chat: Chat) -> None:
    await reach_consent(chat)
    await chat.click(t("consent.answer.agree"))


STEPS = [at_welcome, at_type_question, at_tech_check, at_consent, at_times]


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.__name__)
async def test_a_benefits_matter_at_any_step_is_offered_an_appointment_in_person(
    chat: Chat, store: DocumentStore, step
) -> None:
    await step(chat)
    await chat.send(BENEFITS)
    assert chat.said(t("listen.benefits.title"))
    assert not chat.said(t("common.not_understood"))
    await chat.click(t("listen.in_person"))  # one click
    assert chat.said(t("windows.question.consultation"))
    await chat.send("egal")
    assert chat.said(t("summary.next.consultation.in_person"))
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert (handoff.topic, handoff.consultation_type) == ("benefits", "in_person")
    assert handoff.consent_status == "none" or step in (at_times,)


@pytest.mark.parametrize("step", STEPS[1:], ids=lambda step: step.__name__)
async def test_after_a_benefits_matter_the_client_can_carry_on_preparing_the_video_call(
    chat: Chat, store: DocumentStore, step
) -> None:
    await step(chat)
    question = chat.texts()[-1]
    await chat.send("Und was ist mit meiner Miete?")
    await chat.click(t("listen.go_on"))
    assert chat.texts()[-1] == question  # the same step again
    assert await Handoffs(store).for_client(CLIENT) == []


async def test_the_in_person_button_acts_once(chat: Chat, store: DocumentStore) -> None:
    await reach_consent(chat)
    await chat.send("Sanktion")
    offer = chat.last_card()
    await chat.click(t("listen.in_person"))
    await chat.send(value=chat.button(t("listen.in_person"), offer))
    assert chat.said(t("common.already_chosen", choice=t("listen.in_person")))
    await chat.send("Montag")
    assert len(await Handoffs(store).for_client(CLIENT)) == 1


async def test_no_video_handoff_is_ever_made_for_benefits(store: DocumentStore) -> None:
    handoffs = Handoffs(store)
    wanted = Handoff("h-1", CLIENT, "", "consultation", "video", "benefits", windows([], []))
    stored, _ = await handoffs.create(wanted)
    assert stored.consultation_type == "in_person"


async def test_i_would_like_a_video_call_as_the_first_message_skips_the_type_question(
    chat: Chat, store: DocumentStore
) -> None:
    await chat.send("Ich möchte ein Videogespräch")
    assert chat.said(t("listen.noted.video"))
    assert not chat.said(t("common.not_understood"))
    assert chat.said(t("choice.topic"))
    await chat.click(t("choice.topic.job"))
    assert not chat.said(t("choice.type"))
    assert chat.said(t("tech.device"))


async def test_a_wish_at_the_topic_question_is_noted_in_english_too(
    settings, store: DocumentStore
) -> None:
    chat = Chat(settings, store, locale="en-GB")
    en = translator("en")
    await chat.install()
    await chat.send("I'd like a video call")
    assert chat.said(en("listen.noted.video"))
    assert chat.said(en("choice.topic"))
    await chat.click(en("choice.topic.training"))
    assert chat.said(en("tech.device"))


@pytest.mark.parametrize(
    ("step", "text", "next_question"),
    [
        (at_tech_check, "lieber Telefon", "phone.question.consultation"),
        (at_consent, "lieber Telefon", "phone.question.consultation"),
        (at_consent, "Ich komme lieber vor Ort", "windows.question.consultation"),
        (at_tech_check, "vor Ort bitte", "windows.question.consultation"),
    ],
)
async def test_phone_or_in_person_switches_at_any_step(
    chat: Chat, store: DocumentStore, step, text: str, next_question: str
) -> None:
    await step(chat)
    await chat.send(text)
    assert chat.said(t(next_question))
    assert await ConsentLog(store).events(CLIENT) == []


async def test_a_wish_for_phone_before_the_topic_skips_video_preparation(
    chat: Chat, store: DocumentStore
) -> None:
    await chat.install()
    await chat.send("Können wir lieber telefonieren?")
    assert chat.said(t("listen.noted.phone"))
    await chat.click(t("choice.topic.training"))
    assert chat.said(t("phone.question.consultation"))
    assert not chat.said(t("tech.device"))


async def test_a_negated_wish_is_not_taken(chat: Chat) -> None:
    await chat.install()
    await chat.send("bitte kein Video")
    assert not chat.said(t("listen.noted.video"))
    assert chat.said(t("common.not_understood"))
