"""Times as the client reads them: Europe/Berlin, in their language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

BERLIN = ZoneInfo("Europe/Berlin")


def format_local(moment: str | datetime, locale: str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return format_datetime(moment, "medium", tzinfo=BERLIN, locale=locale)
