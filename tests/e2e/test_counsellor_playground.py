"""The counsellor's side in Microsoft's Agents Playground: the Playground's user is the
counsellor, a client talks to the same bot over HTTP, and the handoff card is rendered,
filled in and clicked in Microsoft's own Adaptive Card renderer.

Who the Playground is: it always acts as "Alex Wilber", the ``currentUser`` of the default
configuration bundled in ``@microsoft/m365agentsplayground`` (``dist/index.js``; no
``.m365agentsplayground.yml`` in the working directory): ``from.id`` ``user-id-0``,
``from.aadObjectId`` ``00000000-0000-0000-0000-0000000000020`` (13 digits in the last group,
not a well-formed GUID, which the bot does not check), tenant
``00000000-0000-0000-0000-0000000000001``, locale en-US. A stand-in bot that recorded the
Playground's activities confirmed that it sends this object id on installationUpdate,
conversationUpdate, message and invoke activities, so listing it in ``COUNSELLOR_OBJECT_IDS``
makes the Playground's user a counsellor (``COUNSELLOR_TENANT_IDS`` stays empty: local mode).

What the Playground supports (0.2.28): ``Action.Execute`` works. A click sends an ``invoke``
named ``adaptiveCard/action`` with ``value.action = {type, title, verb, data}`` (the card's
inputs merged into ``data``; no ``trigger``) and replaces the card in place with the card of
the invoke response. Proactive messages and in-place updates (PUT) to the stored conversation
reference are accepted and shown in the open chat. The card's ``refresh`` (user-specific
views) is not: the Playground shows "User specific view is not supported yet" under the card
and never sends the ``refresh`` invoke.

Steps: (1) the counsellor opens the chat and is registered; (2) types "Invitation" and the
code is read off the invitation card; (3) a client (``TeamsClient`` + ``LocalConnector`` from
the integration tests, on an asyncio loop in a background thread, because Playwright's sync
API holds the main thread's loop) links with the code and walks the German journey; (4) the
handoff card arrives proactively in the Playground; (5) the counsellor clicks "Create video
meeting and send link" with the pre-filled future date and time, and the card says the
appointment is set; (6) the client got the join card with the meeting link exactly once.

Run with ``UPDATE_SCREENSHOT=1`` to refresh ``docs/counsellor-card.png`` (the handoff card).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import threading
from collections.abc import Coroutine, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from playwright.sync_api import Locator, Page, expect

from bot.devtools.connector_standin import LocalConnector
from bot.domain.local_time import BERLIN
from tests.support.bot_process import BotService
from tests.support.http_bot import TeamsClient
from tests.support.http_journey import walk_to_handoff
from tests.support.playground_chat import PlaygroundChat

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "counsellor-card.png"
PLAYGROUND_USER_OBJECT_ID = "00000000-0000-0000-0000-0000000000020"
MEETING_LINK = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_playground_e2e"
CLIENT_OBJECT_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
CLIENT_NAME = "Erika Muster"
CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")
CARD = "application/vnd.microsoft.card.adaptive"
JOIN_TITLE = "Ihr Videotermin steht"
SCHEDULE_BUTTON = "Create video meeting and send link"
CLIENT_TIMEOUT_S = 60
MONDAY, THURSDAY = 0, 3

T = TypeVar("T")


@pytest.fixture(autouse=True)
def counsellor_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Playground's user is the counsellor; meetings use one fixed link (no Graph).

    Autouse fixtures run before the other fixtures of their scope, so ``bot_service`` (which
    starts the bot with ``os.environ`` as the base of its environment) sees these. The empty
    values keep a developer's environment or ``.env`` from changing what the test sees.
    """
    monkeypatch.setenv("COUNSELLOR_OBJECT_IDS", PLAYGROUND_USER_OBJECT_ID)
    monkeypatch.setenv("MEETING_DEFAULT_LINK", MEETING_LINK)
    for name in (
        "COUNSELLOR_TENANT_IDS",
        "COUNSELLOR_GROUP_IDS",
        "COUNSELLOR_QUEUE_IDS",
        "MEETING_LINKS",
        "GRAPH_TENANT_ID",
        "GRAPH_CLIENT_ID",
        "GRAPH_CLIENT_SECRET",
    ):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("GRAPH_USE_MANAGED_IDENTITY", "false")


