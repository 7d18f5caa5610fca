"""Adaptive Card templates (one JSON file per card) and the binder that fills them.

Templates use a small subset of the Adaptive Cards Templating language:

* ``"${name}"`` as a whole string is replaced by the value (any JSON type);
* ``"text ${name} text"`` interpolates the value as text;
* ``"$data": "${items}"`` on an object inside an array repeats the object per item, with
  the item's fields in scope (``$root`` reaches the top-level data);
* ``"$when": "${flag}"`` keeps the object only when the value is truthy.

Data is bound into the *parsed* template, never into JSON text, so user input cannot
change a card's structure.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot.i18n import Translator, is_rtl

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_WHOLE = re.compile(r"^\$\{([^}]+)\}$")
_PART = re.compile(r"\$\{([^}]+)\}")
_MISSING = object()


class TemplateError(KeyError):
    """A template names data that was not given."""


@cache
def _template(name: str) -> dict[str, Any]:
    with (TEMPLATES_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def template_names() -> list[str]:
    return sorted(path.stem for path in TEMPLATES_DIR.glob("*.json"))


def render(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The card ``name`` with ``data`` bound in."""
    return _bind(copy.deepcopy(_template(name)), _Scope(data, data))


def card_message(t: Translator, name: str, data: dict[str, Any]) -> Activity:
    """A card activity in ``t``'s language; every card gets the common footer labels, and a
    language written right to left sets the card's ``rtl`` (Adaptive Cards 1.5)."""
    common = {
        "help_label": t("command.help.label"),
        "restart_label": t("command.restart.label"),
    }
    card = render(name, {**common, **data})
    if is_rtl(t.locale):
        card["rtl"] = True
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


def numbered(title: str, labels: list[str]) -> str:
    """Plain-text fallback of a card with choices."""
    lines = [title, *(f"{number}. {label}" for number, label in enumerate(labels, start=1))]
    return "\n".join(lines)


class _Scope:
    def __init__(self, data: Mapping[str, Any], root: Mapping[str, Any]) -> None:
        self.data = data
        self.root = root

    def lookup(self, path: str) -> Any:
        path = path.strip()
        parts = path.split(".")
        if parts[0] == "$root":
            value: Any = self.root
            parts = parts[1:]
        else:
            value = self.data
        for part in parts:
            value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
            if value is _MISSING:
                raise TemplateError(f"card data has no {path!r}")
        return value


def _bind(node: Any, scope: _Scope) -> Any:
    if isinstance(node, str):
        whole = _WHOLE.match(node)
        if whole:
            return scope.lookup(whole.group(1))
        return _PART.sub(lambda match: _as_text(scope.lookup(match.group(1))), node)
    if isinstance(node, list):
        return [bound for item in node for bound in _bind_item(item, scope)]
    if isinstance(node, dict):
        return {key: _bind(value, scope) for key, value in node.items()}
    return node


def _bind_item(item: Any, scope: _Scope) -> list[Any]:
    """An array element: may repeat (``$data``) or drop out (``$when``)."""
    if not isinstance(item, dict):
        return [_bind(item, scope)]
    item = dict(item)
    source = item.pop("$data", None)
    condition = item.pop("$when", None)
    scopes = [scope]
    if source is not None:
        items = _bind(source, scope)
        scopes = [_Scope(entry, scope.root) for entry in items or []]
    bound = []
    for each in scopes:
        if condition is not None and not _bind(condition, each):
            continue
        bound.append(_bind(item, each))
    return bound


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
