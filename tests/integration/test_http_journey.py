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
from tests.integration.conftest import RunningBot, StartBot, TeamsClient, submit_actions
from tests.support.journey import CollectingNotifier

WELCOME = "Willkommen! Hier bereiten Sie Ihr Videogespräch vor."
TOPIC = "Worum geht es in Ihrer Beratung?"
TYPE = "Wie möchten Sie beraten werden?"
DEVICE = "Mit welchem Gerät nehmen Sie teil?"
APP = "Haben Sie die App „Microsoft Teams“ auf dem Gerät?"
CAMERA = "Hat Ihr Gerät eine Kamera und ein Mikrofon?"
PLACE = "Haben Sie einen ruhigen Ort, an dem Sie ungestört sprechen können?"
CONNECTION = "Wie sind Sie mit dem Internet verbunden?"
VOLUME = "Wie viel Datenvolumen haben Sie diesen Monat noch?"
TECH_READY_WITH_ADVICE = "Ihre Technik ist bereit – mit ein paar Tipps."
CONSENT = "Ihre Einwilligung zum Videogespräch"
RECEIPT = "Danke! Ihre Einwilligung ist gespeichert."
WINDOWS = "Wann passt Ihnen ein Termin?"
SUMMARY = "Geschafft! Ihre Anfrage ist bei Ihrer Beraterin oder Ihrem Berater."
MAX_CLIENT_TURNS = 12


def message_count(client: TeamsClient) -> int:
    return sum(body.get("type") == "message" for body in client.posted)


async def test_whole_journey_over_http(
    bot: RunningBot, client: TeamsClient, notifier: CollectingNotifier
) -> None:
    await client.install()
    assert client.said(WELCOME)
    assert client.said(TOPIC)
    installed_with = message_count(client)

    await client.click("Bewerbungsunterlagen")
    assert client.said(TYPE)
    await client.click("Per Video")
    assert client.said(DEVICE)
    await client.click("Smartphone (Handy)")
    assert client.said(APP)
    await client.click("Ja, die Teams-App")
    assert client.said(CAMERA)
    await client.click("Ja, beides")
    assert client.said(PLACE)
    await client.click("Ja")
    assert client.said(CONNECTION)
    await client.click("Mobile Daten (begrenzt)")
    assert client.said(VOLUME)
    await client.say("1,5 GB")
    assert client.said(TECH_READY_WITH_ADVICE)
    assert client.said(CONSENT)

    await client.click("Einverstanden", agree="true")  # the toggle is an input of the card
    assert client.said(RECEIPT)
    assert client.said(WINDOWS)
    receipt_id = next(
        text.partition(": ")[2] for text in client.texts() if text.startswith("Belegnummer: ")
    )

    await client.click("Weiter", days="mon,wed", parts="morning")
    assert client.said(SUMMARY)
    assert client.said("Thema: Bewerbungsunterlagen")
    assert client.said(f"Beleg Einwilligung: {receipt_id}")

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
    await client.click("Bewerbungsunterlagen")
    await client.click("Per Video")
    await client.click("Smartphone (Handy)")
    await client.click("Ja, die Teams-App")
    assert client.said(CAMERA)
    camera_card = client.last_card()

    await first.close()  # stops listening and runs the cleanup: the store is closed
    second = await start_bot(settings)  # same SQLite file
    client.bot = second

    # The card the client still sees was sent by the first instance.
    await client.click("Ja, beides", card=camera_card)
    assert client.texts() == [PLACE]
    assert not client.said(WELCOME)
    assert not client.said(TOPIC)

    await client.click("Ja")
    assert client.said(CONNECTION)


async def test_welcome_in_english(client: TeamsClient) -> None:
    client.locale = "en-US"
    await client.install()
    assert client.said("Welcome! Here you prepare your video consultation.")
    assert client.said("What is your consultation about?")
    assert not client.said(WELCOME)
    titles = [action.get("title") for action in submit_actions(client.last_card())]
    assert "Application documents" in titles

    await client.click("Application documents")
    assert client.said("How would you like to be advised?")