@dataclass(frozen=True)
class BotAddress:
    """What ``TeamsClient`` needs of a bot: where to post (the bot runs as a child process)."""

    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class ClientSide:
    """A Teams client over HTTP, on its own asyncio loop in a background thread.

    Playwright's sync API keeps an asyncio loop running on the main thread, so the client's
    coroutines (aiohttp, the ``LocalConnector`` that receives the bot's replies) run on a
    loop of their own; :meth:`run` waits for one of them from the test.
    """

    def __init__(self, bot_port: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="teams-client", daemon=True
        )
        self._thread.start()
        self.connector, self._http = self.run(self._open())
        self.client = TeamsClient(
            self._http,
            BotAddress(bot_port),  # type: ignore[arg-type]  # duck-typed RunningBot
            self.connector,
            aad_object_id=CLIENT_OBJECT_ID,
            name=CLIENT_NAME,
        )

    @staticmethod
    async def _open() -> tuple[LocalConnector, aiohttp.ClientSession]:
        connector = LocalConnector()  # created on the client's loop, which it then uses
        await connector.start()
        return connector, aiohttp.ClientSession()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = CLIENT_TIMEOUT_S) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def close(self) -> None:
        async def shut() -> None:
            await self._http.close()
            await self.connector.stop()

        try:
            self.run(shut())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CLIENT_TIMEOUT_S)
            self._loop.close()


@pytest.fixture
def client_side(bot_service: BotService) -> Iterator[ClientSide]:
    side = ClientSide(bot_service.port)
    try:
        yield side
    finally:
        side.close()


async def link_and_walk_to_handoff(client: TeamsClient, code: str) -> str:
    """The client installs, types the code and clicks through the journey in German;
    returns the consent receipt number."""
    await client.install()
    await client.say(code.lower().replace("-", " "))  # typed sloppily, as people do
    assert client.said("Sie sind jetzt mit Ihrer Beraterin oder Ihrem Berater verbunden.")
    return await walk_to_handoff(client, days="mon,thu")


def join_cards(connector: LocalConnector, conversation_id: str) -> list[dict[str, Any]]:
    """The appointment cards ("Ihr Videotermin steht") the client received."""
    return [
        attachment["content"]
        for activity in connector.activities(conversation_id)
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == CARD
        and JOIN_TITLE in json.dumps(attachment["content"], ensure_ascii=False)
    ]


def handoffs(database: Path) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT body FROM documents WHERE kind = 'handoff'").fetchall()
    return [json.loads(body) for (body,) in rows]


def facts_of(card: Locator) -> dict[str, str]:
    """The FactSet of a rendered card (the renderer lays it out as a grid of title and value)."""
    titles = [text.strip() for text in card.locator(".ac-fact-title").all_inner_texts()]
    values = [text.strip() for text in card.locator(".ac-fact-value").all_inner_texts()]
    return dict(zip(titles, values, strict=True))


