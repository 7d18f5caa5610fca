"""Telemetry as it leaves a real ``python -m bot``: spans and metrics reach a loopback stand-in
of Application Insights' ingestion (the Azure Monitor distro, as in production) or of an OTLP
collector — and carry no message text, names, phone numbers, client ids or tokens. Without
either setting nothing is exported."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.devtools.connector_standin import LocalConnector
from tests.integration.test_bot_processes import JOURNEY, take_step
from tests.support.bot_process import ProcessBot
from tests.support.http_bot import TeamsClient
from tests.support.telemetry_sink import TelemetrySink

CLIENT_ID = "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
PHONE = "0171 2345678"
#: every turn traced (the default samples by rate: at most five a second)
QUIET = {
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    "LOG_FORMAT": "json",
    "OTEL_TRACES_SAMPLER": "always_on",
}


@pytest.fixture
async def sink() -> AsyncIterator[TelemetrySink]:
    async with TelemetrySink() as running:
        yield running
        assert running.problems == []


async def journeys_then_sigterm(
    tmp_path: Path, http: aiohttp.ClientSession, env: dict[str, str]
) -> tuple[list[TeamsClient], ProcessBot]:
    """A whole video journey and a phone request, then the orchestrator's SIGTERM."""
    bot = ProcessBot(f"sqlite:///{tmp_path / 'bot.db'}", tmp_path / "bot.log", env=env)
    bot.start()
    try:
        async with LocalConnector() as connector:
            client = TeamsClient(http, bot, connector, aad_object_id=CLIENT_ID)
            for step in JOURNEY:
                await take_step(client, step)
            caller = TeamsClient(
                http,
                bot,
                connector,
                aad_object_id="00000000-0000-4000-8000-00000000ca11",
                name="Jürgen Özdemir",
            )
            await caller.install()
            await caller.click("Bewerbung (Lebenslauf, Anschreiben)")
            await caller.click("Per Telefon")
            await caller.say(PHONE)
            bot.terminate()
            assert bot.process is not None
            assert await asyncio.to_thread(bot.process.wait, 30) == 0
    finally:
        bot.stop()
    return [client, caller], bot


def personal_data(clients: list[TeamsClient]) -> list[str]:
    """What must never leave the service in telemetry."""
    about_them = [
        detail
        for client in clients
        for detail in (client.name, client.aad_object_id, client.user_id, client.conversation_id)
    ]
    return [
        *about_them,
        "Dienstag nachmittags",  # typed by the client
        "Tablet",
        PHONE,
        PHONE.replace(" ", ""),
        "Bearer",
        "pepper",
    ]


def assert_none_of(needles: list[str], haystack: list[str]) -> None:
    text = "\n".join(haystack)
    assert [needle for needle in needles if needle.lower() in text.lower()] == []


async def test_application_insights_receives_turns_children_and_metrics_without_personal_data(
    tmp_path: Path, http: aiohttp.ClientSession, sink: TelemetrySink
) -> None:
    env = {**QUIET, "APPLICATIONINSIGHTS_CONNECTION_STRING": sink.connection_string}
    clients, bot = await journeys_then_sigterm(tmp_path, http, env)

    requests = sink.items("RequestData")
    turns = [item for item in requests if "bot.activity_type" in item["properties"]]
    assert len(turns) >= len(JOURNEY) + 4
    assert {item["name"] for item in turns} == {"POST /api/messages"}
    steps = {item["properties"].get("bot.journey.step") for item in turns}
    assert {"tech_check", "consent", "handoff"} <= steps
    assert {item["properties"]["bot.outcome"] for item in turns} == {"ok"}
    assert {item["properties"]["bot.role"] for item in turns} == {"client"}
    assert all(item["responseCode"] == "201" and item["success"] for item in turns)

    dependencies = sink.items("RemoteDependencyData")
    names = {item["name"] for item in dependencies}
    assert "storage.get state" in names
    assert "storage.create consent_event" in names
    assert "POST /v3/conversations/{id}/activities" in names  # the connector, ids left out
    turn_operations = {
        envelope["tags"]["ai.operation.id"]
        for envelope in sink.envelopes
        if envelope["data"]["baseType"] == "RequestData"
    }
    children = [
        envelope
        for envelope in sink.envelopes
        if envelope["data"]["baseType"] == "RemoteDependencyData"
        and envelope["data"]["baseData"]["name"].startswith("storage.")
    ]
    assert children
    # every storage call is a child of a turn: none outside one (the purge at start-up)
    assert {child["tags"]["ai.operation.id"] for child in children} <= turn_operations
    assert all("ai.operation.parentId" in child["tags"] for child in children)

    assert {"bot.turns", "bot.turn.duration", "bot.storage.duration"} <= sink.metric_names()
    assert_none_of(personal_data(clients), sink.raw)

    lines = [json.loads(line) for line in bot.log.read_text().splitlines() if line.startswith("{")]
    assert lines
    assert {"time", "level", "logger", "message"} <= set(lines[0])


async def test_an_otlp_collector_receives_the_same_spans_and_metrics(
    tmp_path: Path, http: aiohttp.ClientSession, sink: TelemetrySink
) -> None:
    env = {**QUIET, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.origin}
    clients, _ = await journeys_then_sigterm(tmp_path, http, env)

    turns = [span for span in sink.otlp_spans if span["name"].startswith("turn ")]
    assert len(turns) >= len(JOURNEY) + 4
    assert {span["kind"] for span in turns} == {"SPAN_KIND_SERVER"}
    turn_ids = {span["spanId"] for span in turns}
    storage = [span for span in sink.otlp_spans if span["name"].startswith("storage.")]
    assert any(span.get("parentSpanId") in turn_ids for span in storage)
    assert {"bot.turns", "bot.storage.duration"} <= {metric["name"] for metric in sink.otlp_metrics}
    assert sink.envelopes == []
    assert_none_of(personal_data(clients), sink.raw)


async def test_without_an_exporter_nothing_is_sent(
    tmp_path: Path, http: aiohttp.ClientSession, sink: TelemetrySink
) -> None:
    _, bot = await journeys_then_sigterm(tmp_path, http, {"LOG_FORMAT": "json"})

    assert sink.raw == []
    assert "telemetry: exporting" not in bot.log.read_text()
