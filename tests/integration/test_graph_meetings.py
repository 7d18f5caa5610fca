"""Meetings for the counsellor handoff: appointments with a Teams meeting in the counsellor's
calendar through Graph, against a checking local stand-in (token endpoint + Graph over HTTPS on
loopback), and the configured-link fallback."""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from bot.domain.local_time import BERLIN
from bot.i18n import staff_translator, translator
from bot.integrations.graph import GraphClient
from bot.integrations.graph_errors import GraphAuthError, GraphError, GraphTimeoutError
from bot.integrations.meetings import (
    TRANSACTION_NAMESPACE,
    ConfiguredLinkProvider,
    GraphMeetingProvider,
    Meeting,
    MeetingError,
    MeetingProvider,
    MeetingUnavailableError,
    meeting_subject,
)
from dialogs.consultation import TOPICS
from tests.support.graph_standin import GRAPH_SCOPE, REQUIRED_MEETING_SETTINGS, GraphStandIn

TENANT_ID = "0d5a3c1e-6f2b-4d7a-9c8e-1b2a3c4d5e6f"
CLIENT_ID = "4b8e2f1a-9c3d-4e5f-a6b7-c8d9e0f1a2b3"
CLIENT_SECRET = "standin~secret.value-0123456789"
COUNSELLOR = "6c1f2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
OTHER_COUNSELLOR = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
# What must never reach Graph in a meeting subject: the client's name, e-mail, customer number.
FORBIDDEN = ["Erika", "Muster", "erika.muster@example.org", "BG-Nummer", "12345"]

START = datetime(2025, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=1)))  # 08:30 UTC
END = START + timedelta(minutes=30)

MakeGraph = Callable[..., GraphClient]


@pytest.fixture
async def standin(tmp_path: Path) -> AsyncIterator[GraphStandIn]:
    async with GraphStandIn(
        tmp_path / "tls",
        tenant_id=TENANT_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        forbidden=FORBIDDEN,
    ) as running:
        yield running
        assert running.problems == [], "the stand-in saw requests that break its rules"


@pytest.fixture
def sleeps() -> list[float]:
    """The delays the client asked to wait between attempts (it never really waits)."""
    return []


