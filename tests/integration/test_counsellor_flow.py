"""Client and counsellor together over HTTP, as Teams delivers it (one loopback connector):
invitation → the client links with the code → journey → the counsellor's card arrives
proactively → the counsellor schedules with Action.Execute → the client gets the join card →
a reminder fires → withdrawal cancels everything."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

import bot.app as app_module
from bot.app import SERVICE, STORE
from bot.config import Settings
from bot.devtools.connector_standin import LocalConnector
from bot.domain.consent import ConsentLog
from bot.domain.consent_forms import CONSENT_FORM, FormFile
from bot.domain.counsellors import CounsellorDirectory
from bot.domain.handoffs import Handoffs, HandoffStatus
from bot.domain.local_time import BERLIN, format_clock
from bot.domain.reminders import Reminders, ReminderScheduler
from bot.integrations.graph import GraphClient
from tests.support.files import PNG, file_server
from tests.support.graph_standin import GraphStandIn
from tests.support.http_bot import TENANT_ID, RunningBot, StartBot, TeamsClient
from tests.support.http_journey import walk_to_handoff
from tests.support.journey import settings_for_tests

COUNSELLOR = "c0ffee00-0000-4000-8000-00000000c001"
COLLEAGUE = "c0ffee00-0000-4000-8000-00000000c002"
CLIENT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
MEETING_LINK = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_test"


@pytest.fixture
async def service(start_bot: StartBot, tmp_path: Path) -> RunningBot:
    settings = settings_for_tests(
        tmp_path,
        counsellor_tenant_ids=TENANT_ID,
        counsellor_object_ids=f"{COUNSELLOR},{COLLEAGUE}",
        meeting_default_link=MEETING_LINK,
    )
    return await start_bot(settings)  # the real Teams notifier, no stand-in


def person(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector, aad: str, name: str
) -> TeamsClient:
    return TeamsClient(http, service, connector, aad_object_id=aad, name=name)


async def invoke(who: TeamsClient, verb: str, data: dict[str, Any]) -> tuple[int, Any]:
    """An Action.Execute click, as Teams sends it."""
    body = who.activity(
        "invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        },
    )
    return await who.post(body)


def newest_card_of(who: TeamsClient) -> dict[str, Any]:
    activities = who.connector.activities(who.conversation_id) + who.connector.updates(
        who.conversation_id
    )
    cards = [
        attachment["content"]
        for activity in activities
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]
    assert cards, "no card yet"
    return cards[-1]


async def test_invitation_to_meeting_to_reminder_to_withdrawal(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> None:
    counsellor = person(service, http, connector, COUNSELLOR, "Berater Test")
    client = person(service, http, connector, CLIENT, "Erika Muster")

    await counsellor.deliver(counsellor.activity("installationUpdate", action="add"))
    assert counsellor.said("Sie sind als Beraterin oder Berater eingetragen.")
    await counsellor.say("Einladung")
    invitation = newest_card_of(counsellor)
    code = invitation["body"][1]["text"]
    assert len(code.replace("-", "")) >= 8

    await client.install()
    await client.say(code.lower().replace("-", " "))
    assert client.said("Sie sind jetzt mit Ihrer Beraterin oder Ihrem Berater verbunden.")
    await walk_to_handoff(client)

    card = newest_card_of(counsellor)  # arrived proactively in the counsellor's chat
    assert card["body"][0]["items"][0]["text"] == "Anfrage: Erika Muster"
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Thema"] == "Bewerbung (Lebenslauf, Anschreiben)"
    assert facts["Einwilligung"].startswith("erteilt (VB-")
    data = next(a["data"] for a in card["actions"] if a.get("verb") == "schedule")

    when = (datetime.now(BERLIN) + timedelta(days=3)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    clicks = [
        invoke(counsellor, "schedule", {**data, "date": when.date().isoformat(), "time": "10:00"})
        for _ in range(2)  # a double click
    ]
    answers = await asyncio.gather(*clicks)
    assert [status for status, _ in answers] == [200, 200]
    updated = answers[0][1]["value"]
    assert (
        "Termin steht" in updated["body"][0]["items"][1]["text"]
        or "angelegt" in (updated["body"][0]["items"][1]["text"])
    )

    join = newest_card_of(client)
    assert join["body"][0]["items"][0]["text"] == "Ihr Videotermin steht"
    assert any(a.get("url") == MEETING_LINK for a in join["actions"])
    joins = [
        a
        for a in connector.activities(client.conversation_id)
        for att in a.get("attachments") or []
        if att["content"].get("body", [{}])[0].get("items", [{}])[0].get("text")
        == "Ihr Videotermin steht"
    ]
    assert len(joins) == 1  # the double click made one meeting and one message

    store = service.app[STORE]
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.status == HandoffStatus.SCHEDULED
    assert handoff.counsellor_id == COUNSELLOR
    # the handoff and the consent are kept their full periods past the appointment's end
    end = datetime.fromisoformat(handoff.meeting["end"]).timestamp()
    [stored] = await store.list_partition("handoff", CLIENT)
    assert stored.expires_at == pytest.approx(end + 180 * 86400, abs=60)
    [consent] = await store.list_partition("consent_event", CLIENT)
    assert consent.expires_at == pytest.approx(end + 1095 * 86400, abs=60)

    # The reminders, with the clock moved to a day and then to ten minutes before the meeting.
    now = [when - timedelta(hours=23, minutes=59)]
    reminders = Reminders(store, clock=lambda: now[0])
    scheduler = ReminderScheduler(
        reminders, service.app[SERVICE].reminder_sender, "test", clock=lambda: now[0]
    )
    assert await scheduler.run_once() == 1  # the client's, a day ahead
    assert client.said(
        "Erinnerung: Morgen ist Ihr Termin", connector.activities(client.conversation_id)
    )
    await client.say("Einwilligung widerrufen")
    assert client.said("Sie haben Ihre Einwilligung widerrufen")
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.status == HandoffStatus.CANCELLED
    assert handoff.phone == ""
    assert handoff.windows == []
    now[0] = when - timedelta(minutes=10)
    assert await scheduler.run_once() == 0  # the 15-minute reminders were cancelled
    statuses = sorted(r.status for r in await reminders.for_meeting(handoff.meeting["id"]))
    assert statuses == ["cancelled", "cancelled", "sent"]
    final = newest_card_of(counsellor)
    assert any(
        "Die Einwilligung wurde widerrufen." in block.get("text", "") for block in final["body"]
    )
    overview_entries = await CounsellorDirectory(store).caseload(COUNSELLOR)
    assert [entry.stage for entry in overview_entries] == ["withdrawn"]
    assert [e.action for e in await ConsentLog(store).events(CLIENT)] == ["given", "withdrawn"]


async def test_clients_and_other_tenants_cannot_act_as_counsellors(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> None:
    client = person(service, http, connector, CLIENT, "Erika Muster")
    await client.install()
    status, answer = await invoke(client, "schedule", {"client": CLIENT, "handoff": "h-1"})
    assert status == 200
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    refusal = answer["value"]["body"][0]["text"]
    assert refusal == "Diese Aktion ist nur für Beraterinnen und Berater."
    await client.say("Einladung")  # a counsellor command typed by a client
    assert not client.said("Einladung zur Videoberatung")

    outsider = person(service, http, connector, COUNSELLOR, "Fremd")
    foreign = outsider.message("Übersicht")
    foreign["conversation"]["tenantId"] = "00000000-0000-0000-0000-0000000000ff"
    foreign["channelData"] = {"tenant": {"id": "00000000-0000-0000-0000-0000000000ff"}}
    await outsider.deliver(foreign)
    assert outsider.said("Ihre Organisation hat keinen Zugang.")


async def test_wrong_codes_are_limited(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> None:
    client = person(service, http, connector, CLIENT, "Erika Muster")
    await client.install()
    first_attempt = datetime.now(UTC)
    for _ in range(5):
        await client.say("K7RM-HX4P")
        assert client.said("Diesen Code kennen wir leider nicht.")
    await client.say("K7RM-HX4P")
    assert client.said("Sie haben zu oft einen falschen Code eingegeben.")
    # the real end of the window (an hour after the first wrong code), not "in an hour"
    ends = {format_clock(first_attempt + timedelta(hours=1, minutes=m), "de") for m in (0, 1)}
    assert any(client.said(f"Bitte versuchen Sie es ab {clock} Uhr wieder.") for clock in ends)


async def test_a_phone_call_offered_instead_of_video(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> None:
    counsellor = person(service, http, connector, COUNSELLOR, "Berater Test")
    client = person(service, http, connector, CLIENT, "Erika Muster")
    await counsellor.deliver(counsellor.activity("installationUpdate", action="add"))
    await counsellor.say("Einladung")
    code = newest_card_of(counsellor)["body"][1]["text"]
    await client.install()
    await client.say(code)
    await walk_to_handoff(client)

    data = next(
        a["data"] for a in newest_card_of(counsellor)["actions"] if a.get("verb") == "offer_phone"
    )
    await asyncio.gather(
        invoke(counsellor, "offer_phone", data), invoke(counsellor, "offer_phone", data)
    )
    offers = [
        activity
        for activity in connector.activities(client.conversation_id)
        for attachment in activity.get("attachments") or []
        if "schlägt ein Telefongespräch vor" in str(attachment.get("content"))
    ]
    assert len(offers) == 1  # offered once, however often it was clicked

    client.take_replies()
    await client.click("Ja, lieber telefonieren", card=newest_card_of(client))
    assert client.said("Unter welcher Telefonnummer können wir Sie anrufen?")
    await client.say("0171 2345678")
    assert client.said("Gut, wir rufen Sie an.")
    [handoff] = await Handoffs(service.app[STORE]).for_client(CLIENT)
    assert (handoff.consultation_type, handoff.phone, handoff.phone_offer) == (
        "phone",
        "01712345678",
        "accepted",
    )
    card = newest_card_of(counsellor)
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Telefon"] == "01712345678"
    assert facts["Telefon statt Video"] == "angenommen"
    assert not any(a.get("verb") == "offer_phone" for a in card["actions"])

    await client.click("Ja, lieber telefonieren", card=offers[0]["attachments"][0]["content"])
    assert client.said("Das ist schon erledigt.")


async def test_two_counsellors_of_the_queue_clicking_at_once_make_one_meeting(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> None:
    first = person(service, http, connector, COUNSELLOR, "Berater Eins")
    second = person(service, http, connector, COLLEAGUE, "Beraterin Zwei")
    for counsellor in (first, second):
        await counsellor.deliver(counsellor.activity("installationUpdate", action="add"))
    client = person(service, http, connector, CLIENT, "Erika Muster")
    await client.install()
    await walk_to_handoff(client)  # no code: the handoff goes to the whole queue

    when = (datetime.now(BERLIN) + timedelta(days=2)).date().isoformat()
    clicks = []
    for counsellor in (first, second):
        card = newest_card_of(counsellor)
        assert card["body"][0]["items"][0]["text"] == "Anfrage: Erika Muster"
        data = next(a["data"] for a in card["actions"] if a.get("verb") == "schedule")
        clicks.append(invoke(counsellor, "schedule", {**data, "date": when, "time": "11:30"}))
    await asyncio.gather(*clicks)

    [handoff] = await Handoffs(service.app[STORE]).for_client(CLIENT)
    assert handoff.status == HandoffStatus.SCHEDULED
    assert handoff.counsellor_id in (COUNSELLOR, COLLEAGUE)
    appointments = [
        activity
        for activity in connector.activities(client.conversation_id)
        for attachment in activity.get("attachments") or []
        if "Ihr Videotermin steht" in str(attachment.get("content"))
    ]
    assert len(appointments) == 1
    for counsellor in (first, second):  # both cards now show the meeting, in place
        card = newest_card_of(counsellor)
        assert any(a.get("url") == MEETING_LINK for a in card["actions"])
        assert not any(a.get("verb") == "schedule" for a in card["actions"])


@pytest.fixture
async def form_server() -> AsyncIterator[TestServer]:
    """Where Teams' file card points: a pre-authorised download of the signed form."""
    async with file_server({"form.png": PNG}) as server:
        yield server


