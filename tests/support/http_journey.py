"""The client journey clicked through over HTTP with a ``TeamsClient``."""

from __future__ import annotations

from tests.support.http_bot import TeamsClient


async def walk_to_handoff(client: TeamsClient, days: str = "mon,tue,wed,thu,fri") -> str:
    """Clicks through the journey (video, consent in the card); returns the receipt number."""
    for label in (
        "Bewerbung (Lebenslauf, Anschreiben)",
        "Per Video",
        "Laptop oder Computer",
        "Ja, die Teams-App",
        "Ja, beides",
        "Ja",
        "WLAN oder Flatrate (unbegrenzt)",
    ):
        await client.click(label)
    await client.click("Ja, ich bin einverstanden")
    await client.click("Weiter", days=days, parts="morning")
    assert client.said("Geschafft!")
    return next(
        text.partition(": ")[2] for text in client.texts() if text.startswith("Belegnummer: ")
    )
