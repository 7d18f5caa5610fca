"""Prove that the Adaptive Cards harness (tests/support/adaptive_cards.py) can fail.

A harness that never reports anything is worthless, so every kind of defect we rely on it to
catch is checked here against the exact event the ``adaptivecards`` library (or the harness's
own extra checks, prefixed ``Harness/``) produces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import adaptive_cards

parse_cards = adaptive_cards.parse_cards

pytestmark = pytest.mark.node


def _card(
    body: list[dict[str, Any]] | None = None,
    actions: list[dict[str, Any]] | None = None,
    version: str = "1.5",
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": version,
        "body": body or [{"type": "TextBlock", "text": "Hallo", "wrap": True}],
    }
    if actions is not None:
        card["actions"] = actions
    return card


def _parse_one(card: dict[str, Any]) -> list[str]:
    (events,) = parse_cards([card])
    return events


VALID_CARD: dict[str, Any] = _card(
    body=[
        {"type": "TextBlock", "text": "Ihre Videoberatung", "weight": "Bolder", "wrap": True},
        {
            "type": "FactSet",
            "facts": [
                {"title": "Datum", "value": "01.07.2025"},
                {"title": "Uhrzeit", "value": "10:00"},
            ],
        },
        {
            "type": "Input.Toggle",
            "id": "consent",
            "title": "Ich bin einverstanden",
            "label": "Einverständnis",
            "valueOn": "true",
            "valueOff": "false",
        },
        {
            "type": "Input.ChoiceSet",
            "id": "topic",
            "label": "Thema",
            "style": "compact",
            "choices": [
                {"title": "Arbeitssuche", "value": "job"},
                {"title": "Leistungen", "value": "benefits"},
            ],
        },
        {
            "type": "Input.Text",
            "id": "note",
            "label": "Anmerkung",
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": "Bitte eine Anmerkung eingeben.",
        },
        {
            "type": "ActionSet",
            "actions": [
                {"type": "Action.Submit", "title": "Absenden", "data": {"action": "submit"}},
            ],
        },
    ],
    actions=[
        {"type": "Action.Submit", "title": "Weiter", "data": {"action": "next"}},
        {"type": "Action.OpenUrl", "title": "Hilfe", "url": "https://example.org/hilfe"},
    ],
)


def test_valid_1_5_card_has_no_events() -> None:
    assert _parse_one(VALID_CARD) == []


def test_unknown_element_type_is_reported() -> None:
    events = _parse_one(_card(body=[{"type": "Input.Bogus", "id": "x"}]))
    assert events == [
        'Parse/UnknownElementType: Unknown element type "Input.Bogus". '
        "Fallback will be used if present."
    ]


def test_unknown_action_type_is_reported() -> None:
    events = _parse_one(_card(actions=[{"type": "Action.Bogus", "title": "Los"}]))
    assert events == [
        'Parse/UnknownActionType: Unknown action type "Action.Bogus". '
        "Fallback will be used if present."
    ]


def test_card_version_above_1_5_is_reported() -> None:
    events = _parse_one(_card(version="1.6"))
    assert events == [
        "Validation/UnsupportedCardVersion: The specified card version (1.6) is not supported "
        "or still in preview. The latest released card version is 1.5."
    ]


def test_element_newer_than_1_5_is_reported() -> None:
    # Carousel is registered for schema 1.6, so with target version 1.5 it is unknown.
    events = _parse_one(_card(body=[{"type": "Carousel", "pages": []}]))
    assert events == [
        'Parse/UnknownElementType: Unknown element type "Carousel". '
        "Fallback will be used if present."
    ]


def test_property_newer_than_1_5_is_reported() -> None:
    events = _parse_one(
        _card(body=[{"type": "Image", "url": "https://example.org/a.png", "forceLoad": True}])
    )
    assert events == [
        'Parse/UnsupportedProperty: Property "forceLoad" is supported in version 1.6, '
        "but you are using version 1.5."
    ]


def test_open_url_without_url_is_reported() -> None:
    events = _parse_one(_card(actions=[{"type": "Action.OpenUrl", "title": "Hilfe"}]))
    assert events == ['Validation/PropertyCantBeNull: Property "url" must be set.']


def test_input_without_id_is_reported() -> None:
    events = _parse_one(_card(body=[{"type": "Input.Text", "label": "Name"}]))
    assert events == ["Validation/PropertyCantBeNull: All inputs must have a unique Id."]


def test_duplicate_input_ids_are_reported() -> None:
    body = [
        {"type": "Input.Text", "id": "name", "label": "Vorname"},
        {"type": "Input.Text", "id": "name", "label": "Nachname"},
    ]
    assert _parse_one(_card(body=body)) == ['Validation/DuplicateId: Duplicate Id "name".']


def test_errors_inside_show_card_are_reported() -> None:
    show_card = {
        "type": "Action.ShowCard",
        "title": "Mehr",
        "card": {"type": "AdaptiveCard", "body": [{"type": "Input.Bogus"}]},
    }
    events = _parse_one(_card(actions=[show_card]))
    assert events == [
        'Parse/UnknownElementType: Unknown element type "Input.Bogus". '
        "Fallback will be used if present."
    ]


def test_missing_version_is_reported() -> None:
    # The library silently defaults a missing version to 1.0; the harness checks it itself.
    card = _card()
    del card["version"]
    assert _parse_one(card) == [
        'Harness/MissingCardVersion: top-level "version" must be set (e.g. "1.5")'
    ]


def test_wrong_card_type_is_reported() -> None:
    card = _card()
    card["type"] = "MessageCard"
    assert _parse_one(card) == [
        "Validation/MissingCardType: Invalid or missing card type. "
        'Make sure the card\'s type property is set to "AdaptiveCard".'
    ]


def test_missing_card_type_is_reported() -> None:
    # The library silently defaults a missing type to "AdaptiveCard"; the harness checks it.
    card = _card()
    del card["type"]
    assert _parse_one(card) == ['Harness/MissingCardType: top-level "type" must be "AdaptiveCard"']


def test_batch_keeps_order() -> None:
    cards = [
        VALID_CARD,
        _card(body=[{"type": "Input.Bogus"}]),
        VALID_CARD,
        _card(version="1.6"),
    ]
    results = parse_cards(cards)
    assert len(results) == 4
    assert results[0] == []
    assert results[2] == []
    assert len(results[1]) == 1
    assert '"Input.Bogus"' in results[1][0]
    assert len(results[3]) == 1
    assert "UnsupportedCardVersion" in results[3][0]


def test_empty_batch() -> None:
    assert parse_cards([]) == []


def test_missing_node_package_raises_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(adaptive_cards, "ADAPTIVECARDS_PACKAGE", tmp_path / "adaptivecards")
    with pytest.raises(RuntimeError, match="npm install"):
        parse_cards([VALID_CARD])
