"""The journey that listens, over real HTTP as Teams delivers it (issue 10): a benefits
matter, an early wish for video, data advice, an empty times card, a restart, a second click
and a refused upload — the same behaviour the test-adapter tests show, through the service."""

from __future__ import annotations

from bot.app import STORE
from bot.domain.handoffs import Handoffs
from bot.i18n import translator
from tests.support.http_bot import RunningBot, TeamsClient

t = translator("de")


async def to_consent(client: TeamsClient, connection: str = "wifi") -> None:
    await client.install()
    await client.click(t("choice.topic.application"))
    await client.click(t("choice.type.video"))
    for key in ("tech.device.smartphone", "tech.app.app", "tech.camera_mic.both", "tech.place.yes"):
        await client.click(t(key))
    await client.click(t(f"tech.connection.{connection}"))


async def test_a_benefits_matter_at_the_consent_card_leads_to_an_appointment_in_person(
    bot: RunningBot, client: TeamsClient
) -> None:
    await to_consent(client)
    assert client.said(t("consent.title"))
    await client.say("Ich möchte über mein Bürgergeld sprechen")
    assert client.said(t("listen.benefits.title"))
    await client.click(t("listen.in_person"))
    await client.say("Dienstag")
    (handoff,) = await Handoffs(bot.app[STORE]).for_client(client.aad_object_id)
    assert (handoff.topic, handoff.consultation_type) == ("benefits", "in_person")


async def test_a_video_call_asked_for_first_skips_the_type_question(client: TeamsClient) -> None:
    await client.say("Ich möchte ein Videogespräch")
    assert client.said(t("listen.noted.video"))
    assert client.said(t("choice.topic"))
    await client.click(t("choice.topic.job"))
    assert client.said(t("tech.device"))
    assert not client.said(t("choice.type"))


async def test_data_advice_relates_to_what_is_left_and_offers_ways_to_save(
    client: TeamsClient,
) -> None:
    await to_consent(client, connection="mobile")
    replies = await client.say("1 GB")
    share = t("tech.data.share", minutes=60, share=t("tech.share.half"))
    assert client.said(share, replies)
    assert client.said(t("tech.advice.volume_warning"), replies)
    await client.click(t("tech.save_data.audio_only"))
    assert client.said(t("consent.title"))


async def test_an_empty_times_card_a_second_click_and_a_restart_are_asked_about(
    bot: RunningBot, client: TeamsClient
) -> None:
    await to_consent(client)
    consent = client.last_card()
    await client.click(t("consent.answer.agree"), consent)
    replies = await client.click(t("consent.answer.agree"), consent)  # a second click
    assert client.said(t("common.already_chosen", choice=t("consent.answer.agree")), replies)
    await client.click(t("common.next"), days="", parts="")
    assert client.said(t("windows.any_time"))
    assert await Handoffs(bot.app[STORE]).for_client(client.aad_object_id) == []
    await client.say("Neu starten")
    assert client.said(t("restart.confirm"))
    await client.click(t("restart.confirm.no"))
    assert client.said(t("windows.any_time"))  # the same question again
