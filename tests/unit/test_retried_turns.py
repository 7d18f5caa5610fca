"""A turn that loses the race for the conversation state runs again: it must have exactly the
effects of one, and the client must read exactly what a single run would have said.

The store below makes *every* turn lose once (its first state write fails as if another
instance had saved first), so every step of each journey runs twice. The same script runs
once more on a plain store; what the client reads must be the same, and the records must
show one event, one receipt, one handoff, one notification, one count per effect."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.domain.consent import ConsentLog
from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoffs, HandoffStatus
from bot.domain.stats import Metric, Stats
from bot.hosting.state_storage import STATE_KIND
from bot.i18n import translator
from bot.storage import DocumentStore, open_document_store
from bot.storage.documents import ConflictError, Document, JsonObject
from tests.support.journey import CLIENT, Chat, settings_for_tests
from tests.support.stores import DelegatingStore

Step = tuple[str, Any]  # ("install" | "click" | "say", argument)

TO_CONSENT: list[Step] = [
    ("install", None),
    ("click", ("Bewerbung (Lebenslauf, Anschreiben)", {})),
    ("click", ("Per Video", {})),
    ("click", ("Laptop oder Computer", {})),
    ("click", ("Ja, die Teams-App", {})),
    ("click", ("Ja, beides", {})),
    ("click", ("Ja", {})),
    ("click", ("WLAN oder Flatrate (unbegrenzt)", {})),
]
VIDEO_THEN_WITHDRAW: list[Step] = [
    *TO_CONSENT,
    ("say", "ABCD-EFGH"),  # a wrong invitation code: counted as one attempt
    ("click", ("Ja, ich bin einverstanden", {})),
    ("click", ("Weiter", {"days": "mon,wed", "parts": "morning"})),
    ("say", "Einwilligung widerrufen"),
    ("say", "Einwilligung widerrufen"),  # a second time: "already withdrawn", same receipt
]
CONSENT_DECLINED: list[Step] = [
    *TO_CONSENT,
    ("click", ("Nein, lieber Telefon oder vor Ort", {})),
    ("click", ("Vor Ort im Jobcenter", {})),
    ("say", "egal"),
]
TECH_HELP_THEN_PHONE: list[Step] = [
    ("install", None),
    ("click", ("Bewerbung (Lebenslauf, Anschreiben)", {})),
    ("click", ("Per Video", {})),
    ("click", ("Tablet", {})),
    ("click", ("Ja, die Teams-App", {})),
    ("click", ("Nein, keins von beiden", {})),
    ("click", ("Ja", {})),
    ("click", ("WLAN oder Flatrate (unbegrenzt)", {})),
    ("click", ("Lieber ein Telefon-Gespräch", {})),
    ("say", "0221 987654"),
    ("say", "Dienstag nachmittags"),
]


class EveryTurnLosesOnce(DelegatingStore):
    """The first write of each turn's state fails as if another instance had saved first."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.state_writes = 0
        self.forced = 0

    def _race(self, kind: str) -> None:
        if kind != STATE_KIND:
            return
        self.state_writes += 1
        if self.state_writes % 2 == 1:
            self.forced += 1
            raise ConflictError("another instance saved first (forced by the test)")

    async def create(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self._race(kind)
        return await super().create(kind, key, body, **options)

    async def replace(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self._race(kind)
        return await super().replace(kind, key, body, **options)

    async def upsert(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        self._race(kind)
        return await super().upsert(kind, key, body, **options)


RECEIPT = re.compile(r"VB-[A-Z0-9]{4}-[A-Z0-9]{4}")
CLOCK = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}, \d{1,2}:\d{2}(:\d{2})?|\d{1,2}:\d{2}")


def normalised(texts: list[str]) -> list[str]:
    """What the client read, with receipt numbers and clock times made comparable."""
    return [CLOCK.sub("<time>", RECEIPT.sub("<receipt>", text)) for text in texts]


async def run(chat: Chat, script: Sequence[Step]) -> list[list[str]]:
    said = []
    for action, argument in script:
        if action == "install":
            await chat.install()
        elif action == "click":
            title, inputs = argument
            await chat.click(title, **inputs)
        else:
            await chat.send(argument)
        said.append(chat.texts())
    return said


async def both_ways(tmp_path: Path, script: Sequence[Step]) -> tuple[Chat, DocumentStore, Any]:
    """Run ``script`` on a plain store and on one where every turn loses once; the racing
    chat, its store and the racing wrapper. Asserts the client read the same."""
    transcripts = []
    result: Any = None
    for name in ("plain", "racing"):
        settings = settings_for_tests(tmp_path / name)
        inner = open_document_store(settings.storage_url)
        await inner.open()
        store: DocumentStore = EveryTurnLosesOnce(inner) if name == "racing" else inner
        chat = Chat(settings, store)
        transcripts.append([normalised(texts) for texts in await run(chat, script)])
        result = (chat, store, inner)
        if name == "plain":
            await inner.close()  # an open aiosqlite connection keeps pytest from exiting
    plain, racing = transcripts
    for step, (expected, seen) in enumerate(zip(plain, racing, strict=True)):
        assert seen == expected, f"step {step} ({script[step]}) read differently"
    return result


async def test_consent_and_withdrawal_when_every_turn_runs_twice(tmp_path: Path) -> None:
    chat, store, inner = await both_ways(tmp_path, VIDEO_THEN_WITHDRAW)
    assert store.forced >= len(VIDEO_THEN_WITHDRAW) - 1  # every state-changing turn raced
    events = await ConsentLog(inner).events(CLIENT)
    assert [event.action for event in events] == ["given", "withdrawn"]
    given, _ = events
    [handoff] = await Handoffs(inner).for_client(CLIENT)
    assert handoff.receipt_id == given.receipt_id
    assert handoff.status == HandoffStatus.CANCELLED
    assert chat.notifier.events == [
        (handoff.handoff_id, HandoffEvent.REQUESTED),
        (handoff.handoff_id, HandoffEvent.CONSENT_WITHDRAWN),
    ]
    assert (await Stats(inner).weeks(1))[0].count(Metric.dropout("consent_withdrawn")) == 1
    await inner.close()


async def test_the_receipts_shown_are_the_ones_the_log_holds(tmp_path: Path) -> None:
    settings = settings_for_tests(tmp_path)
    inner = open_document_store(settings.storage_url)
    await inner.open()
    chat = Chat(settings, EveryTurnLosesOnce(inner))
    await run(chat, TO_CONSENT)
    await chat.click("Ja, ich bin einverstanden")
    [given] = await ConsentLog(inner).events(CLIENT)
    assert chat.said(f"Belegnummer: {given.receipt_id}")
    await chat.click("Weiter", days="tue", parts="afternoon")
    await chat.send("Einwilligung widerrufen")
    [_, withdrawn] = await ConsentLog(inner).events(CLIENT)
    assert chat.said(f"Belegnummer {withdrawn.receipt_id}")
    assert chat.said("Sie haben Ihre Einwilligung widerrufen")
    await chat.send("Einwilligung widerrufen")
    assert chat.said("Sie haben Ihre Einwilligung schon widerrufen")
    assert chat.said(f"Belegnummer {withdrawn.receipt_id}")
    assert len(await ConsentLog(inner).events(CLIENT)) == 2
    await inner.close()


async def test_declining_consent_counts_once_when_every_turn_runs_twice(tmp_path: Path) -> None:
    _, _, inner = await both_ways(tmp_path, CONSENT_DECLINED)
    assert await ConsentLog(inner).events(CLIENT) == []
    [handoff] = await Handoffs(inner).for_client(CLIENT)
    assert handoff.consultation_type == "in_person"
    assert (await Stats(inner).weeks(1))[0].count(Metric.dropout("consent_declined")) == 1
    await inner.close()


async def test_tech_help_and_phone_count_once_when_every_turn_runs_twice(tmp_path: Path) -> None:
    chat, _, inner = await both_ways(tmp_path, TECH_HELP_THEN_PHONE)
    [handoff] = await Handoffs(inner).for_client(CLIENT)
    assert (handoff.consultation_type, handoff.phone) == ("phone", "0221987654")
    assert chat.notifier.events == [(handoff.handoff_id, HandoffEvent.REQUESTED)]
    assert (await Stats(inner).weeks(1))[0].count(Metric.dropout("prefers_phone")) == 1
    await inner.close()


async def test_a_handoff_whose_turn_failed_is_still_told_when_the_message_comes_again(
    tmp_path: Path,
) -> None:
    """At least once for the counsellor: the handoff was stored, telling the counsellor
    failed, the turn apologised; Teams (or the client) sends the message again."""
    settings = settings_for_tests(tmp_path)
    store = open_document_store(settings.storage_url)
    await store.open()
    chat = Chat(settings, store)
    notifier = chat.notifier
    real_event = notifier.handoff_event
    failures = ["Teams did not answer"]

    async def flaky(handoff: Any, event: HandoffEvent) -> None:
        if failures:
            raise ConnectionError(failures.pop())
        await real_event(handoff, event)

    notifier.handoff_event = flaky  # type: ignore[method-assign]
    await run(chat, [*TO_CONSENT, ("click", ("Ja, ich bin einverstanden", {}))])
    times = {**chat.button("Weiter"), "days": "mon", "parts": "morning"}
    await chat.send(value=times, activity_id="times-1")
    assert chat.said("Entschuldigung, da ist bei uns etwas schiefgegangen.")
    await chat.send(value=times, activity_id="times-1")  # the same activity, sent again
    assert chat.said(
        "Geschafft! Wir haben Ihre Anfrage an Ihre Beraterin oder Ihren Berater geschickt."
    )
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert notifier.events == [(handoff.handoff_id, HandoffEvent.REQUESTED)]
    await chat.send(value=times, activity_id="times-2")  # a late double click: nothing more
    assert notifier.events == [(handoff.handoff_id, HandoffEvent.REQUESTED)]
    await store.close()


class AnotherInstanceFirst(DelegatingStore):
    """When armed, the next state write first lets ``other`` (a turn on another instance)
    run to its end: exactly what two instances racing on one conversation look like."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.other: Any = None

    async def _interleave(self, kind: str) -> None:
        if kind == STATE_KIND and self.other is not None:
            other, self.other = self.other, None
            await other()

    async def create(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        await self._interleave(kind)
        return await super().create(kind, key, body, **options)

    async def replace(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        await self._interleave(kind)
        return await super().replace(kind, key, body, **options)

    async def upsert(self, kind: str, key: str, body: JsonObject, **options: Any) -> Document:
        await self._interleave(kind)
        return await super().upsert(kind, key, body, **options)


@pytest.mark.parametrize("on_a_clicked", ["agree", "decline"])
async def test_two_buttons_of_one_consent_card_on_two_instances_are_one_answer(
    tmp_path: Path, on_a_clicked: str
) -> None:
    """Instance A takes one button of the consent card; just before A saves, instance B takes
    the other button of the same card and saves first. The first answer (A's) stands: B
    adopts it, and what the log holds is what B told the client."""
    settings = settings_for_tests(tmp_path)
    inner = open_document_store(settings.storage_url)
    await inner.open()
    racing = AnotherInstanceFirst(inner)
    on_a, on_b = Chat(settings, racing), Chat(settings, inner)
    await run(on_a, TO_CONSENT)
    clicks = {
        "agree": on_a.button("Ja, ich bin einverstanden"),
        "decline": on_a.button("Nein, lieber Telefon oder vor Ort"),
    }
    on_b_clicked = "decline" if on_a_clicked == "agree" else "agree"

    async def the_other_button_on_b() -> None:
        await on_b.send(value=clicks[on_b_clicked])

    racing.other = the_other_button_on_b
    await on_a.send(value=clicks[on_a_clicked])
    told = on_b.texts()  # B saved first: its replies are the ones the client reads
    events = await ConsentLog(inner).events(CLIENT)
    if on_a_clicked == "decline":
        assert any("Wie möchten Sie stattdessen mit uns sprechen?" in text for text in told), told
        assert events == []
    else:
        [given] = events
        assert f"Belegnummer: {given.receipt_id}" in told, told
    # A lost the race and, running again, found the card answered: it says what was chosen
    # (B's click), nothing more
    chosen = translator("de")(f"consent.answer.{on_b_clicked}")
    assert on_a.texts() == [translator("de")("common.already_chosen", choice=chosen)]
    await inner.close()
