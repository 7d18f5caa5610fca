"""``python -m bot stats``: the journey's weekly numbers for team leads, read only, against the
configured storage. Counts from 1 to 4 are shown as "< 5".

    python -m bot stats [--weeks 12] [--format table|csv|json]

Rows are the metrics (``bot/domain/stats.py``), columns the ISO weeks, oldest first. Exit codes
as for the audit (``bot/reports.py``): 2 wrong arguments or settings, 3 storage unavailable.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from typing import TextIO

from bot.config import Settings
from bot.domain.stats import SUPPRESSED, Metric, Stats, WeekCounts
from bot.reports import ReportFailed, read_only
from bot.storage import DocumentStore

MAX_WEEKS = 104


def main(argv: list[str], load_settings: Callable[[], Settings], out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot stats", description=__doc__)
    parser.add_argument("--weeks", type=int, default=12, help=f"1 to {MAX_WEEKS} (default 12)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    args = parser.parse_args(argv)
    if not 1 <= args.weeks <= MAX_WEEKS:
        parser.error(f"--weeks must be between 1 and {MAX_WEEKS}")

    async def read(store: DocumentStore) -> list[WeekCounts]:
        return await Stats(store).weeks(args.weeks)

    try:
        weeks = read_only(load_settings, read, "counter")
    except ReportFailed as failed:
        print(failed, file=sys.stderr)
        return failed.code
    {"table": write_table, "csv": write_csv, "json": write_json}[args.format](weeks, out)
    return 0


def write_table(weeks: list[WeekCounts], out: TextIO) -> None:
    header = ["metric", *(week.week for week in weeks)]
    rows = [[metric.value, *(week.shown(metric) for week in weeks)] for metric in Metric]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    for row in [header, *rows]:
        counts = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in counts)]
        out.write("  ".join(cells).rstrip() + "\n")
    out.write(f'\nCounts from 1 to 4 are shown as "{SUPPRESSED}".\n')


def write_csv(weeks: list[WeekCounts], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["week", "week_start", "metric", "count"])
    for week in weeks:
        for metric in Metric:
            writer.writerow([week.week, week.start.isoformat(), metric.value, week.shown(metric)])


def write_json(weeks: list[WeekCounts], out: TextIO) -> None:
    content = {
        "small_counts_shown_as": SUPPRESSED,
        "weeks": [
            {
                "week": week.week,
                "start": week.start.isoformat(),
                "counts": {metric.value: week.shown(metric) for metric in Metric},
            }
            for week in weeks
        ],
    }
    json.dump(content, out, indent=2)
    out.write("\n")
