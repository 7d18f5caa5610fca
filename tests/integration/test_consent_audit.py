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
from pathlib import Path

import pytest

from bot.audit import main as audit
from bot.config import Settings
from bot.domain.consent import ConsentEvent, ConsentLog
from bot.domain.consent_audit import FIELDS
from bot.storage import open_document_store
from tests.support.cosmos_server import (
    CosmosServer,
    fresh_database_name,
    store_settings,
)

ROOT = Path(__file__).resolve().parents[2]
ANNA, BERT, CARL = (f"3f2504e0-4f89-41d3-9a0c-0305e82c330{n}" for n in (1, 2, 3))
COUNSELLOR = "c0ffee00-0000-4000-8000-00000000c001"
TEXT, SUMMARY, FORM_A, FORM_B = "a" * 64, "b" * 64, "f" * 64, "e" * 64


def event(event_id: str, client: str, action: str, receipt: str, at: str, **more: str):
    defaults = {"text_version": "2026-12/de", "text_sha256": TEXT}
    return ConsentEvent(event_id, client, action, receipt_id=receipt, at=at, **{**defaults, **more})


EVENTS = [
    # Anna agrees in the card (in Arabic) and withdraws two days later
    event("given-1", ANNA, "given", "VB-AAAA-AAAA", "2026-12-01T09:00:00+00:00",
          text_version="2026-12/ar", summary_sha256=SUMMARY),
    event("withdrawn-given-1", ANNA, "withdrawn", "VB-AAAA-WWWW", "2026-12-03T10:00:00+00:00",
          text_version="2026-12/ar", refers_to="given-1"),
    # Bert sends two forms (two appointments); the counsellor verifies the first one after the
    # second arrived; later he agrees again in the card
    event("form_uploaded-2", BERT, "form_uploaded", "VB-BBBB-BBBB", "2026-12-02T08:30:00+01:00",
          method="paper_form", form_sha256=FORM_A),
    event("form_uploaded-3", BERT, "form_uploaded", "VB-BBBB-2222", "2026-12-02T09:00:00+00:00",
          method="paper_form", form_sha256=FORM_B),
    event("form-decision-h-2", BERT, "verified", "VB-BBBB-VVVV", "2026-12-02T11:00:00+00:00",
          method="paper_form", form_sha256=FORM_A, refers_to="form_uploaded-2",
          actor=f"counsellor:{COUNSELLOR}"),
    event("given-4", BERT, "given", "VB-CCCC-CCCC", "2026-12-05T12:00:00+00:00",
          summary_sha256=SUMMARY),
    # Carl, recorded before decisions named their form: verified, withdrawn, and then a second
    # counsellor's late decision that did not count; a formula where an id belongs
    event("form_uploaded-5", CARL, "form_uploaded", "VB-DDDD-DDDD", "2026-12-06T08:00:00+00:00",
          method="paper_form", form_sha256=FORM_A),
    event("form-decision-h-5", CARL, "verified", "VB-DDDD-VVVV", "2026-12-06T09:00:00+00:00",
          method="paper_form", text_version="", text_sha256="",
          actor=f"counsellor:{COUNSELLOR}"),
    event("withdrawn-form_uploaded-5", CARL, "withdrawn", "VB-DDDD-WWWW",
          "2026-12-06T10:00:00+00:00", method="paper_form"),
    event("form-decision-h-6", CARL, "rejected", "VB-DDDD-RRRR", "2026-12-06T11:00:00+00:00",
          method="paper_form", actor="counsellor:=HYPERLINK(\"https://evil.example\")"),
]  # fmt: skip


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


