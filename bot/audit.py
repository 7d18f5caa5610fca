"""``python -m bot audit``: the consent audit for the data protection officer, read only,
against the configured storage (``BOT_STORAGE``: SQLite or Cosmos DB).

    python -m bot audit consents --since 2026-12-01 [--until 2026-12-31] [--format csv|json]
    python -m bot audit receipt VB-7KQ4-M2XD [--format csv|json]

One row per consent event: receipt, time (UTC), kind, how, text version and language, the
SHA-256 of the text, summary and uploaded form, and the deciding counsellor's object id. No
names, no phone numbers, no client ids. Exit codes: 0 done; 1 no such receipt; 2 wrong
arguments or settings; 3 storage unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import date
from pathlib import Path
from typing import TextIO
from urllib.parse import urlparse

from bot.config import Settings
from bot.domain.consent import RECEIPT_PATTERN, ConsentEvent, ConsentLog
from bot.domain.consent_audit import FIELDS, AuditRow, receipt_history, rows_between
from bot.storage import StoreUnavailableError, open_document_store

EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_STORAGE_UNAVAILABLE = 3


def main(argv: list[str], settings: Settings, out: TextIO = sys.stdout) -> int:
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
        if not _database_exists(settings.storage_url):
            raise StoreUnavailableError(f"no database at {settings.storage_url}")
        events = asyncio.run(_read_events(settings))
    except StoreUnavailableError as error:
        print(f"Storage unavailable: {error}", file=sys.stderr)
        return EXIT_STORAGE_UNAVAILABLE
    if args.command == "consents":
        rows = rows_between(events, args.since, args.until)
    else:
        rows = receipt_history(events, args.receipt_id)
        if not rows:
            print(f"No consent event has the receipt {args.receipt_id}.", file=sys.stderr)
            return EXIT_NOT_FOUND
    write(rows, args.format, out)
    return 0


def _database_exists(url: str) -> bool:
    """An audit creates nothing: a SQLite file that is not there is an error."""
    return urlparse(url).scheme != "sqlite" or Path(url.removeprefix("sqlite:///")).exists()


async def _read_events(settings: Settings) -> list[ConsentEvent]:
    store = open_document_store(settings.storage_url, settings)
    await store.open()
    try:
        return await ConsentLog(store).every_event()
    finally:
        await store.close()


def write(rows: list[AuditRow], output_format: str, out: TextIO) -> None:
    if output_format == "json":
        json.dump([row.as_dict() for row in rows], out, indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(row.as_dict() for row in rows)