async def test_an_uploaded_form_is_decided_once_and_a_withdrawal_names_the_form(
    service: RunningBot,
    http: aiohttp.ClientSession,
    connector: LocalConnector,
    form_server: TestServer,
) -> None:
    counsellor = person(service, http, connector, COUNSELLOR, "Berater Test")
    colleague = person(service, http, connector, COLLEAGUE, "Kollegin Test")
    client = person(service, http, connector, CLIENT, "Erika Muster")
    for staff in (counsellor, colleague):
        await staff.deliver(staff.activity("installationUpdate", action="add"))
    await client.install()
    for label in (
        "Bewerbung (Lebenslauf, Anschreiben)",
        "Per Video",
        "Laptop oder Computer",
        "Ja, die Teams-App",
    ):
        await client.click(label)
    for label in ("Ja, beides", "Ja", "WLAN oder Flatrate (unbegrenzt)"):
        await client.click(label)
    file_card = {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "content": {"downloadUrl": str(form_server.make_url("/form.png")), "fileType": "png"},
        "name": "formular.png",
    }
    await client.deliver(client.message(attachments=[file_card]))
    assert client.said("Danke! Ihr Formular ist angekommen.")
    await client.click("Weiter", days="mon", parts="morning")
    [handoff] = await Handoffs(service.app[STORE]).for_client(CLIENT)
    assert handoff.consent_status == "pending_verification"
    data = {"client": CLIENT, "handoff": handoff.handoff_id}

    client.take_replies()
    answers = await asyncio.gather(  # two counsellors decide differently at the same moment
        invoke(counsellor, "consent_verified", data), invoke(colleague, "consent_rejected", data)
    )
    assert [status for status, _ in answers] == [200, 200]
    events = await ConsentLog(service.app[STORE]).events(CLIENT)
    assert [event.action for event in events[:1]] == ["form_uploaded"]
    [decision] = events[1:]
    [handoff] = await Handoffs(service.app[STORE]).for_client(CLIENT)
    expected = {"verified": "given", "rejected": "rejected"}[decision.action]
    assert handoff.consent_status == expected
    told = [text for text in client.texts(client.take_replies()) if "Formular" in text]
    assert len(told) == 1, told  # the client hears the one decision that stands

    await invoke(counsellor, "consent_rejected", data)  # a late click changes nothing
    assert len(await ConsentLog(service.app[STORE]).events(CLIENT)) == 2
    # the decision starts the form's retention (RETENTION_FORM_DAYS)
    [document] = await service.app[STORE].list_partition(CONSENT_FORM, CLIENT)
    entry = FormFile.from_body(document.body)
    assert entry.decided_at
    delete_after = datetime.fromisoformat(entry.delete_after)
    assert delete_after - datetime.fromisoformat(entry.decided_at) == timedelta(days=30)
    if decision.action == "verified":
        await client.say("Einwilligung widerrufen")
        assert client.said("Sie haben Ihre Einwilligung widerrufen")
        withdrawal = (await ConsentLog(service.app[STORE]).events(CLIENT))[-1]
        uploaded = events[0]
        assert (withdrawal.method, withdrawal.text_version, withdrawal.text_sha256) == (
            "paper_form",
            uploaded.text_version,
            uploaded.text_sha256,
        )
    else:
        await client.say("Einwilligung widerrufen")
        assert client.said("Ihr unterschriebenes Formular wurde nicht angenommen.")


