"""``python -m bot audit``: the consent audit for the data protection officer, read only,
against the configured storage (``BOT_STORAGE``: SQLite or Cosmos DB).

    python -m bot audit consents --since 2026-12-01 [--until 2026-12-31] [--format csv|json]
    python -m bot audit receipt VB-7KQ4-M2XD [--format csv|json]

One row per consent event: receipt, time (UTC), kind, how, text version and language, the
SHA-256 of the text, summary and uploaded form, and the deciding counsellor's object id. No
names, no phone numbers, no client ids; ``counted`` says whether the event changed the
consent status. The store is opened read only. Exit codes (``bot/reports.py``): 0 done; 1 no
such receipt; 2 wrong arguments or settings; 3 storage unavailable or unreadable.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import TextIO

from bot.config import Settings
from bot.domain.consent import RECEIPT_PATTERN, ConsentEvent, ConsentLog
from bot.domain.consent_audit import FIELDS, AuditRow, ConsentHistory
from bot.reports import EXIT_NOT_FOUND, ReportFailed, read_only
from bot.storage import DocumentStore


def main(argv: list[str], load_settings: Callable[[], Settings], out: TextIO = sys.stdout) -> int:
    """``load_settings`` is called once the arguments are read (``--help`` needs none)."""
    parser = argparse.ArgumentParser(prog="python -m bot audit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    consents = commands.add_parser("consents", help="every consent event in a time range")
    consents.add_argument("--since", type=date.fromisoformat, required=True, metavar="YYYY-MM-DD")
    consents.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD")
    receipt = commands.add_parser("receipt", help="the history of one receipt")
    receipt.add_argument("receipt_id", metavar="VB-XXXX-XXXX")
    for command in (consents, receipt):
        command.add_argument("--format", choices=("csv", "json"), default="csv")
    args = parser.parse_args(argv)
    if args.command == "consents" and args.until and args.until < args.since:
        parser.error("--until is before --since")
    if args.command == "receipt":
        args.receipt_id = args.receipt_id.strip().upper()
        if not RECEIPT_PATTERN.fullmatch(args.receipt_id):
            parser.error(f"{args.receipt_id!r} is not a receipt number like VB-7KQ4-M2XD")

    try:
        events = read_only(load_settings, _every_event, "consent event")
    except ReportFailed as failed:
        print(failed, file=sys.stderr)
        return failed.code
    history = ConsentHistory(events)
    if args.command == "consents":
        rows = history.rows_between(args.since, args.until)
    else:
        rows = history.receipt(args.receipt_id)
        if not rows:
            print(f"No consent event has the receipt {args.receipt_id}.", file=sys.stderr)
            return EXIT_NOT_FOUND
    write(rows, args.format, out)
    return 0


async def _every_event(store: DocumentStore) -> list[ConsentEvent]:
    return await ConsentLog(store).every_event()


def write(rows: list[AuditRow], output_format: str, out: TextIO) -> None:
    if output_format == "json":
        json.dump([row.as_dict() for row in rows], out, indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({name: _cell(value) for name, value in row.as_dict().items()} for row in rows)


def _cell(value: str) -> str:
    """A value a spreadsheet would run as a formula (=, +, -, @ …) is written as text."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
