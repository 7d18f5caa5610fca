"""Numbers without names (issue 12, item 4): weekly counters, small counts shown as "< 5",
``python -m bot stats`` against SQLite and the local Cosmos DB server, and the "Auswertung"
card in Teams for team leads only."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.devtools.connector_standin import LocalConnector
from bot.domain.stats import SHARDS, Metric, Stats, WeekCounts, shown, week_of
from bot.i18n import staff_translator
from bot.stats_report import main as stats_report
from bot.storage import DocumentStore, open_document_store
from cards.reading import card_texts
from cards.stats_card import stats_card
from tests.support.cosmos_server import (
    CosmosServer,
    fresh_database_name,
    store_settings,
)
from tests.support.http_bot import TENANT_ID, RunningBot, StartBot, TeamsClient
from tests.support.http_journey import walk_to_handoff
from tests.support.journey import Chat, reach_handoff, settings_for_tests

ROOT = Path(__file__).resolve().parents[2]
LEAD = "1ead0000-0000-4000-8000-00000000000a"
LEAD_COUNSELLOR = "1ead0000-0000-4000-8000-00000000000b"
COUNSELLOR = "c0ffee00-0000-4000-8000-00000000c001"
ANNA = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
BERT = "3f2504e0-4f89-41d3-9a0c-0305e82c3302"
NOW = datetime.now(UTC)


def test_small_counts_are_shown_as_fewer_than_five() -> None:
    assert [shown(count) for count in (0, 1, 4, 5, 17)] == ["0", "< 5", "< 5", "5", "17"]


@pytest.mark.parametrize("now", ["2026-03-29T22:30:00+00:00", "2026-10-25T22:30:00+00:00"])
async def test_the_last_weeks_are_consecutive_across_a_change_of_clocks(
    store: DocumentStore, now: str
) -> None:
    weeks = await Stats(store, clock=lambda: datetime.fromisoformat(now)).weeks(5)
    numbers = [int(week.week.rsplit("W", 1)[1]) for week in weeks]
    assert numbers == list(range(numbers[0], numbers[0] + 5))


def test_weeks_are_iso_weeks_in_berlin() -> None:
    assert week_of(datetime(2026, 12, 6, 22, 59, tzinfo=UTC)) == "2026-W49"  # Sunday 23:59
    assert week_of(datetime(2026, 12, 6, 23, 0, tzinfo=UTC)) == "2026-W50"  # Monday 00:00
    assert week_of(datetime(2027, 1, 1, 12, tzinfo=UTC)) == "2026-W53"


# --- the report, on both stores --------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("cosmos", marks=pytest.mark.node)])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A store with counts this week (7 started, 3 handed off) and two weeks ago (1 started)."""
    if request.param == "sqlite":
        settings = Settings(_env_file=None, storage_url=f"sqlite:///{tmp_path / 'stats.db'}")
    else:
        server: CosmosServer = request.getfixturevalue("cosmos")
        settings = store_settings(storage_url=server.storage_url(fresh_database_name("stats")))
    asyncio.run(seed(settings))
    return settings


async def seed(settings: Settings) -> None:
    store = open_document_store(settings.storage_url, settings)
    await store.open()
    try:
        now, before = Stats(store), Stats(store, clock=lambda: NOW - timedelta(weeks=2))
        await asyncio.gather(*(now.count(Metric.JOURNEYS_STARTED) for _ in range(7)))
        for _ in range(3):
            await now.count(Metric.HANDOFFS_VIDEO)
        await before.count(Metric.JOURNEYS_STARTED)
    finally:
        await store.close()


