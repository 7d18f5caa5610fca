"""Proactive messages through the real adapter to the local Bot Connector stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from botbuilder.core import MessageFactory

from bot.config import Settings
from bot.devtools.connector_standin import LocalConnector
from bot.domain.message_delivery import Delivery
from bot.hosting.adapter import create_adapter
from bot.hosting.proactive_messages import MAX_ATTEMPTS, ProactiveSender

CONVERSATION = "a:counsellor-1"


@pytest.fixture
async def connector() -> AsyncIterator[LocalConnector]:
    async with LocalConnector() as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
async def sender(waits: list[float]) -> AsyncIterator[ProactiveSender]:
    async def record(seconds: float) -> None:
        waits.append(seconds)

    adapter = create_adapter(Settings(_env_file=None))
    yield ProactiveSender(adapter, "", sleep=record)
    await adapter.bot_framework_authentication.session.close()


def reference(connector: LocalConnector) -> dict:
    return {
        "bot": {"id": "28:bot"},
        "user": {"id": "29:counsellor", "aadObjectId": "counsellor-1"},
        "conversation": {"id": CONVERSATION, "conversationType": "personal", "tenantId": "t1"},
        "channelId": "msteams",
        "serviceUrl": connector.service_url,
    }


async def test_a_message_arrives_and_can_be_updated(
    sender: ProactiveSender, connector: LocalConnector
) -> None:
    result = await sender.send(reference(connector), MessageFactory.text("Neue Anfrage"))
    assert result.ok
    [sent] = connector.activities(CONVERSATION)
    assert sent["text"] == "Neue Anfrage"
    updated = await sender.update(
        reference(connector), result.activity_id, MessageFactory.text("Erledigt")
    )
    assert updated.ok
    [update] = connector.updates()
    assert (update["id"], update["text"]) == (result.activity_id, "Erledigt")


async def test_app_removed_is_reported_without_retrying(
    sender: ProactiveSender, connector: LocalConnector, waits: list[float]
) -> None:
    connector.fail_next(status=403, body={"error": {"code": "BotNotInConversationRoster"}})
    result = await sender.send(reference(connector), MessageFactory.text("x"))
    assert result.delivery == Delivery.NOT_INSTALLED
    assert waits == []


async def test_throttling_waits_as_told_then_succeeds(
    sender: ProactiveSender, connector: LocalConnector, waits: list[float]
) -> None:
    connector.fail_next(status=429, headers={"Retry-After": "7"})
    result = await sender.send(reference(connector), MessageFactory.text("x"))
    assert result.ok
    assert waits == [7.0]


async def test_persistent_server_errors_are_reported_after_the_last_attempt(
    sender: ProactiveSender, connector: LocalConnector, waits: list[float]
) -> None:
    connector.fail_next(status=503, count=MAX_ATTEMPTS)
    result = await sender.send(reference(connector), MessageFactory.text("x"))
    assert result.delivery == Delivery.FAILED
    assert len(waits) == MAX_ATTEMPTS - 1
    assert connector.activities(CONVERSATION) == []
    connector.fail_next(status=429, count=MAX_ATTEMPTS)
    assert (await sender.send(reference(connector), MessageFactory.text("x"))).delivery == (
        Delivery.THROTTLED
    )