def audit_process(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot audit …`` as a process, with only ``env`` for its environment."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", *argv],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def run(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return audit(list(argv), lambda: settings, out), out.getvalue()


def test_every_event_in_a_range_as_csv_without_personal_data(settings: Settings) -> None:
    code, text = run(settings, "consents", "--since", "2026-12-01", "--until", "2026-12-03")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(FIELDS)
    assert [(row["receipt_id"], row["kind"]) for row in rows] == [
        ("VB-AAAA-AAAA", "given"),
        ("VB-BBBB-BBBB", "form_uploaded"),  # 08:30 in Berlin is 07:30 UTC
        ("VB-BBBB-2222", "form_uploaded"),
        ("VB-BBBB-VVVV", "verified"),
        ("VB-AAAA-WWWW", "withdrawn"),
    ]
    assert rows[1]["time_utc"] == "2026-12-02T07:30:00Z"
    assert rows[0]["language"] == "ar"
    assert (rows[1]["method"], rows[1]["form_sha256"]) == ("paper_form", FORM_A)
    assert (rows[3]["verified_by"], rows[3]["form_sha256"]) == (COUNSELLOR, FORM_A)
    assert rows[0]["verified_by"] == ""
    assert {row["counted"] for row in rows} == {"yes"}
    for client in (ANNA, BERT, CARL):
        assert client not in text  # no client ids


def test_a_late_decision_is_marked_as_not_counted_and_formulas_stay_text(
    settings: Settings,
) -> None:
    code, text = run(settings, "consents", "--since", "2026-12-06")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["kind"], row["counted"]) for row in rows] == [
        ("form_uploaded", "yes"),
        ("verified", "yes"),
        ("withdrawn", "yes"),
        ("rejected", "no"),  # the form no longer awaited a decision
    ]
    assert rows[3]["verified_by"].startswith("'=HYPERLINK")
    code, text = run(settings, "consents", "--since", "2026-12-06", "--format", "json")
    assert json.loads(text)[3]["verified_by"].startswith("=HYPERLINK")  # JSON runs nothing


def test_the_range_is_whole_utc_days_and_json_has_the_same_rows(settings: Settings) -> None:
    code, text = run(settings, "consents", "--since", "2026-12-05", "--until", "2026-12-05")
    assert code == 0
    [row] = json.loads(run(settings, "consents", "--since", "2026-12-05", "--until",
                           "2026-12-05", "--format", "json")[1])  # fmt: skip
    assert (row["receipt_id"], row["time_utc"]) == ("VB-CCCC-CCCC", "2026-12-05T12:00:00Z")
    assert set(row) == set(FIELDS)
    code, text = run(settings, "consents", "--since", "2026-12-04", "--until", "2026-12-04")
    assert (code, list(csv.DictReader(io.StringIO(text)))) == (0, [])


@pytest.mark.parametrize(
    ("receipt", "history"),
    [
        ("VB-AAAA-AAAA", ["VB-AAAA-AAAA", "VB-AAAA-WWWW"]),  # given, then withdrawn
        ("vb-aaaa-wwww", ["VB-AAAA-AAAA", "VB-AAAA-WWWW"]),  # the withdrawal's own receipt
        ("VB-BBBB-BBBB", ["VB-BBBB-BBBB", "VB-BBBB-VVVV"]),  # the form and its verification
        ("VB-BBBB-VVVV", ["VB-BBBB-BBBB", "VB-BBBB-VVVV"]),  # … though a newer form came
        ("VB-BBBB-2222", ["VB-BBBB-2222"]),  # the newer form: not decided yet
        ("VB-CCCC-CCCC", ["VB-CCCC-CCCC"]),  # a later consent: its own history
        # recorded before decisions named their form: linked as they were made
        ("VB-DDDD-RRRR", ["VB-DDDD-DDDD", "VB-DDDD-VVVV", "VB-DDDD-WWWW", "VB-DDDD-RRRR"]),
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
    done = audit_process(env, "consents", "--since", "2026-12-01")
    assert done.returncode == 3, done.stderr
    assert "Storage unavailable" in done.stderr
    assert not missing.exists()


def test_an_audit_changes_nothing_in_the_database(settings: Settings) -> None:
    url = settings.storage_url
    if not url.startswith("sqlite:///"):
        pytest.skip("the file check is for SQLite; Cosmos DB: see the next test")
    database = Path(url.removeprefix("sqlite:///"))
    before = database.read_bytes()
    assert run(settings, "consents", "--since", "2026-12-01")[0] == 0
    assert database.read_bytes() == before


@pytest.mark.node
def test_a_missing_cosmos_database_is_reported_not_created(cosmos: CosmosServer) -> None:
    settings = store_settings(storage_url=cosmos.storage_url(fresh_database_name("absent")))
    assert run(settings, "consents", "--since", "2026-12-01") == (3, "")

    # had the first run created the database, a second would find it (and exit 0)
    assert run(settings, "consents", "--since", "2026-12-01") == (3, "")


def test_help_needs_no_settings_and_bad_settings_are_named(tmp_path: Path) -> None:
    env = {"PORT": "not-a-port", "PATH": "/usr/bin:/bin"}
    shown = audit_process(env, "--help")
    assert shown.returncode == 0
    assert "audit consents" in shown.stdout
    refused = audit_process(env, "consents", "--since", "2026-12-01")
    assert refused.returncode == 2
    assert refused.stderr.startswith("Configuration error: port")
