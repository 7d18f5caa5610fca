"""Card templates: bound safely, and every card the bot sends parses cleanly in Microsoft's
Adaptive Cards renderer (schema 1.5, what Teams renders)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import cards
from bot.storage import DocumentStore
from tests.support.adaptive_cards import parse_cards
from tests.support.journey import Chat, reach_consent, reach_tech_check


def test_user_text_cannot_change_a_cards_structure() -> None:
    hostile = '", "type": "Action.OpenUrl", "url": "https://evil.example" } ] } ${card}'
    card = cards.render(
        "question",
        {
            "card": "c1",
            "retry": False,
            "retry_text": "",
            "intro": [{"text": hostile}],
            "question": hostile,
            "choices": [{"id": "x", "title": hostile}],
            "help_label": "Hilfe",
            "restart_label": "Neu starten",
            "fallback": hostile,
        },
    )
    assert card["body"][1]["text"] == hostile
    assert card["body"][-1]["actions"][0]["title"] == hostile
    assert "evil.example" not in json.dumps([a.get("url") for a in card["actions"]])
    assert not any(a.get("type") == "Action.OpenUrl" for a in card["actions"])


def test_when_and_data_shape_the_card() -> None:
    data = {
        "card": "c9",
        "retry": True,
        "retry_text": "Nochmal bitte",
        "intro": [],
        "question": "Q?",
        "choices": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}],
        "help_label": "Hilfe",
        "restart_label": "Neu starten",
        "fallback": "Q?",
    }
    card = cards.render("question", data)
    assert card["body"][0]["text"] == "Nochmal bitte"
    assert [block["actions"][0]["data"] for block in card["body"][2:]] == [
        {"card": "c9", "answer": "a"},
        {"card": "c9", "answer": "b"},
    ]
    assert cards.render("question", {**data, "retry": False})["body"][0]["text"] == "Q?"


def test_missing_data_fails_loudly() -> None:
    with pytest.raises(cards.TemplateError, match="fallback"):
        cards.render("language", {"question": "?", "languages": []})


async def collect_cards(chat: Chat) -> list[dict[str, Any]]:
    """Walk the paths that show every kind of card; keep every card the bot sent."""
    sent: list[dict[str, Any]] = []

    async def step(coroutine: Any) -> None:
        await coroutine
        sent.extend(chat.cards())

    await step(reach_consent(chat))
    await step(chat.send("Hilfe"))
    await step(chat.send("Sprache"))
    await step(chat.click("Sprache wählen", locale="en"))
    await step(chat.send("Deutsch"))
    await step(chat.send("Sanktion"))  # the benefits card
    await step(chat.click("Hier weitermachen"))
    await step(chat.click("Ja, ich bin einverstanden"))
    await step(chat.send("kein Tag"))
    await step(chat.click("Weiter", days="", parts=""))  # asks whether any time suits
    await step(chat.send("Neu starten"))  # asks first
    await step(chat.send("nein"))
    await step(chat.send("ja"))
    await step(chat.send("Meine Daten löschen"))
    await step(chat.send("ja"))
    await step(reach_tech_check(chat))
    await step(chat.click("Smartphone (Handy)"))
    await step(chat.click("Nein, ich nutze einen Browser"))
    await step(chat.click("Nein, keins von beiden"))
    await step(chat.click("Nein"))
    await step(chat.click("Mobile Daten (begrenzt)"))
    await step(chat.send("50 MB"))
    await step(chat.click("Rufen Sie mich an (Hilfe bei der Technik)"))
    await step(chat.send("1234"))
    await step(chat.send("Neu starten"))
    await step(chat.send("ja"))
    for answer in (
        "Bewerbung (Lebenslauf, Anschreiben)",
        "Per Video",
        "Smartphone (Handy)",
        "Ja, die Teams-App",
        "Ja, beides",
        "Ja",
    ):
        await step(chat.click(answer))
    await step(chat.click("Mobile Daten (begrenzt)"))
    await step(chat.send("1 GB"))  # the result with ways to save data
    return sent


@pytest.mark.node
async def test_every_card_the_bot_sends_parses_without_warnings(
    chat: Chat, store: DocumentStore
) -> None:
    sent = await collect_cards(chat)
    kinds = {card["fallbackText"].split("\n")[0] for card in sent}
    assert len(sent) >= 20
    assert len(kinds) >= 15
    results = parse_cards(sent)
    problems = {
        card["fallbackText"][:60]: events
        for card, events in zip(sent, results, strict=True)
        if events
    }
    assert problems == {}
    for card in sent:
        assert card["version"] == "1.5"
        assert card["fallbackText"].strip()


@pytest.mark.node
def test_every_template_is_used_by_the_journey() -> None:
    """A template no card builder renders would be dead code; the journey tests render all."""
    root = cards.TEMPLATES_DIR.parent.parent
    used = set()
    for path in [*(root / "dialogs").glob("*.py"), *(root / "cards").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= {name for name in cards.template_names() if f'"{name}"' in text}
    assert used == set(cards.template_names())


@pytest.mark.node
async def test_counsellor_and_appointment_cards_parse_without_warnings(
    store: DocumentStore,
) -> None:
    from bot.domain.counsellors import CaseloadEntry
    from bot.domain.handoffs import Handoff
    from bot.domain.invitations import Invitations
    from bot.i18n import staff_translator
    from cards.counsellor_cards import (
        appointment_card,
        handoff_card,
        invitation_card,
        overview_card,
        phone_offer_card,
    )

    base = Handoff(
        handoff_id="h-1",
        client_id="c-1",
        client_name="Erika Muster",
        purpose="consultation",
        consultation_type="video",
        topic="application",
        windows=["mon-morning"],
        tech={
            "outcome": "ready_with_advice",
            "advice": ["tech.advice.volume_tight"],
            "mb_60_min": 450,
        },
        consent_status="pending_verification",
        receipt_id="VB-TEST-0001",
        delivery={"c": "not_installed"},
    )
    meeting = {
        "id": "m-1",
        "join_url": "https://teams.microsoft.com/l/meetup-join/x",
        "start": "2026-12-01T10:00:00+01:00",
        "end": "2026-12-01T10:45:00+01:00",
    }
    variants = [
        base,
        Handoff(**{**base.to_body(), "status": "scheduled", "meeting": meeting}),
        Handoff(
            **{**base.to_body(), "purpose": "tech_help", "phone": "0171", "phone_offer": "offered"}
        ),
        Handoff(**{**base.to_body(), "status": "cancelled", "client_name": ""}),
    ]
    issued = await Invitations(
        store, "pepper-for-card-tests", bot_app_id="9e1a7f3c-5b2d-4c8e-a1f0-3d6b8c2e4f71"
    ).create("c")
    sent: list[dict] = []
    for locale in ("de", "en"):
        t = staff_translator(locale)
        sent += [handoff_card(t, handoff, event="consent_withdrawn") for handoff in variants]
        for activity in (
            appointment_card(t, variants[1], 450),
            phone_offer_card(t, base),
            invitation_card(t, issued),
            overview_card(t, [CaseloadEntry("c-1", "Erika Muster", "ready", topic="application")]),
            overview_card(t, []),
        ):
            sent.append(activity.attachments[0].content)
    problems = {
        card["fallbackText"][:50]: events
        for card, events in zip(sent, parse_cards(sent), strict=True)
        if events
    }
    assert problems == {}
