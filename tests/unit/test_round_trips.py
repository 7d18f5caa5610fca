"""What a turn costs in storage: one state read and one state write in the steady state;
domain records are touched only when they change."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.storage import DocumentStore
from tests.support.journey import Chat, reach_tech_check
from tests.support.stores import CountingStore


@pytest.fixture
def counting(store: DocumentStore) -> CountingStore:
    return CountingStore(store)


async def test_a_steady_state_turn_reads_and_writes_bot_state_once(settings, counting) -> None:
    chat = Chat(settings, counting)
    await reach_tech_check(chat)
    for answer in ("Laptop", "ja", "ja"):  # questions inside one step: nothing else changes
        counting.calls.clear()
        await chat.send(answer)
        assert counting.calls == Counter({("get", "state"): 1, ("replace", "state"): 1}), answer


async def test_domain_records_are_written_only_when_they_change(settings, counting) -> None:
    chat = Chat(settings, counting)
    await reach_tech_check(chat)
    for answer in ("Laptop", "ja", "ja", "ja"):
        await chat.send(answer)
    counting.calls.clear()
    await chat.send("wlan")  # the tech check ends: the client's stage changes, and is counted
    writes = {op_kind for op_kind in counting.calls if op_kind[0] != "get"}
    assert writes == {("replace", "state"), ("replace", "profile"), ("create", "stats")}
    counting.calls.clear()
    await chat.send("wlan")  # not an answer to the consent question: nothing but state
    assert {kind for _, kind in counting.calls} == {"state"}
