"""Two bot instances on one store (as behind a load balancer): every activity takes effect
exactly once, and racing turns lose nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.domain.consent import ConsentLog
from bot.domain.handoffs import Handoffs
from bot.hosting.turn_locks import KeyedLocks, LockTimeoutError
from bot.storage import DocumentStore
from tests.support.journey import CLIENT, Chat, reach_tech_check


@pytest.fixture
def instances(settings, store: DocumentStore) -> tuple[Chat, Chat]:
    return Chat(settings, store), Chat(settings, store)


async def test_the_same_delivery_on_two_instances_is_handled_once(
    instances: tuple[Chat, Chat], store: DocumentStore
) -> None:
    first, second = instances
    await reach_tech_check(first)
    await asyncio.gather(
        first.send("Laptop", activity_id="teams-1"),
        second.send("Laptop", activity_id="teams-1"),
    )
    answered = [chat for chat in instances if chat.last_replies]
    assert len(answered) == 1
    assert answered[0].texts()[-1].startswith("Haben Sie die App „Microsoft Teams“ auf dem Gerät?")

    winner = answered[0]
    await reach_consent_from_app_question(winner)
    agree = winner.button("Ja, ich bin einverstanden")
    await asyncio.gather(
        first.send(value=agree, activity_id="teams-2"),
        second.send(value=agree, activity_id="teams-2"),
    )
    assert len(await ConsentLog(store).events(CLIENT)) == 1


async def reach_consent_from_app_question(chat: Chat) -> None:
    for answer in ("Ja, die Teams-App", "Ja, beides", "Ja", "WLAN oder Flatrate (unbegrenzt)"):
        await chat.click(answer)


async def test_racing_turns_on_two_instances_lose_nothing(
    instances: tuple[Chat, Chat], settings, store: DocumentStore, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = instances
    await reach_tech_check(first)
    caplog.set_level(logging.INFO, logger="bot.hosting.activity_handler")
    await asyncio.gather(first.send("Laptop"), second.send("Hilfe"))
    assert first.said("Haben Sie die App „Microsoft Teams“ auf dem Gerät?") or second.said(
        "Haben Sie die App „Microsoft Teams“ auf dem Gerät?"
    )
    assert first.said("Video ist freiwillig.") or second.said("Video ist freiwillig.")
    # The device answer survived the race: a third instance continues after it.
    third = Chat(settings, store)
    for answer in ("ja", "ja", "ja", "wlan"):
        await third.send(answer)
    assert third.said("Ihr Ja zum Video-Gespräch (Einwilligung)")
    await third.send("einverstanden")
    await third.send("egal")
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.tech["quality"] == "720p"  # "Laptop" was recorded


async def test_a_turn_that_keeps_losing_the_race_apologises_and_changes_nothing(
    chat: Chat, store: DocumentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await reach_tech_check(chat)
    from bot.hosting.state_storage import DocumentStateStorage
    from bot.storage.documents import ConflictError

    async def always_stale(self, changes):  # another instance always saved first
        raise ConflictError("stale")

    monkeypatch.setattr(DocumentStateStorage, "write", always_stale)
    await chat.send("Laptop")
    assert chat.said("Entschuldigung, da ist bei uns etwas schiefgegangen.")
    assert not chat.said("Haben Sie die App")  # the lost turn's replies were never sent
    monkeypatch.undo()
    await chat.send("Laptop")
    assert chat.said("Haben Sie die App „Microsoft Teams“ auf dem Gerät?")


async def test_a_lock_not_free_in_time_says_so_and_leaves_nothing_behind() -> None:
    locks = KeyedLocks()
    async with locks.hold("conversation-1"):
        with pytest.raises(LockTimeoutError):
            async with locks.hold("conversation-1", wait_at_most=0.01):
                raise AssertionError("must not run while the turn holds the lock")
        assert len(locks) == 1
        async with locks.hold("conversation-2", wait_at_most=0.01):
            assert len(locks) == 2
    assert len(locks) == 0
