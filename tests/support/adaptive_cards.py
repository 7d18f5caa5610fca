"""Validate Adaptive Card JSON with Microsoft's own renderer (the ``adaptivecards`` npm package).

The checks run in Node, without a browser: ``tests/support/parse_cards.js`` parses every card
with ``AdaptiveCard.parse`` targeting schema 1.5 (the highest version Microsoft Teams renders),
runs ``validateProperties()`` and re-serialises the card with ``toJSON()``. Every warning or
error becomes one string of the form ``"<phase>/<event>: <message>"``, for example::

    Parse/UnknownElementType: Unknown element type "Input.Bogus". Fallback will be used if present.

An empty list means the card is clean.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PARSE_CARDS_JS = Path(__file__).resolve().with_name("parse_cards.js")
ADAPTIVECARDS_PACKAGE = REPO_ROOT / "node_modules" / "adaptivecards"
NODE_TIMEOUT_SECONDS = 60


def parse_cards(cards: list[dict[str, Any]]) -> list[list[str]]:
    """Parse and validate Adaptive Cards with the ``adaptivecards`` JavaScript library.

    All cards are checked in a single ``node`` process.

    Args:
        cards: Adaptive Card payloads (the JSON objects that go into an attachment's
            ``content``).

    Returns:
        One list of event strings per card, in the same order as ``cards``. An empty list
        means the library reported no warnings or errors for that card.

    Raises:
        RuntimeError: If Node.js or the ``adaptivecards`` npm package is not installed, or if
            the Node script fails or times out.
    """
    if not cards:
        return []
    if not (ADAPTIVECARDS_PACKAGE / "package.json").is_file():
        raise RuntimeError(
            f"The 'adaptivecards' npm package is missing ({ADAPTIVECARDS_PACKAGE}). "
            f"Run `npm install` in {REPO_ROOT} to install the project's Node packages."
        )
    node = shutil.which("node")
    if node is None:
        raise RuntimeError(
            "Node.js ('node') was not found on PATH; it is needed to validate Adaptive Cards. "
            f"Install Node.js and run `npm install` in {REPO_ROOT}."
        )

    try:
        completed = subprocess.run(
            [node, str(PARSE_CARDS_JS)],
            input=json.dumps(cards),
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=REPO_ROOT,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"{PARSE_CARDS_JS.name} did not finish within {NODE_TIMEOUT_SECONDS} seconds"
        ) from exc

    if completed.returncode != 0:
        raise RuntimeError(
            f"{PARSE_CARDS_JS.name} exited with code {completed.returncode}:\n"
            f"{completed.stderr.strip()}"
        )

    try:
        results = json.loads(completed.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"{PARSE_CARDS_JS.name} produced invalid JSON: {completed.stdout[:500]!r}"
        ) from exc

    if not isinstance(results, list) or len(results) != len(cards):
        raise RuntimeError(
            f"{PARSE_CARDS_JS.name} returned {results!r:.500} for {len(cards)} card(s)"
        )
    return [[str(event) for event in events] for events in results]