@pytest.fixture
async def make_graph(standin: GraphStandIn, sleeps: list[float]) -> AsyncIterator[MakeGraph]:
    """``make_graph(**overrides)`` → a GraphClient pointed at the stand-in; closed at the end."""
    made: list[GraphClient] = []

    async def record_sleep(delay: float) -> None:
        sleeps.append(delay)

    def make(**overrides: Any) -> GraphClient:
        options: dict[str, Any] = {
            "authority_host": standin.authority_host,
            "base_url": standin.graph_url,
            "ca_file": standin.ca_file,
            "timeout": 5.0,
            "sleep": record_sleep,
            **overrides,
        }
        secret = options.pop("client_secret", CLIENT_SECRET)
        client = GraphClient.with_secret(TENANT_ID, CLIENT_ID, secret, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
def graph(make_graph: MakeGraph) -> GraphClient:
    return make_graph()


@pytest.fixture
def provider(graph: GraphClient) -> GraphMeetingProvider:
    return GraphMeetingProvider(graph)


def subject() -> str:
    return meeting_subject("Bewerbung (Lebenslauf, Anschreiben)")


TEXT = staff_translator("de")("desk.calendar.text")
_transactions = itertools.count(1)


async def new_event(graph: GraphClient, title: str | None = None) -> dict[str, Any]:
    """A Graph call of its own (a fresh transaction id each time)."""
    transaction = f"test-{next(_transactions)}"
    return await graph.create_event(
        COUNSELLOR, START, END, subject() if title is None else title, TEXT, transaction
    )


async def book(
    provider: GraphMeetingProvider, key: str = "h-1", counsellor: str = COUNSELLOR, **times: Any
) -> Meeting:
    start, end = times.get("start", START), times.get("end", END)
    return await provider.create(counsellor, start, end, subject(), key=key, text=TEXT)


def secured(standin: GraphStandIn, meeting: Meeting) -> bool:
    """The appointment exists, and its meeting has exactly the settings we want."""
    event = standin.events[meeting.meeting_id.removeprefix("event:")]
    settings = standin.meetings[event["meeting_id"]]["body"]
    return all(settings[key] == want for key, want in REQUIRED_MEETING_SETTINGS.items())


# --- an appointment with a Teams meeting through Graph --------------------------------------


async def test_an_appointment_in_the_calendar_with_a_secured_meeting(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    meeting = await book(provider)

    assert isinstance(meeting, Meeting)
    assert meeting.provider == "graph"
    assert (meeting.start, meeting.end) == (START, END)
    assert meeting.meeting_id.startswith("event:")
    event_id = meeting.meeting_id.removeprefix("event:")
    [event] = standin.events.values()
    assert standin.meetings[event["meeting_id"]]["joinWebUrl"] == meeting.join_url
    assert meeting.join_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert secured(standin, meeting)
    assert meeting.as_record(BERLIN) == {
        "id": meeting.meeting_id,
        "join_url": meeting.join_url,
        "start": "2025-03-04T09:30:00+01:00",
        "end": "2025-03-04T10:00:00+01:00",
        "provider": "graph",
    }

    create, find, update = standin.graph_requests
    assert (create.method, create.path) == ("POST", f"/v1.0/users/{COUNSELLOR}/events")
    assert create.headers["Authorization"] == f"Bearer {standin.issued_tokens[0]}"
    assert create.headers["Content-Type"].startswith("application/json")
    transaction = create.body.pop("transactionId")
    assert transaction == str(
        uuid.uuid5(TRANSACTION_NAMESPACE, "h-1|2025-03-04T08:30:00+00:00|2025-03-04T09:00:00+00:00")
    )
    assert create.body == {
        "subject": "Videoberatung Jobcenter – Bewerbung (Lebenslauf, Anschreiben)",
        "body": {"contentType": "text", "content": TEXT},
        "start": {"dateTime": "2025-03-04T08:30:00", "timeZone": "UTC"},
        "end": {"dateTime": "2025-03-04T09:00:00", "timeZone": "UTC"},
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "sensitivity": "private",
        "showAs": "busy",
        "allowNewTimeProposals": False,
        "responseRequested": False,
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 15,
    }
    for text in (create.body["subject"], TEXT):
        assert not any(character.isdigit() for character in text)
        assert not any(word.casefold() in text.casefold() for word in FORBIDDEN)
    assert (find.method, find.path) == ("GET", f"/v1.0/users/{COUNSELLOR}/onlineMeetings")
    assert (update.method, update.body) == ("PATCH", REQUIRED_MEETING_SETTINGS)
    assert update.path == f"/v1.0/users/{COUNSELLOR}/onlineMeetings/{event['meeting_id']}"
    assert event_id in standin.events

    [token_request] = standin.token_requests
    assert token_request.path == f"/{TENANT_ID}/oauth2/v2.0/token"
    assert token_request.body["grant_type"] == "client_credentials"
    assert token_request.body["client_id"] == CLIENT_ID
    assert token_request.body["scope"] == GRAPH_SCOPE


@pytest.mark.parametrize("lost", [502, 504, None], ids=["502", "504", "dropped"])
async def test_a_repeated_request_makes_no_second_appointment(
    provider: GraphMeetingProvider, standin: GraphStandIn, lost: int | None
) -> None:
    """Graph made the appointment, but its answer was lost: the request goes again, with the
    same transaction id, and gets the first appointment back."""
    standin.lose_answer_next(lost)

    meeting = await book(provider)

    assert len(standin.events) == 1
    assert secured(standin, meeting)
    posts = [r for r in standin.graph_requests if r.method == "POST"]
    assert len(posts) == 2
    assert posts[0].body["transactionId"] == posts[1].body["transactionId"]


async def test_the_same_request_again_is_the_same_appointment_another_time_a_new_one(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    first = await book(provider)
    again = await book(provider)  # a scheduling that ran again after a crash
    later = await book(provider, start=START + timedelta(days=1), end=END + timedelta(days=1))
    other = await book(provider, key="h-2")
    assert first.meeting_id == again.meeting_id
    assert len({first.meeting_id, later.meeting_id, other.meeting_id}) == 3
    assert len(standin.events) == 3


async def test_an_appointment_whose_meeting_cannot_be_secured_is_deleted_again(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    standin.refuse("PATCH", 403)
    with pytest.raises(MeetingError):
        await book(provider)
    assert standin.events == {}
    assert standin.meetings == {}
    assert [r.method for r in standin.graph_requests] == ["POST", "GET", "PATCH", "DELETE"]


async def test_token_is_fetched_once_for_several_calls(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    first = await book(provider)
    second = await book(provider, counsellor=OTHER_COUNSELLOR)
    await provider.cancel(COUNSELLOR, first.meeting_id)

    assert first.meeting_id != second.meeting_id
    assert len(standin.token_requests) == 1
    assert standin.discovery_requests == 1
    [token] = standin.issued_tokens
    assert [r.headers["Authorization"] for r in standin.graph_requests] == [f"Bearer {token}"] * 7


async def test_a_token_close_to_expiry_is_not_reused(tmp_path: Path) -> None:
    """msal treats a token with less than five minutes left as expired."""
    async with GraphStandIn(
        tmp_path / "tls",
        tenant_id=TENANT_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_lifetime=120,
    ) as short_lived:
        async with GraphClient.with_secret(
            TENANT_ID,
            CLIENT_ID,
            CLIENT_SECRET,
            authority_host=short_lived.authority_host,
            base_url=short_lived.graph_url,
            ca_file=short_lived.ca_file,
        ) as graph:
            await new_event(graph)
            await new_event(graph)
        assert len(short_lived.token_requests) == 2
        assert short_lived.problems == []


async def test_all_topic_labels_make_subjects_the_standin_accepts(
    graph: GraphClient, standin: GraphStandIn
) -> None:
    for locale in ("de", "en"):
        t = translator(locale)
        for topic in TOPICS:
            await new_event(graph, meeting_subject(t(f"choice.topic.{topic}")))
    assert len(standin.events) == 2 * len(TOPICS)


# --- retries -------------------------------------------------------------------------------


async def test_429_waits_for_retry_after_then_succeeds(
    provider: GraphMeetingProvider, standin: GraphStandIn, sleeps: list[float]
) -> None:
    standin.fail_next(1, 429, retry_after="1")

    meeting = await book(provider)

    assert secured(standin, meeting)
    assert len(standin.graph_requests) == 4  # the refused create, then create, find, set
    assert len(sleeps) == 1
    assert sleeps[0] >= 1


async def test_retry_after_is_capped(
    graph: GraphClient, standin: GraphStandIn, sleeps: list[float]
) -> None:
    standin.fail_next(1, 429, retry_after="3600")

    await new_event(graph)

    assert sleeps == [30.0]


async def test_503_twice_then_success_backs_off(
    graph: GraphClient, standin: GraphStandIn, sleeps: list[float]
) -> None:
    standin.fail_next(2, 503)

    await new_event(graph)

    assert len(standin.events) == 1
    assert len(standin.graph_requests) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff without Retry-After


@pytest.mark.parametrize("status", [502, 504])
async def test_gateway_errors_are_retried(
    graph: GraphClient, standin: GraphStandIn, sleeps: list[float], status: int
) -> None:
    standin.fail_next(1, status)

    await new_event(graph)

    assert len(standin.graph_requests) == 2
    assert sleeps == [0.5]


async def test_persistent_503_gives_up_after_max_attempts(
    provider: GraphMeetingProvider, standin: GraphStandIn, sleeps: list[float]
) -> None:
    standin.fail_next(10, 503, retry_after="2")

    with pytest.raises(MeetingError) as caught:
        await book(provider)

    error = caught.value.__cause__
    assert isinstance(error, GraphError)
    assert (error.status, error.code) == (503, "ServiceUnavailable")
    assert error.request_id
    assert len(standin.graph_requests) == 4
    assert sleeps == [2.0, 2.0, 2.0]
    assert standin.events == {}
    # Neither the token nor the request body end up in the message.
    for text in (str(caught.value), str(error)):
        assert standin.issued_tokens[0] not in text
        assert "Bewerbung (Lebenslauf, Anschreiben)" not in text
        assert CLIENT_SECRET not in text


async def test_persistent_503_from_the_graph_client(
    graph: GraphClient, standin: GraphStandIn, sleeps: list[float]
) -> None:
    standin.fail_next(10, 503)

    with pytest.raises(GraphError) as caught:
        await new_event(graph)

    assert caught.value.status == 503
    assert len(standin.graph_requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


async def test_connection_errors_are_retried_then_reported(
    make_graph: MakeGraph, standin: GraphStandIn, sleeps: list[float]
) -> None:
    closed_port = unused_port()
    graph = make_graph(base_url=f"https://127.0.0.1:{closed_port}/v1.0")

    with pytest.raises(GraphError) as caught:
        await new_event(graph)

    assert (caught.value.status, caught.value.code) == (None, "connection_error")
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(standin.token_requests) == 1


async def test_a_stalled_create_is_sent_once_more_and_makes_one_appointment(
    make_graph: MakeGraph, standin: GraphStandIn, sleeps: list[float]
) -> None:
    """The transaction id makes a second send harmless, so a timeout is retried once."""
    graph = make_graph(timeout=0.3)
    await new_event(graph)  # token, connection
    standin.stall_next(1)
    await new_event(graph)
    assert len(standin.graph_requests) == 3
    assert len(standin.events) == 2
    standin.stall_next(2)

    with pytest.raises(GraphTimeoutError) as caught:
        await new_event(graph)

    assert caught.value.code == "timeout"
    assert len(standin.graph_requests) == 5
    assert sleeps == []


async def test_a_stalled_delete_is_not_sent_again(
    provider: GraphMeetingProvider, make_graph: MakeGraph, standin: GraphStandIn
) -> None:
    slow = GraphMeetingProvider(make_graph(timeout=0.3))
    meeting = await book(slow)
    standin.stall_next(1)
    with pytest.raises(MeetingError):
        await slow.cancel(COUNSELLOR, meeting.meeting_id)
    assert [r.method for r in standin.graph_requests][-1:] == ["DELETE"]
    assert len([r for r in standin.graph_requests if r.method == "DELETE"]) == 1


# --- errors that are not retried -----------------------------------------------------------


async def test_401_from_graph_is_not_retried(
    provider: GraphMeetingProvider, standin: GraphStandIn, sleeps: list[float]
) -> None:
    await book(provider)
    standin.revoke_tokens()

    with pytest.raises(MeetingError) as caught:
        await book(provider, key="h-2")

    error = caught.value.__cause__
    assert isinstance(error, GraphError)
    assert (error.status, error.code) == (401, "InvalidAuthenticationToken")
    assert len(standin.graph_requests) == 4
    assert sleeps == []


async def test_403_from_graph_is_not_retried(
    graph: GraphClient, standin: GraphStandIn, sleeps: list[float]
) -> None:
    # What Graph answers when no application access policy covers the counsellor.
    standin.fail_next(1, 403, code="Forbidden")

    with pytest.raises(GraphError) as caught:
        await new_event(graph)

    assert (caught.value.status, caught.value.code) == (403, "Forbidden")
    assert len(standin.graph_requests) == 1
    assert sleeps == []


async def test_a_wrong_secret_is_a_clear_auth_error(
    make_graph: MakeGraph, standin: GraphStandIn
) -> None:
    graph = make_graph(client_secret="not-the-secret")

    with pytest.raises(GraphAuthError) as caught:
        await new_event(graph)

    assert caught.value.code == "invalid_client"
    assert "not-the-secret" not in str(caught.value)
    assert standin.graph_requests == []
    assert standin.problems == ["token endpoint: invalid_client: wrong client secret"]
    standin.problems.clear()


async def test_naive_times_are_refused_before_any_call(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await book(provider, start=datetime(2025, 3, 4, 9), end=datetime(2025, 3, 4, 10))
    with pytest.raises(ValueError, match="end after"):
        await book(provider, start=END, end=START)
    assert standin.token_requests == []


# --- cancelling ----------------------------------------------------------------------------


async def test_cancel_deletes_the_appointment_and_its_meeting(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    meeting = await book(provider)

    await provider.cancel(COUNSELLOR, meeting.meeting_id)

    assert (standin.events, standin.meetings) == ({}, {})
    delete = standin.graph_requests[-1]
    assert delete.method == "DELETE"
    assert delete.path == f"/v1.0/users/{COUNSELLOR}/events/{meeting.meeting_id[6:]}"


async def test_a_meeting_made_before_appointments_were_events_is_cancelled_too(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    meeting_id = standin.add_meeting(COUNSELLOR)
    await provider.cancel(COUNSELLOR, meeting_id)
    assert standin.meetings == {}
    assert (
        standin.graph_requests[-1].path == f"/v1.0/users/{COUNSELLOR}/onlineMeetings/{meeting_id}"
    )


async def test_deleting_an_appointment_that_is_gone_is_fine(
    provider: GraphMeetingProvider, standin: GraphStandIn, sleeps: list[float]
) -> None:
    await provider.cancel(COUNSELLOR, "event:AAMkAlreadyGone")
    await provider.cancel(COUNSELLOR, "MSpAlreadyGone")

    assert [r.method for r in standin.graph_requests] == ["DELETE", "DELETE"]
    assert sleeps == []


async def test_delete_failing_otherwise_is_an_error(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    standin.fail_next(1, 403)

    with pytest.raises(MeetingError):
        await provider.cancel(COUNSELLOR, "event:AAMkSomething")


# --- the stand-in checks what it receives --------------------------------------------------


async def test_standin_refuses_personal_data_in_the_subject_and_the_text(
    graph: GraphClient, standin: GraphStandIn
) -> None:
    with pytest.raises(GraphError) as caught:
        await new_event(graph, "Videoberatung Erika Muster, BG-Nummer 12345")
    assert caught.value.status == 400
    with pytest.raises(GraphError):
        await graph.create_event(COUNSELLOR, START, END, subject(), "Mit Erika Muster", "t-x")

    assert "digits in the subject" in standin.problems
    assert "forbidden word 'Erika' in the subject" in standin.problems
    assert "forbidden word 'Erika' in the body" in standin.problems
    assert standin.events == {}
    standin.problems.clear()


async def test_standin_refuses_wrong_tokens_unknown_routes_and_unsafe_appointments(
    graph: GraphClient, standin: GraphStandIn
) -> None:
    await new_event(graph)  # a valid token exists
    context = ssl.create_default_context(cafile=standin.ca_file)
    token = standin.issued_tokens[0]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
        url = f"{standin.graph_url}/users/{COUNSELLOR}/events"
        async with http.post(url, json={}, headers={"Authorization": "Bearer forged"}) as answer:
            assert answer.status == 401
        for path in ("/me/events", f"/users/{COUNSELLOR}/onlineMeetings"):
            method = http.get if path == "/me/events" else http.post
            async with method(
                f"{standin.graph_url}{path}", json={}, headers={"Authorization": f"Bearer {token}"}
            ) as answer:
                assert answer.status in (404, 405)
        async with http.post(
            url,
            json={"subject": "Videoberatung", "isOnlineMeeting": True, "attendees": [{"x": 1}]},
            headers={"Authorization": f"Bearer {token}"},
        ) as answer:
            assert answer.status == 400
    assert any("without a token it issued" in problem for problem in standin.problems)
    assert "unknown route GET /v1.0/me/events" in standin.problems
    assert f"unknown route POST /v1.0/users/{COUNSELLOR}/onlineMeetings" in standin.problems
    assert "no transactionId: a repeated request would make a second event" in standin.problems
    assert "attendees: nobody is invited through the calendar" in standin.problems
    assert "sensitivity is None, want 'private'" in standin.problems
    standin.problems.clear()


# --- the configured link (no Graph) --------------------------------------------------------

LINKS = {
    COUNSELLOR.upper(): "https://teams.microsoft.com/l/meetup-join/19%3ameeting_personal-a/0",
    OTHER_COUNSELLOR: "https://teams.microsoft.com/l/meetup-join/19%3ameeting_personal-b/0",
}
DEFAULT_LINK = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_team-room/0"


async def test_configured_link_per_counsellor() -> None:
    provider: MeetingProvider = ConfiguredLinkProvider(LINKS, DEFAULT_LINK)

    meeting = await provider.create(COUNSELLOR, START, END, subject())
    again = await provider.create(COUNSELLOR, START, END, subject())
    day = timedelta(days=1)
    later = await provider.create(COUNSELLOR, START + day, END + day, subject())
    other = await provider.create(OTHER_COUNSELLOR, START, END, subject())

    assert meeting.join_url == LINKS[COUNSELLOR.upper()]
    assert meeting.provider == "configured_link"
    assert (meeting.start, meeting.end) == (START, END)
    assert meeting == again  # the id is derived, not random
    assert later.meeting_id != meeting.meeting_id
    assert other.join_url == LINKS[OTHER_COUNSELLOR]
    assert other.meeting_id != meeting.meeting_id
    await provider.cancel(COUNSELLOR, meeting.meeting_id)  # the room stays; nothing happens


async def test_configured_link_same_moment_in_another_timezone_same_id() -> None:
    provider = ConfiguredLinkProvider(LINKS)

    local = await provider.create(COUNSELLOR, START, END, subject())
    utc = await provider.create(COUNSELLOR, START.astimezone(UTC), END.astimezone(UTC), "")

    assert local.meeting_id == utc.meeting_id


async def test_configured_default_link_for_other_counsellors() -> None:
    provider = ConfiguredLinkProvider(LINKS, DEFAULT_LINK)

    meeting = await provider.create("9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", START, END, "")

    assert meeting.join_url == DEFAULT_LINK


async def test_no_configured_link_is_a_clear_error() -> None:
    provider = ConfiguredLinkProvider({})

    with pytest.raises(MeetingUnavailableError, match="MEETING_LINKS"):
        await provider.create(COUNSELLOR, START, END, subject())


def test_configured_links_must_be_https() -> None:
    with pytest.raises(ValueError, match="https"):
        ConfiguredLinkProvider({COUNSELLOR: "http://teams.example/room"})
    with pytest.raises(ValueError, match="https"):
        ConfiguredLinkProvider({}, "teams.microsoft.com/l/meetup-join/x")


# --- the subject ---------------------------------------------------------------------------


def test_meeting_subject_names_only_the_topic() -> None:
    assert meeting_subject("Bewerbung (Lebenslauf, Anschreiben)") == (
        "Videoberatung Jobcenter – Bewerbung (Lebenslauf, Anschreiben)"
    )
    assert meeting_subject("Geld vom Jobcenter (zum Beispiel Bürgergeld)") == (
        "Videoberatung Jobcenter – Geld vom Jobcenter (zum Beispiel Bürgergeld)"
    )
    assert meeting_subject("") == "Videoberatung Jobcenter"


def test_meeting_subject_drops_digits_and_addresses() -> None:
    produced = meeting_subject("Bewerbung BG 12345/67 erika@example.org +49 30 1234")

    assert not any(character.isdigit() for character in produced)
    assert "@" not in produced
    assert "+" not in produced
    assert len(meeting_subject("Ausbildung " * 30)) <= 80


def test_graph_client_refuses_plain_http() -> None:
    with pytest.raises(ValueError, match="https"):
        GraphClient.with_secret(
            TENANT_ID, CLIENT_ID, CLIENT_SECRET, base_url="http://127.0.0.1:1/v1.0"
        )
    with pytest.raises(ValueError, match="https"):
        GraphClient.with_secret(
            TENANT_ID, CLIENT_ID, CLIENT_SECRET, authority_host="http://127.0.0.1:1"
        )


async def test_concurrent_first_calls_fetch_one_token(
    provider: GraphMeetingProvider, standin: GraphStandIn
) -> None:
    meetings = await asyncio.gather(*(book(provider, key=f"h-{n}") for n in range(5)))

    assert len({meeting.meeting_id for meeting in meetings}) == 5
    assert len(standin.token_requests) == 1


async def test_an_unknown_tenant_is_a_clear_auth_error(standin: GraphStandIn) -> None:
    async with GraphClient.with_secret(
        "00000000-0000-4000-8000-000000000000",
        CLIENT_ID,
        CLIENT_SECRET,
        authority_host=standin.authority_host,
        base_url=standin.graph_url,
        ca_file=standin.ca_file,
    ) as graph:
        with pytest.raises(GraphAuthError) as caught:
            await new_event(graph)

    assert caught.value.code == "token_unavailable"
    assert standin.token_requests == []
    assert [problem.split(":")[1].strip() for problem in standin.problems] == ["invalid_tenant"]
    standin.problems.clear()


async def test_retry_logs_carry_neither_token_nor_body(
    graph: GraphClient, standin: GraphStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.fail_next(2, 429, retry_after="1")

    with caplog.at_level(logging.DEBUG, logger="bot.integrations.graph"):
        await new_event(graph)

    logged = caplog.text
    assert "429" in logged
    assert standin.issued_tokens[0] not in logged
    assert "Bewerbung (Lebenslauf, Anschreiben)" not in logged
    assert COUNSELLOR not in logged


async def test_retry_after_as_http_date(
    graph: GraphClient, standin: GraphStandIn, sleeps: list[float]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    standin.fail_next(1, 503, retry_after=when)

    await new_event(graph)

    [delay] = sleeps
    assert 5 < delay <= 10


async def test_tls_is_verified(make_graph: MakeGraph, standin: GraphStandIn) -> None:
    """Without the stand-in's CA the connection is refused: verification is not off."""
    graph = make_graph(ca_file=None)

    with pytest.raises(GraphAuthError) as caught:
        await new_event(graph)

    assert caught.value.code == "token_unavailable"
    assert "SSLError" in caught.value.message
    assert standin.discovery_requests == 0