def test_counsellor_schedules_a_video_meeting_in_the_playground(
    page: Page, playground_chat: PlaygroundChat, client_side: ClientSide, bot_service: BotService
) -> None:
    chat = playground_chat

    # (1) Opening the Playground installs the app: the counsellor is registered (in English,
    # because the Playground sends locale en-US).
    chat.bot_says("Welcome! You are registered as a counsellor.")

    # (2) An invitation code for the client.
    chat.type("Invitation")
    invitation = chat.card_titled("Invitation to a video consultation")
    found = CODE.search(invitation.inner_text())
    assert found, invitation.inner_text()
    code = found.group(0)

    # (3) The client, in another conversation with the same bot, links and walks the journey.
    client = client_side.client
    receipt = client_side.run(link_and_walk_to_handoff(client, code))

    # (4) The handoff card arrives proactively in the counsellor's (the Playground's) chat.
    card = chat.card_titled(f"Request: {CLIENT_NAME}")
    expect(card).to_contain_text("New – please set an appointment.")
    facts = facts_of(card)
    assert facts["Request"] == "Consultation", facts
    assert facts["Topic"] == "Job applications (CV, cover letter)", facts
    assert facts["Type"] == "By video", facts
    assert (
        facts["Times"] == "Monday: mornings (8 am – 12 noon); Thursday: mornings (8 am – 12 noon)"
    ), facts
    assert facts["Technology"].startswith("Your device is ready."), facts
    assert facts["Consent"] == f"given ({receipt})", facts
    # Microsoft's renderer shows Input.Date and Input.Time as a date picker and a time
    # dropdown in the browser's locale ("30. November 2026", "9:00"); what they hold is
    # checked below in what the click sends.
    expect(card.get_by_label("Date")).not_to_be_empty()
    expect(card.get_by_label("Time")).not_to_be_empty()
    schedule = card.get_by_role("button", name=SCHEDULE_BUTTON, exact=True)
    for other in ("Offer a phone call instead", "Close"):
        expect(card.get_by_role("button", name=other, exact=True)).to_be_visible()
    expect(schedule).to_be_visible()
    assert join_cards(client_side.connector, client.conversation_id) == []
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        card.scroll_into_view_if_needed()
        box = card.bounding_box()
        assert box is not None
        top, side, bottom = 40, 20, 16  # the chat bubble with its "Test Bot" header line
        page.screenshot(
            path=SCREENSHOT,
            clip={
                "x": box["x"] - side,
                "y": box["y"] - top,
                "width": box["width"] + 2 * side,
                "height": box["height"] + top + bottom,
            },
        )

    # (5) One click: the Playground sends the invoke (the card's inputs merged into the data)
    # and shows the card the bot answers with in place of the old one.
    with page.expect_response("**/_conversation/v1/invoke") as invoked:
        schedule.click()
    sent = invoked.value.request.post_data_json
    assert sent["name"] == "adaptiveCard/action", sent
    action = sent["value"]["action"]
    assert (action["type"], action["verb"]) == ("Action.Execute", "schedule"), action
    start = datetime.combine(
        date.fromisoformat(action["data"]["date"]),
        time.fromisoformat(action["data"]["time"]),
        BERLIN,
    )
    # Pre-filled with the client's first window: the next Monday or Thursday, 9:00.
    assert start > datetime.now(BERLIN), action
    assert start.weekday() in {MONDAY, THURSDAY}, action
    assert action["data"]["time"] == "09:00", action
    assert invoked.value.ok, invoked.value.status
    assert "Appointment set" in invoked.value.text()
    expect(card).to_contain_text("Appointment set; the client has the link.")
    expect(schedule).to_be_hidden()
    expect(card.locator(".ac-fact-title").filter(has_text="Appointment")).to_be_visible()
    assert chat.cards.filter(has_text=f"Request: {CLIENT_NAME}").count() == 1

    # (6) The client got the join card with the meeting link, exactly once.
    [join] = join_cards(client_side.connector, client.conversation_id)
    links = [action.get("url") for action in join.get("actions", [])]
    assert MEETING_LINK in links, join

    # The bot's records agree, and the Playground accepted both the proactive card and its
    # in-place update (the bot PUTs the new card to the Playground's connector, too).
    [handoff] = handoffs(bot_service.database)
    assert handoff["status"] == "scheduled", handoff
    assert handoff["counsellor_id"] == PLAYGROUND_USER_OBJECT_ID, handoff
    assert handoff["meeting"]["join_url"] == MEETING_LINK, handoff
    assert handoff["delivery"] == {PLAYGROUND_USER_OBJECT_ID: "sent"}, handoff
