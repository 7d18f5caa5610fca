"""Preferred time windows: weekdays × parts of the day, picked in a card or typed."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

from bot.domain.typed_text import mentions, normalise

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
DAYPARTS = ("morning", "afternoon")


def windows(days: list[str], parts: list[str]) -> list[str]:
    """``["mon"], ["morning"]`` → ``["mon-morning"]``; an empty side means "any"."""
    chosen_days = [day for day in WEEKDAYS if day in days] or list(WEEKDAYS)
    chosen_parts = [part for part in DAYPARTS if part in parts] or list(DAYPARTS)
    return [f"{day}-{part}" for day, part in product(chosen_days, chosen_parts)]


def parse_typed(
    text: str,
    day_words: dict[str, list[str]],
    part_words: dict[str, list[str]],
    any_words: list[str],
) -> list[str] | None:
    """Find weekday and daypart words or phrases in free text; ``None`` when nothing is
    recognised."""
    typed = normalise(text)

    def said(names: list[str]) -> bool:
        return any(mentions(typed, name) for name in names)

    if said(any_words):
        return windows([], [])
    days = [day for day, names in day_words.items() if said(names)]
    parts = [part for part, names in part_words.items() if said(names)]
    if not days and not parts:
        return None
    return windows(days, parts)


def format_windows(chosen: list[str], t: Callable[[str], str]) -> str:
    """``["mon-morning", "mon-afternoon"]`` → "Mo: vormittags, nachmittags"."""
    if sorted(chosen) == sorted(windows([], [])):
        return t("windows.any")
    by_day: dict[str, list[str]] = {}
    for window in chosen:
        day, _, part = window.partition("-")
        by_day.setdefault(day, []).append(t(f"windows.part.{part}"))
    return "; ".join(
        f"{t(f'windows.day.{day}')}: {', '.join(parts)}"
        for day, parts in sorted(by_day.items(), key=lambda item: WEEKDAYS.index(item[0]))
    )
