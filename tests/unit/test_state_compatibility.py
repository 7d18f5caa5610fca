"""Conversation state written before ``bot/`` was split into layers still loads after it.

The state holds jsonpickle class paths (``botbuilder.dialogs.dialog_state.DialogState``, and —
before the split — ``bot.techcheck.Outcome``). The documents in
``tests/support/state_before_the_layers.json`` were written by ``main`` before the move; a
client who was mid-journey then carries on where they were.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.domain.consent import ConsentLog
from bot.domain.handoffs import Handoffs
from bot.storage import DocumentStore
from tests.support.journey import CLIENT as CLIENT_OF_CHAT
from tests.support.journey import Chat, reach_consent

SAVED = json.loads(
    (Path(__file__).parents[1] / "support" / "state_before_the_layers.json").read_text("utf-8")
)["documents"]
CLIENT = "aad-client-1"


async def restore(store: DocumentStore, name: str) -> dict[str, Any]:
    documents = SAVED[name]
    for key, body in documents.items():
        await store.upsert("state", key, body, partition=key)
    return documents


def card_id(state: dict[str, Any], dialog_id: str) -> str:
    """The id of the card the saved dialog stack is waiting on."""
    for instance in state["_dialog_stack"]:
        if instance["id"] == dialog_id:
            return instance["state"]["card"]
        inner = instance["state"].get("dialogs")
        if inner:
            found = card_id(inner, dialog_id)
            if found:
                return found
    return ""


async def test_a_client_at_the_device_question_carries_on(chat: Chat, store: DocumentStore) -> None:
    await restore(store, "at_the_device_question")
    await chat.send("Smartphone")
    assert chat.said("Haben Sie die App „Microsoft Teams“ auf dem Gerät?")


async def test_a_client_at_the_consent_card_agrees_and_the_saved_tech_result_counts(
    chat: Chat, store: DocumentStore
) -> None:
    documents = await restore(store, "at_the_consent_card")
    state = documents[f"msteams/conversations/a:{CLIENT}"]["dialogs"]
    card = card_id(state, "consent.ask")
    await chat.send(value={"card": card, "answer": "agree", "agree": "true"})
    assert chat.said("Danke! Wir haben Ihre Einwilligung gespeichert.")
    await chat.click("Weiter", days="mon", parts="morning")
    assert chat.said(
        "Geschafft! Wir haben Ihre Anfrage an Ihre Beraterin oder Ihren Berater geschickt."
    )
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.tech["outcome"] == "ready"
    assert [event.action for event in await ConsentLog(store).events(CLIENT)] == ["given"]


async def classes_in_state(store: DocumentStore) -> set[str]:
    key = f"msteams/conversations/a:{CLIENT}"
    document = await store.get("state", key, partition=key)
    assert document is not None
    text = json.dumps(document.body)
    return set(re.findall(r'"py/(?:type|object)": "([\w.]+)"', text))


async def test_state_written_now_names_only_the_sdks_classes(
    chat: Chat, store: DocumentStore
) -> None:
    """A class of ours in stored state would tie stored conversations to its module path."""
    await restore(store, "at_the_consent_card")
    await chat.send("Hilfe")
    named = await classes_in_state(store)
    assert "botbuilder.dialogs.dialog_state.DialogState" in named
    assert all(name.startswith("botbuilder.") for name in named), named


async def test_a_whole_journey_keeps_only_plain_values_in_state(
    chat: Chat, store: DocumentStore
) -> None:
    await chat.install()
    answers = (
        "Bewerbung (Lebenslauf, Anschreiben)",
        "Per Video",
        "Smartphone (Handy)",
        "Ja, die Teams-App",
    )
    # no camera and no microphone: help is needed, and a call-back is asked for
    for answer in (*answers, "Nein, keins von beiden", "Ja", "WLAN oder Flatrate (unbegrenzt)"):
        await chat.click(answer)
        named = await classes_in_state(store)
        assert all(name.startswith("botbuilder.") for name in named), (answer, named)
    assert chat.said("Wie möchten Sie weitermachen?")
    await chat.click("Rufen Sie mich an (Hilfe bei der Technik)")
    named = await classes_in_state(store)
    assert all(name.startswith("botbuilder.") for name in named), named


async def test_a_client_at_the_times_card_saved_before_the_interpreter_step_carries_on(
    chat: Chat, store: DocumentStore
) -> None:
    """The handoff steps grew an interpreter question; a conversation saved in the old
    three steps (waiting on the times card, step 1) still ends in one handoff."""
    await reach_consent(chat)
    await chat.click("Ja, ich bin einverstanden")
    assert chat.said("Wann passt Ihnen ein Termin?")
    key = f"msteams/conversations/a:{CLIENT_OF_CHAT}"
    document = await store.get("state", key, partition=key)
    assert document is not None
    saved = json.dumps(document.body)
    assert saved.count('"id": "handoff.with_interpreter"') == 1
    old = re.sub(
        r'"id": "handoff.with_interpreter", "state": \{(.*?)"stepIndex": 2',
        r'"id": "handoff.steps", "state": {\1"stepIndex": 1',
        saved,
    )
    assert old != saved
    await store.upsert("state", key, json.loads(old), partition=key)
    await chat.click("Weiter", days="mon", parts="morning")
    assert chat.said("Geschafft! Wir haben Ihre Anfrage an Ihre Beraterin oder Ihren Berater")
    [handoff] = await Handoffs(store).for_client(CLIENT_OF_CHAT)
    assert handoff.windows == ["mon-morning"]
