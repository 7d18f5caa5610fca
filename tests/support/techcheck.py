"""The measured tech check over HTTP: a good measurement, and the way to the tech check's link
in the chat."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from cards.reading import card_actions
from tests.support.http_bot import TeamsClient

GOOD_RESULT: dict[str, Any] = {
    "camera": {"status": "ok", "width": 1280, "height": 720, "fps": 30},
    "microphone": {"status": "ok"},
    "speaker": {"status": "heard"},
    "connection": {
        "status": "ok",
        "down_kbps": 12_000,
        "up_kbps": 4_000,
        "rtt_ms": 35,
        "jitter_ms": 4,
        "bytes": 420_000,
    },
    "browser": {"webrtc": True, "touch": False},
}


def open_url(card: dict[str, Any], title: str = "Technik jetzt testen") -> str:
    urls = [
        action["url"]
        for action in card_actions(card)
        if action.get("type") == "Action.OpenUrl" and action.get("title") == title
    ]
    assert urls, f"no {title!r} link on the card"
    return urls[0]


def token_of(url: str) -> str:
    path = urlparse(url).path
    assert path.startswith("/techcheck/"), url
    return path.removeprefix("/techcheck/")


async def reach_tech_result(client: TeamsClient) -> str:
    """Through the chat's tech check; the token of the link on the result card."""
    await client.install()
    await client.click("Bewerbung (Lebenslauf, Anschreiben)")
    await client.click("Per Video")
    for answer in ("Laptop oder Computer", "Ja, die Teams-App", "Ja, beides", "Ja"):
        await client.click(answer)
    replies = await client.click("WLAN oder Flatrate (unbegrenzt)")
    result_card = next(
        card for card in client.cards(replies) if "Ihre Technik ist bereit." in json.dumps(card)
    )
    return token_of(open_url(result_card))
