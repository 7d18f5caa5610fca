"""The client journey over real HTTP, as Teams delivers it: clicks, typed answers, a restart
of the service in the middle, and another language."""

from __future__ import annotations

import aiohttp

from bot.app import STORE
from bot.config import Settings
from bot.devtools.connector_standin import LocalConnector
from bot.domain.consent import ConsentLog
from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoffs, HandoffStatus
from bot.i18n import translator
from tests.support.http_bot import RunningBot, StartBot, TeamsClient, submit_actions
from tests.support.journey import CollectingNotifier

t = translator("de")  # the expected texts are the catalog's
MAX_CLIENT_TURNS = 12


def message_count(client: TeamsClient) -> int:
    return sum(body.get("type") == "message" for body in client.posted)


async def test_whole_journey_over_http(
    bot: RunningBot, client: TeamsClient, notifier: CollectingNotifier
) -> None:
    await client.install()
    assert client.said(t("welcome.title"))
    assert client.said(t("choice.topic"))
    installed_with = message_count(client)

    await client.click("Bewerbung (Lebenslauf, Anschreiben)")
    assert client.said(t("choice.type"))
    await client.click("Per Video")
    assert client.said(t("tech.device"))
    await client.click("Smartphone (Handy)")
    assert client.said(t("tech.app"))
    await client.click("Ja, die Teams-App")
    assert client.said(t("tech.camera_mic"))
    await client.click("Ja, beides")
    assert client.said(t("tech.place"))
    await client.click("Ja")
    assert client.said(t("tech.connection"))
    await client.click("Mobile Daten (begrenzt)")
    assert client.said(t("tech.volume"))
    await client.say("1,5 GB")
    assert client.said(t("tech.result.ready_with_advice"))
    assert client.said(t("consent.title"))

    await client.click("Ja, ich bin einverstanden")  # one click: no tick box
    assert client.said(t("receipt.title.given"))
    assert client.said(t("windows.question.consultation"))
    receipt_id = next(
        text.partition(": ")[2] for text in client.texts() if text.startswith("Belegnummer: ")
    )

    await client.click("Weiter", days="mon,wed", parts="morning")
    assert client.said(t("summary.title.consultation"))
    assert client.said("Thema: Bewerbung (Lebenslauf, Anschreiben)")
    assert client.said(f"Belegnummer: {receipt_id}")

    handoffs = await Handoffs(bot.app[STORE]).for_client(client.aad_object_id)
    assert len(handoffs) == 1
    handoff = handoffs[0]
    assert handoff.status == HandoffStatus.REQUESTED
    assert handoff.consent_status == "given"
    assert handoff.receipt_id == receipt_id
    assert handoff.consultation_type == "video"
    assert handoff.topic == "application"
    assert handoff.windows == ["mon-morning", "wed-morning"]
    assert handoff.client_name == client.name
    assert handoff.tech["outcome"] == "ready_with_advice"
    assert notifier.events == [(handoff.handoff_id, HandoffEvent.REQUESTED)]
    consents = await ConsentLog(bot.app[STORE]).events(client.aad_object_id)
    assert [(event.action, event.receipt_id) for event in consents] == [("given", receipt_id)]

    client_turns = message_count(client) - installed_with
    assert client_turns == 10
    assert client_turns <= MAX_CLIENT_TURNS
    assert all(reply.get("type") == "message" for reply in client.all_replies())
    assert all(
        reply["conversation"]["id"] == client.conversation_id for reply in client.all_replies()
    )


async def test_restart_resumes_at_the_same_step(
    start_bot: StartBot,
    settings: Settings,
    http: aiohttp.ClientSession,
    connector: LocalConnector,
) -> None:
    first = await start_bot(settings)
    client = TeamsClient(http, first, connector)
    await client.install()
    await client.click("Bewerbung (Lebenslauf, Anschreiben)")
    await client.click("Per Video")
    await client.click("Smartphone (Handy)")
    await client.click("Ja, die Teams-App")
    assert client.said(t("tech.camera_mic"))
    camera_card = client.last_card()

    await first.close()  # stops listening and runs the cleanup: the store is closed
    second = await start_bot(settings)  # same SQLite file
    client.bot = second

    # The card the client still sees was sent by the first instance.
    await client.click("Ja, beides", card=camera_card)
    assert client.texts() == [t("tech.place")]
    assert not client.said(t("welcome.title"))
    assert not client.said(t("choice.topic"))

    await client.click("Ja")
    assert client.said(t("tech.connection"))


async def test_welcome_in_english(client: TeamsClient) -> None:
    client.locale = "en-US"
    await client.install()
    assert client.said("Welcome to the job centre chat!")
    assert client.said("What would you like to talk about?")
    assert not client.said(t("welcome.title"))
    titles = [action.get("title") for action in submit_actions(client.last_card())]
    assert "Job applications (CV, cover letter)" in titles

    await client.click("Job applications (CV, cover letter)")
    assert client.said("How would you like to talk to us?")