async def test_a_scheduled_video_appointment_is_in_the_counsellors_calendar(
    start_bot: StartBot,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    connector: LocalConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With Graph configured, the desk books an appointment with a Teams meeting in the
    counsellor's calendar (the Graph stand-in checks every request), and a withdrawal deletes
    it again."""
    async with GraphStandIn(
        tmp_path / "tls",
        tenant_id=TENANT_ID,
        client_id="graph-app",
        client_secret="graph-secret",
        forbidden=["Erika", "Muster", "0221"],
    ) as standin:

        def stand_in_graph(settings: Settings) -> GraphClient:
            return GraphClient.with_secret(
                settings.graph_tenant_id,
                settings.graph_client_id,
                settings.graph_client_secret.get_secret_value(),
                authority_host=standin.authority_host,
                base_url=standin.graph_url,
                ca_file=standin.ca_file,
            )

        monkeypatch.setattr(app_module, "graph_client", stand_in_graph)
        settings = settings_for_tests(
            tmp_path,
            counsellor_tenant_ids=TENANT_ID,
            counsellor_object_ids=COUNSELLOR,
            graph_tenant_id=TENANT_ID,
            graph_client_id="graph-app",
            graph_client_secret="graph-secret",
        )
        service = await start_bot(settings)
        counsellor = person(service, http, connector, COUNSELLOR, "Berater Test")
        client = person(service, http, connector, CLIENT, "Erika Muster")
        await counsellor.deliver(counsellor.activity("installationUpdate", action="add"))
        await client.install()
        await walk_to_handoff(client)
        card = newest_card_of(counsellor)
        data = next(a["data"] for a in card["actions"] if a.get("verb") == "schedule")
        when = (datetime.now(BERLIN) + timedelta(days=2)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        chosen = {**data, "date": when.date().isoformat(), "time": "09:00"}
        clicks = [invoke(counsellor, "schedule", chosen) for _ in range(2)]  # a double click
        assert [status for status, _ in await asyncio.gather(*clicks)] == [200, 200]

        [event] = standin.events.values()
        assert event["user_id"] == COUNSELLOR
        assert (
            event["body"]["subject"]
            == "Videoberatung Jobcenter – Bewerbung (Lebenslauf, Anschreiben)"
        )
        assert event["body"]["start"]["dateTime"] == when.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        settings_now = standin.meetings[event["meeting_id"]]["body"]
        assert settings_now["allowedPresenters"] == "organizer"
        assert settings_now["allowRecording"] is False
        [handoff] = await Handoffs(service.app[STORE]).for_client(CLIENT)
        assert handoff.meeting["join_url"] == standin.meetings[event["meeting_id"]]["joinWebUrl"]
        assert client.said("Ihr Videotermin steht", connector.activities(client.conversation_id))

        await client.say("Einwilligung widerrufen")
        assert standin.events == {}
        assert standin.meetings == {}
        assert standin.problems == []
        await service.close()
