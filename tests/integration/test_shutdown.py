"""SIGTERM to a real ``python -m bot`` in the middle of journeys: it turns not-ready, refuses
new turns with 503, finishes the turn in flight, exits 0 in time — and after a restart nothing
is lost or doubled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from bot.devtools.connector_standin import LocalConnector
from tests.integration.test_bot_processes import JOURNEY, assert_exactly_one_record_each, take_step
from tests.support.bot_process import ProcessBot
from tests.support.http_bot import TeamsClient

EXIT_BOUND_SECONDS = 20
HALFWAY = 4  # the step whose turn is in flight at SIGTERM


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Poll another process's doing (its log, a stand-in's counter): no event to wait on."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def status_of(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url) as response:
        return response.status


async def exit_code(bot: ProcessBot, timeout: float) -> tuple[int, float]:  # noqa: ASYNC109
    assert bot.process is not None
    started = time.monotonic()
    code = await asyncio.to_thread(bot.process.wait, timeout)
    return code, time.monotonic() - started


async def test_sigterm_mid_turn_finishes_it_refuses_new_ones_and_loses_nothing(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    storage_url = f"sqlite:///{tmp_path / 'bot.db'}"
    bot = ProcessBot(storage_url, tmp_path / "bot.log", env={"SHUTDOWN_DEREGISTER_SECONDS": "1"})
    bot.start()
    try:
        async with LocalConnector() as connector:
            walker = TeamsClient(http, bot, connector, aad_object_id="00000000-0000-4000-8000-1")
            late = TeamsClient(http, bot, connector, aad_object_id="00000000-0000-4000-8000-2")
            for step in JOURNEY[:HALFWAY]:
                await take_step(walker, step)
            gate = connector.hold()  # the connector is slow: the next turn stays in flight
            in_flight = asyncio.create_task(take_step(walker, JOURNEY[HALFWAY]))
            await until(lambda: connector.held > 0)

            bot.terminate()
            await until(lambda: "stopping" in bot.log.read_text())
            assert await status_of(http, bot.url("/readyz")) == 503
            assert await status_of(http, bot.url("/healthz")) == 200
            # still served while the load balancer lets go of the replica …
            assert await status_of(http, bot.url("/techcheck/static/app.js")) == 200
            await until(lambda: "refusing new requests" in bot.log.read_text())
            # … then refused, with a time to try again
            refused_status, _ = await late.post(late.activity("conversationUpdate"))
            assert refused_status == 503
            assert await status_of(http, bot.url("/techcheck/static/app.js")) == 503

            gate.set()
            await in_flight  # the turn in flight finished, with its reply
            code, took = await exit_code(bot, EXIT_BOUND_SECONDS)
            assert code == 0
            assert took < EXIT_BOUND_SECONDS
            log = bot.log.read_text()
            assert "drained" in log
            assert "Traceback" not in log

            bot.start()  # same port, same file
            async with aiohttp.ClientSession() as reconnected:
                walker.http = late.http = reconnected
                for step in JOURNEY[HALFWAY + 1 :]:
                    await take_step(walker, step)
                for step in JOURNEY:  # the refused client tries again, from the start
                    await take_step(late, step)
    finally:
        bot.stop()
    await assert_exactly_one_record_each(storage_url, [walker, late])


async def test_a_turn_that_outlasts_the_grace_period_is_cut_off_and_a_resend_acts_once(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    storage_url = f"sqlite:///{tmp_path / 'bot.db'}"
    bot = ProcessBot(
        storage_url,
        tmp_path / "bot.log",
        env={"SHUTDOWN_GRACE_SECONDS": "1", "SHUTDOWN_DEREGISTER_SECONDS": "0"},
    )
    bot.start()
    try:
        async with LocalConnector() as connector:
            walker = TeamsClient(http, bot, connector, aad_object_id="00000000-0000-4000-8000-3")
            for step in JOURNEY[:HALFWAY]:
                await take_step(walker, step)
            gate = connector.hold()  # not released before the process is gone
            stuck = asyncio.create_task(walker.post(walker.click_activity("Ja, die Teams-App")))
            await until(lambda: connector.held > 0)

            bot.terminate()
            code, took = await exit_code(bot, EXIT_BOUND_SECONDS)
            assert code == 0
            assert took < 5
            assert "cut off" in bot.log.read_text()
            stuck.cancel()
            # The turn had saved its state and was sending its reply (state first, replies
            # after); the connector had the reply, only its answer was late.
            gate.set()
            assert walker.said(JOURNEY[HALFWAY][2], walker.take_replies())

            bot.start()  # the channel delivers the unanswered activity again: it acts once
            async with aiohttp.ClientSession() as reconnected:
                walker.http = reconnected
                assert await walker.deliver(walker.posted[-1]) == []
                for step in JOURNEY[HALFWAY + 1 :]:
                    await take_step(walker, step)
    finally:
        bot.stop()
    await assert_exactly_one_record_each(storage_url, [walker])
