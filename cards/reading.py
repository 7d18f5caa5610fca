"""What a card says and offers, for code that reads cards as a person would: the tests, the
benchmark's simulated clients."""

from __future__ import annotations

from typing import Any


def card_texts(node: Any) -> list[str]:
    """Every TextBlock and FactSet line, in reading order (action titles excluded)."""
    return _texts(node, hidden=True, facts=True)


def visible_texts(node: Any, facts: bool = True) -> list[str]:
    """What a client reads before tapping anything: ``card_texts`` without the elements a card
    hides until asked (``"isVisible": false``, such as the consent's full text); ``facts=False``
    leaves out FactSet lines (data such as a receipt number, not prose)."""
    return _texts(node, hidden=False, facts=facts)


def _texts(node: Any, hidden: bool, facts: bool) -> list[str]:
    """The one walk behind both: ``hidden`` keeps hidden elements, ``facts`` FactSet lines."""
    if isinstance(node, dict):
        if node.get("isVisible") is False and not hidden:
            return []
        if node.get("type") == "TextBlock":
            return [str(node.get("text", ""))]
        if node.get("type") == "FactSet":
            lines = [f"{fact['title']}: {fact['value']}" for fact in node.get("facts", [])]
            return lines if facts else []
        return [
            text
            for key, value in node.items()
            if key != "actions"
            for text in _texts(value, hidden, facts)
        ]
    if isinstance(node, list):
        return [text for item in node for text in _texts(item, hidden, facts)]
    return []


def card_actions(node: Any, kind: str = "Action.") -> list[dict[str, Any]]:
    """Every action (``kind`` narrows it, e.g. ``"Action.Submit"``), in order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith(kind):
            found.append(node)
        for value in node.values():
            found.extend(card_actions(value, kind))
    elif isinstance(node, list):
        for item in node:
            found.extend(card_actions(item, kind))
    return found
