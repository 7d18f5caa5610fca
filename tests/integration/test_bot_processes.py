"""Real bot processes: two instances behind one store (SQLite file or Cosmos DB server), and
a `kill -9` in the middle.

Turns of the same conversations alternate between the instances (as a load balancer would
route them), some run concurrently; afterwards every conversation must be complete with no
consent event or handoff lost or doubled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.devtools.connector_standin import LocalConnector
from bot.domain.consent import ConsentLog
from bot.domain.handoffs import Handoffs
from bot.storage import open_document_store
from tests.support.bot_process import ProcessBot
from tests.support.cosmos_server import CosmosServer, cosmos_server, fresh_database_name
from tests.support.http_bot import TeamsClient

# (action, argument, what the client must see afterwards)
JOURNEY: list[tuple[str, Any, str]] = [
    ("install", None, "Worüber möchten Sie sprechen?"),
    ("click", "Ausbildung", "Wie möchten Sie mit uns sprechen?"),
    ("click", "Per Video", "Welches Gerät nutzen Sie für das Video-Gespräch?"),
    (
        "say",
        "Tablet",
        "Haben Sie die App „Microsoft Teams“ auf dem Gerät?",
    ),
    ("click", "Ja, die Teams-App", "Hat Ihr Gerät eine Kamera und ein Mikrofon?"),
    ("click", "Ja, beides", "Haben Sie einen ruhigen Ort"),
    ("say", "ja", "Wie kommen Sie ins Internet?"),
    ("click", "WLAN oder Flatrate (unbegrenzt)", "Ihr Ja zum Video-Gespräch (Einwilligung)"),
    ("agree", None, "Wann passt Ihnen ein Termin?"),
    ("say", "Dienstag nachmittags", "Geschafft!"),
]


@pytest.fixture(scope="module")
def cosmos() -> Iterator[CosmosServer]:
    with cosmos_server() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("cosmos", marks=pytest.mark.node)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both production shapes: one SQLite file, or one (local) Azure Cosmos DB server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    server: CosmosServer = request.getfixturevalue("cosmos")
    return server.storage_url(fresh_database_name("procs"))


@pytest.fixture
def bots(storage_url: str, tmp_path: Path) -> Iterator[Callable[[], ProcessBot]]:
    started: list[ProcessBot] = []

    def start() -> ProcessBot:
        bot = ProcessBot(storage_url, tmp_path / f"bot{len(started)}.log")
        bot.start()
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


async def take_step(client: TeamsClient, step: tuple[str, Any, str]) -> None:
    action, argument, expected = step
    if action == "install":
        await client.install()
    elif action == "click":
        await client.click(argument)
    elif action == "say":
        await client.say(argument)
    else:
        await client.click("Ja, ich bin einverstanden")
    assert client.said(expected), (step, client.texts())


def clients(
    count: int, http: aiohttp.ClientSession, bot: Any, connector: LocalConnector
) -> list[TeamsClient]:
    return [
        TeamsClient(http, bot, connector, aad_object_id=f"00000000-0000-4000-8000-{index:012d}")
        for index in range(count)
    ]


async def assert_exactly_one_record_each(storage_url: str, people: list[TeamsClient]) -> None:
    store = open_document_store(storage_url)
    await store.open()
    try:
        for person in people:
            assert len(await Handoffs(store).for_client(person.aad_object_id)) == 1
            assert len(await ConsentLog(store).events(person.aad_object_id)) == 1
    finally:
        await store.close()


async def test_turns_alternating_between_two_instances_lose_and_double_nothing(
    bots: Callable[[], ProcessBot], http: aiohttp.ClientSession, storage_url: str
) -> None:
    first, second = bots(), bots()
    async with LocalConnector() as connector:
        people = clients(6, http, first, connector)

        async def walk(person: TeamsClient, offset: int) -> None:
            for index, step in enumerate(JOURNEY):
                person.bot = (first, second)[(index + offset) % 2]
                await take_step(person, step)

        await asyncio.gather(*(walk(person, offset) for offset, person in enumerate(people)))
    await assert_exactly_one_record_each(storage_url, people)


async def test_the_same_delivery_to_both_instances_at_once_is_handled_once(
    bots: Callable[[], ProcessBot], http: aiohttp.ClientSession, storage_url: str
) -> None:
    first, second = bots(), bots()
    async with LocalConnector() as connector:
        [person] = clients(1, http, first, connector)
        for step in JOURNEY[:8]:
            await take_step(person, step)
        agree = person.message(value=person.button("Ja, ich bin einverstanden"))
        person.bot = first
        results = await asyncio.gather(person.post(agree), _post_to(second, person, agree))
        assert [status for status, _ in results] == [201, 201]
        replies = person.take_replies()
        assert (
            sum(
                "Danke! Wir haben Ihre Einwilligung gespeichert." in text
                for text in person.texts(replies)
            )
            == 1
        )
        await take_step(person, JOURNEY[-1])
    await assert_exactly_one_record_each(storage_url, [person])


async def test_a_double_click_landing_on_both_instances_at_once_is_one_answer(
    bots: Callable[[], ProcessBot], http: aiohttp.ClientSession, storage_url: str
) -> None:
    """Two activities (two clicks) on the same card, each to another instance at the same
    moment: one consent event with the receipt the client reads, one handoff."""
    first, second = bots(), bots()
    async with LocalConnector() as connector:
        people = clients(4, http, first, connector)

        async def double_click(person: TeamsClient, title: str, **inputs: str) -> list[str]:
            clicks = [person.click_activity(title, **inputs) for _ in range(2)]
            results = await asyncio.gather(
                _post_to(first, person, clicks[0]), _post_to(second, person, clicks[1])
            )
            assert [status for status, _ in results] == [201, 201]
            return person.texts(person.take_replies())

        async def walk(person: TeamsClient) -> tuple[list[str], list[str]]:
            for step in JOURNEY[:8]:
                await take_step(person, step)
            consent = await double_click(person, "Ja, ich bin einverstanden")
            windows = await double_click(person, "Weiter", days="tue", parts="afternoon")
            return consent, windows

        seen = await asyncio.gather(*(walk(person) for person in people))
    store = open_document_store(storage_url)
    await store.open()
    try:
        for person, (consent, windows) in zip(people, seen, strict=True):
            [event] = await ConsentLog(store).events(person.aad_object_id)
            [handoff] = await Handoffs(store).for_client(person.aad_object_id)
            receipts = [text for text in consent if text.startswith("Belegnummer")]
            assert receipts == [f"Belegnummer: {event.receipt_id}"], consent
            assert handoff.receipt_id == event.receipt_id
            assert sum("Geschafft!" in text for text in windows) == 1, windows
    finally:
        await store.close()


async def _post_to(bot: ProcessBot, person: TeamsClient, body: dict[str, Any]) -> tuple[int, Any]:
    async with person.http.post(bot.url("/api/messages"), json=body) as response:
        return response.status, await response.text()


async def test_kill_9_in_the_middle_then_every_conversation_resumes_at_its_step(
    bots: Callable[[], ProcessBot], http: aiohttp.ClientSession, storage_url: str
) -> None:
    bot = bots()
    async with LocalConnector() as connector:
        people = clients(5, http, bot, connector)
        halfway = [3, 5, 7, 8, 9]  # each client stops at a different step

        async def first_part(person: TeamsClient, stop: int) -> None:
            for step in JOURNEY[:stop]:
                await take_step(person, step)

        await asyncio.gather(
            *(first_part(p, stop) for p, stop in zip(people, halfway, strict=True))
        )
        bot.kill_hard()
        bot.start()  # same port, same file

        async def rest(person: TeamsClient, stop: int) -> None:
            for step in JOURNEY[stop:]:
                await take_step(person, step)

        async with aiohttp.ClientSession() as reconnected:  # the old connections died with it
            for person in people:
                person.http = reconnected
            await asyncio.gather(*(rest(p, stop) for p, stop in zip(people, halfway, strict=True)))
    await assert_exactly_one_record_each(storage_url, people)
