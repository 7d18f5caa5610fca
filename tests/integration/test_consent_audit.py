"""The consent audit (``python -m bot audit``) against SQLite and a local Cosmos DB server:
one row per event with no names, phone numbers or client ids, and the history of a receipt
(issue 12, item 3)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.audit import main as audit
from bot.config import Settings
from bot.domain.consent import ConsentEvent, ConsentLog
from bot.domain.consent_audit import FIELDS
from bot.storage import open_document_store
from tests.support.cosmos_server import (
    CosmosServer,
    cosmos_server,
    fresh_database_name,
    store_settings,
)

ROOT = Path(__file__).resolve().parents[2]
ANNA, BERT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "3f2504e0-4f89-41d3-9a0c-0305e82c3302"
COUNSELLOR = "c0ffee00-0000-4000-8000-00000000c001"
TEXT, SUMMARY, FORM = "a" * 64, "b" * 64, "f" * 64
EVENTS = [
    # Anna agrees in the card (in Arabic) and withdraws two days later
    ConsentEvent("given-1", ANNA, "given", "2026-12/ar", TEXT, summary_sha256=SUMMARY,
                 receipt_id="VB-AAAA-AAAA", at="2026-12-01T09:00:00+00:00"),
    ConsentEvent("withdrawn-given-1", ANNA, "withdrawn", "2026-12/ar", TEXT,
                 receipt_id="VB-AAAA-WWWW", at="2026-12-03T10:00:00+00:00"),
    # Bert sends a signed form; the counsellor verifies it; later he agrees again in the card
    ConsentEvent("form_uploaded-2", BERT, "form_uploaded", "2026-12/de", TEXT,
                 method="paper_form", receipt_id="VB-BBBB-BBBB", form_sha256=FORM,
                 at="2026-12-02T08:30:00+01:00"),
    ConsentEvent("form-decision-h-2", BERT, "verified", "", "", method="paper_form",
                 receipt_id="VB-BBBB-VVVV", actor=f"counsellor:{COUNSELLOR}",
                 at="2026-12-02T11:00:00+00:00"),
    ConsentEvent("given-3", BERT, "given", "2026-12/de", TEXT, summary_sha256=SUMMARY,
                 receipt_id="VB-CCCC-CCCC", at="2026-12-05T12:00:00+00:00"),
]  # fmt: skip


@pytest.fixture(scope="module")
def cosmos() -> Iterator[CosmosServer]:
    with cosmos_server() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("cosmos", marks=pytest.mark.node)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings naming a store that holds ``EVENTS`` (written through the consent log). The
    tests are synchronous: the command runs its own event loop, as from a shell."""
    if request.param == "sqlite":
        configured = Settings(_env_file=None, storage_url=f"sqlite:///{tmp_path / 'audit.db'}")
    else:
        server: CosmosServer = request.getfixturevalue("cosmos")
        url = server.storage_url(fresh_database_name("audit"))
        configured = store_settings(storage_url=url)
    asyncio.run(seed(configured))
    return configured


async def seed(settings: Settings) -> None:
    store = open_document_store(settings.storage_url, settings)
    await store.open()
    try:
        for event in EVENTS:
            await ConsentLog(store).append(event)
    finally:
        await store.close()


def run(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return audit(list(argv), settings, out), out.getvalue()


def test_every_event_in_a_range_as_csv_without_personal_data(settings: Settings) -> None:
    code, text = run(settings, "consents", "--since", "2026-12-01", "--until", "2026-12-03")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(FIELDS)
    assert [(row["receipt_id"], row["kind"]) for row in rows] == [
        ("VB-AAAA-AAAA", "given"),
        ("VB-BBBB-BBBB", "form_uploaded"),  # 08:30 in Berlin is 07:30 UTC
        ("VB-BBBB-VVVV", "verified"),
        ("VB-AAAA-WWWW", "withdrawn"),
    ]
    assert rows[1]["time_utc"] == "2026-12-02T07:30:00Z"
    assert rows[0]["language"] == "ar"
    assert (rows[1]["method"], rows[1]["form_sha256"]) == ("paper_form", FORM)
    assert rows[2]["verified_by"] == COUNSELLOR
    assert rows[0]["verified_by"] == ""
    for client in (ANNA, BERT):
        assert client not in text  # no client ids


def test_the_range_is_whole_utc_days_and_json_has_the_same_rows(settings: Settings) -> None:
    code, text = run(settings, "consents", "--since", "2026-12-05", "--format", "json")
    assert code == 0
    [row] = json.loads(text)
    assert (row["receipt_id"], row["time_utc"]) == ("VB-CCCC-CCCC", "2026-12-05T12:00:00Z")
    assert set(row) == set(FIELDS)
    code, text = run(settings, "consents", "--since", "2026-12-04", "--until", "2026-12-04")
    assert (code, list(csv.DictReader(io.StringIO(text)))) == (0, [])


@pytest.mark.parametrize(
    ("receipt", "history"),
    [
        ("VB-AAAA-AAAA", ["VB-AAAA-AAAA", "VB-AAAA-WWWW"]),  # given, then withdrawn
        ("vb-aaaa-wwww", ["VB-AAAA-AAAA", "VB-AAAA-WWWW"]),  # the withdrawal's own receipt
        ("VB-BBBB-VVVV", ["VB-BBBB-BBBB", "VB-BBBB-VVVV"]),  # the form and its verification
        ("VB-CCCC-CCCC", ["VB-CCCC-CCCC"]),  # a later consent: its own history
    ],
)
def test_the_history_of_one_receipt(settings: Settings, receipt: str, history: list[str]) -> None:
    code, text = run(settings, "receipt", receipt, "--format", "json")
    assert code == 0
    assert [row["receipt_id"] for row in json.loads(text)] == history


def test_unknown_or_malformed_receipts_and_bad_ranges_are_refused(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, "receipt", "VB-ZZZZ-ZZZZ") == (1, "")
    assert "No consent event has the receipt VB-ZZZZ-ZZZZ" in capsys.readouterr().err
    for argv in (
        ["receipt", "VB-0000-OOOO"],  # not in the receipt alphabet
        ["consents", "--since", "1.12.2026"],
        ["consents", "--since", "2026-12-05", "--until", "2026-12-01"],
        ["consents"],
        ["delete"],
    ):
        with pytest.raises(SystemExit) as refused:
            run(settings, *argv)
        assert refused.value.code == 2, argv


def test_the_command_runs_as_a_process_and_creates_no_database(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    env = {"BOT_STORAGE": f"sqlite:///{missing}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "consents", "--since", "2026-12-01"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "Storage unavailable" in done.stderr
    assert not missing.exists()
