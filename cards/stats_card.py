"""The "stats" card for team leads ("Auswertung"): the weekly numbers without names.

A bar per week shows the preparations begun — drawn with columns, so that it renders alike in
Teams and in Microsoft's renderer, and each bar is labelled with its number (the text
alternative); a week with fewer than five shows no bar, only "< 5". Below, a table of every
metric over the last weeks. Nothing on it comes from a client.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity

from bot.domain.stats import Metric, WeekCounts, shown
from bot.i18n import Translator
from cards import card_message

#: the metric the bars show
CHARTED = Metric.JOURNEYS_STARTED
#: the weeks the table shows (the newest ones): a Teams card is narrow
TABLE_WEEKS = 6


def stats_card(t: Translator, weeks: list[WeekCounts]) -> Activity:
    table_weeks = weeks[-TABLE_WEEKS:]
    header = [t("stats.table.metric"), *(_week_label(t, week) for week in table_weeks)]
    rows = [
        [t(f"stats.metric.{metric.value}"), *(week.shown(metric) for week in table_weeks)]
        for metric in Metric
    ]
    bars = _bars(t, weeks)
    fallback = [
        t("stats.title", weeks=len(weeks)),
        t("stats.intro"),
        t("stats.chart.title"),
        *(bar["label"] for bar in bars),
        t("stats.table.title", weeks=len(table_weeks)),
        *(" | ".join(row) for row in [header, *rows]),
    ]
    return card_message(
        t,
        "stats",
        {
            "title": t("stats.title", weeks=len(weeks)),
            "intro": t("stats.intro"),
            "chart_title": t("stats.chart.title"),
            "bars": bars,
            "table_title": t("stats.table.title", weeks=len(table_weeks)),
            "table_columns": [{"width": 3}, *({"width": 1} for _ in table_weeks)],
            "table_rows": [{"cells": [{"text": cell} for cell in row]} for row in [header, *rows]],
            "fallback": "\n".join(fallback),
        },
    )


def _bars(t: Translator, weeks: list[WeekCounts]) -> list[dict[str, Any]]:
    """Widths out of 100; a suppressed count ("< 5") draws no bar at all."""
    counts = [week.count(CHARTED) for week in weeks]
    drawn = [count if shown(count) == str(count) else 0 for count in counts]
    top = max(drawn, default=0) or 1
    bars = []
    for week, count, length in zip(weeks, counts, drawn, strict=True):
        filled = round(100 * length / top)
        label = t("stats.chart.row", week=_week_label(t, week), count=shown(count))
        bars.append({"label": label, "filled": filled, "empty": 100 - filled})
    return bars


def _week_label(t: Translator, week: WeekCounts) -> str:
    return t("stats.week", number=int(week.week.rsplit("W", 1)[1]))
