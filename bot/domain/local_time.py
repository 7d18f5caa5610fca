"""Times as the client reads them: Europe/Berlin, in their language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time

BERLIN = ZoneInfo("Europe/Berlin")


#: the English texts are British: dates as "2 Dec 2026, 14:30", not "Dec 2, 2026, 2:30 PM"
REGIONAL_FORMATS = {"en": "en_GB"}


def format_local(moment: str | datetime, locale: str) -> str:
    return str(format_datetime(_moment(moment), "medium", tzinfo=BERLIN, locale=_region(locale)))


def format_clock(moment: str | datetime, locale: str) -> str:
    """The time of day only (``20:15``), for moments within the next hours."""
    return str(format_time(_moment(moment), "short", tzinfo=BERLIN, locale=_region(locale)))


def _region(locale: str) -> str:
    return REGIONAL_FORMATS.get(locale, locale)


def _moment(moment: str | datetime) -> datetime:
    return datetime.fromisoformat(moment) if isinstance(moment, str) else moment
