"""Times as the client reads them: Europe/Berlin, in their language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton, format_time, get_datetime_format

BERLIN = ZoneInfo("Europe/Berlin")


#: the English texts are British: dates as "2 Dec 2026, 14:30", not "Dec 2, 2026, 2:30 PM"
REGIONAL_FORMATS = {"en": "en_GB"}


def format_local(moment: str | datetime, locale: str) -> str:
    return str(format_datetime(_moment(moment), "medium", tzinfo=BERLIN, locale=_region(locale)))


def format_day(moment: str | datetime, locale: str) -> str:
    """The date only, the month in words (``2. Dez. 2026``): when something is deleted."""
    return str(format_skeleton("yMMMd", _moment(moment), tzinfo=BERLIN, locale=_region(locale)))


def format_minute(moment: str | datetime, locale: str) -> str:
    """Date and time to the minute, the month in words (``2. Dez. 2026, 07:40``)."""
    pattern = str(get_datetime_format("medium", locale=_region(locale)))
    day, clock = format_day(moment, locale), format_clock(moment, locale)
    return pattern.replace("{1}", day).replace("{0}", clock)


def format_clock(moment: str | datetime, locale: str) -> str:
    """The time of day only (``20:15``), for moments within the next hours."""
    return str(format_time(_moment(moment), "short", tzinfo=BERLIN, locale=_region(locale)))


def _region(locale: str) -> str:
    return REGIONAL_FORMATS.get(locale, locale)


def _moment(moment: str | datetime) -> datetime:
    return datetime.fromisoformat(moment) if isinstance(moment, str) else moment