def run(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return stats_report(list(argv), lambda: settings, out), out.getvalue()


def test_the_report_as_csv_suppresses_small_counts(seeded: Settings) -> None:
    code, text = run(seeded, "--weeks", "3", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 * len(Metric)
    weeks = [week_of(NOW - timedelta(weeks=back)) for back in (2, 1, 0)]
    counts = {(row["week"], row["metric"]): row["count"] for row in rows}
    assert counts[(weeks[2], "journeys_started")] == "7"  # seven concurrent counts, none lost
    assert counts[(weeks[2], "handoffs_video")] == "< 5"
    assert counts[(weeks[0], "journeys_started")] == "< 5"
    assert counts[(weeks[1], "journeys_started")] == "0"
    assert {row["week_start"] for row in rows} == {
        datetime.strptime(f"{week}-1", "%G-W%V-%u").date().isoformat() for week in weeks
    }


def test_the_report_as_json_and_as_a_table(seeded: Settings) -> None:
    code, text = run(seeded, "--weeks", "2", "--format", "json")
    assert code == 0
    report = json.loads(text)
    assert report["small_counts_shown_as"] == "< 5"
    assert [week["counts"]["journeys_started"] for week in report["weeks"]] == ["0", "7"]
    code, table = run(seeded, "--weeks", "2")
    assert code == 0
    line = next(line for line in table.splitlines() if line.startswith("journeys_started"))
    assert line.split()[-2:] == ["0", "7"]
    assert 'Counts from 1 to 4 are shown as "< 5".' in table


def test_the_report_refuses_bad_arguments_and_missing_storage(tmp_path: Path) -> None:
    missing = Settings(_env_file=None, storage_url=f"sqlite:///{tmp_path / 'none.db'}")
    assert run(missing)[0] == 3
    assert not (tmp_path / "none.db").exists()  # read only: nothing was created
    with pytest.raises(SystemExit) as exit_info:
        run(missing, "--weeks", "0")
    assert exit_info.value.code == 2


def test_python_m_bot_stats_runs_as_a_process(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, storage_url=f"sqlite:///{tmp_path / 'p.db'}")
    asyncio.run(seed(settings))
    env = {"PATH": os.environ["PATH"], "BOT_STORAGE": settings.storage_url}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--weeks", "1", "--format", "json"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["weeks"][0]["counts"]["journeys_started"] == "7"


# --- in Teams ----------------------------------------------------------------------------------


@pytest.fixture
async def service(start_bot: StartBot, tmp_path: Path) -> RunningBot:
    settings = settings_for_tests(
        tmp_path,
        counsellor_tenant_ids=TENANT_ID,
        counsellor_object_ids=f"{COUNSELLOR},{LEAD_COUNSELLOR}",
        stats_object_ids=f"{LEAD},{LEAD_COUNSELLOR}",
    )
    return await start_bot(settings)


def stats_cards(who: TeamsClient) -> list[dict]:
    return [card for card in who.cards() if card_texts(card)[0].startswith("Auswertung")]


async def test_team_leads_get_the_card_and_nobody_else(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> None:
    def person(aad: str, name: str) -> TeamsClient:
        return TeamsClient(http, service, connector, aad_object_id=aad, name=name)

    anna, bert = person(ANNA, "Anna Alpha"), person(BERT, "Bert Beta")
    for client in (anna, bert):
        await client.install()
        await walk_to_handoff(client)

    lead = person(LEAD, "Lea Leitung")
    await lead.say("Auswertung")
    [card] = stats_cards(lead)
    texts = card_texts(card)
    assert texts[0] == "Auswertung: die letzten 12 Wochen"
    assert "Nur Zahlen, keine Namen." in texts[1]
    table = next(item for item in card["body"] if item["type"] == "Table")
    rows = {
        row["cells"][0]["items"][0]["text"]: [cell["items"][0]["text"] for cell in row["cells"]]
        for row in table["rows"]
    }
    assert rows["Vorbereitungen begonnen"][-1] == "< 5"  # two clients: not told apart
    assert rows["Anfragen: Video"][-1] == "< 5"
    assert len(rows) == len(Metric) + 1  # the header row
    dumped = json.dumps(card, ensure_ascii=False)
    for personal in ("Anna", "Bert", ANNA, BERT, "0221"):
        assert personal not in dumped
    await lead.say("Hallo")
    assert lead.said("Schreiben Sie „Auswertung“ für die Zahlen der letzten Wochen.")

    counsellor = person(COUNSELLOR, "Berater Test")
    await counsellor.say("Auswertung")
    assert counsellor.said("Die Auswertung sehen nur Teamleitungen.")
    assert stats_cards(counsellor) == []
    await anna.say("Auswertung")
    assert stats_cards(anna) == []

    both = person(LEAD_COUNSELLOR, "Teamleitung und Beraterin")
    await both.say("statistics")
    assert len(stats_cards(both)) == 1
    await both.say("Übersicht")  # still a counsellor for everything else
    assert card_texts(both.cards()[-1])[0] == "Ihre Kundinnen und Kunden"


@pytest.mark.node
def test_the_card_parses_clean_in_microsofts_renderer() -> None:
    from tests.support.adaptive_cards import parse_cards

    weeks = [
        WeekCounts(f"2026-W{n}", {"journeys_started": n % 9, "deletions": 12})
        for n in range(38, 50)
    ]
    cards = [
        stats_card(staff_translator(locale), weeks).attachments[0].content
        for locale in ("de", "en")
    ]
    assert parse_cards(cards) == [[], []]
    bars = [item for item in cards[0]["body"] if item["type"] == "ColumnSet"]
    assert len(bars) == 12
    labels = [bar["columns"][0]["items"][0]["text"] for bar in bars]
    assert labels[:2] == ["KW 38: < 5", "KW 39: < 5"]  # 2 and 3: drawn as no bar
    assert labels[3:5] == ["KW 41: 5", "KW 42: 6"]
    drawn = [
        [
            (column["width"], column.get("style"))
            for column in bar["columns"][1]["items"][0]["columns"]
        ]
        for bar in bars
    ]
    assert drawn[0] == [(100, None)]  # "< 5" draws no bar, only the empty rest
    assert drawn[6] == [(100, "accent")]  # 8, the most: the whole width
    assert drawn[3] == [(62, "accent"), (38, None)]  # 5 of 8


def test_the_stored_counters_hold_no_personal_data(tmp_path: Path) -> None:
    """Scan every counter a few journeys leave behind."""
    settings = settings_for_tests(tmp_path)

    async def journeys() -> None:
        store = open_document_store(settings.storage_url, settings)
        await store.open()
        try:
            for user in ("aad-anna", "aad-bert"):
                chat = Chat(settings, store, user_id=user)
                await reach_handoff(chat)
                await chat.send("Meine Daten löschen")
                await chat.click("Ja, löschen")
        finally:
            await store.close()

    asyncio.run(journeys())
    with sqlite3.connect(tmp_path / "bot.db") as database:
        rows = database.execute("SELECT key, partition, body FROM documents WHERE kind='stats'")
        counters = [(key, partition, json.loads(body)) for key, partition, body in rows]
    assert {body["metric"] for _, _, body in counters} >= {
        "journeys_started",
        "consents_given",
        "handoffs_video",
        "deletions",
    }
    for key, partition, body in counters:
        assert set(body) == {"week", "metric", "count"}
        week, metric, shard = key.split(":")
        assert (week, metric) == (body["week"], body["metric"])
        assert 0 <= int(shard) < SHARDS
        assert partition == f"stats-{body['week']}"
        assert body["metric"] in {metric.value for metric in Metric}
        text = json.dumps([key, partition, body])
        for personal in ("aad-", "Erika", "Muster", "0221"):
            assert personal not in text
