"""Storage that is unusable or disappears: private files, a clear exit at start-up, and a
service that notices when its database is gone instead of acknowledging turns into nothing."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.devtools.connector_standin import LocalConnector
from bot.devtools.playground import REPO_ROOT, local_mode_env
from bot.storage.sqlite import SqliteDocumentStore
from tests.support.cosmos_server import KEY as COSMOS_KEY
from tests.support.http_bot import RunningBot, StartBot, TeamsClient
from tests.support.journey import settings_for_tests
from tests.support.loopback import free_port
from tests.support.texts import APOLOGY, TOPIC_QUESTION, TYPE_QUESTION

START_TIMEOUT = 60


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o077], ids=["umask-000", "umask-022", "umask-077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


async def test_database_folder_and_files_are_private_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    path = tmp_path / "data" / "videoberatung.db"
    store = SqliteDocumentStore(path)
    await store.open()
    await store.create("profile", "c1", {"name": "Erika"}, partition="c1")
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    try:
        assert mode(path.parent) == 0o700
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
    finally:
        await store.close()


async def test_an_older_installation_is_made_private_on_open(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    path = folder / "videoberatung.db"
    store = SqliteDocumentStore(path)
    await store.open()
    await store.close()
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            os.chmod(file, 0o644)
    await store.open()
    try:
        assert mode(folder) == 0o700
        assert mode(path) == 0o600
    finally:
        await store.close()


async def test_a_shared_folder_is_left_alone_but_the_files_are_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp
    store = SqliteDocumentStore(shared / "bot.db")
    await store.open()
    try:
        assert mode(shared) == 0o1777
        assert mode(shared / "bot.db") == 0o600
    finally:
        await store.close()


async def test_a_folder_with_other_peoples_files_is_left_open_but_the_files_are_private(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``BOT_STORAGE=sqlite:///./bot.db`` in an app or home folder must not lock others out."""
    app_folder = tmp_path / "app"
    app_folder.mkdir()
    os.chmod(app_folder, 0o755)
    (app_folder / "README.md").write_text("someone else's file")
    store = SqliteDocumentStore(app_folder / "bot.db")
    await store.open()
    try:
        assert mode(app_folder) == 0o755
        assert mode(app_folder / "bot.db") == 0o600
        assert "the data folder can be read by others" in caplog.text
    finally:
        await store.close()


# --- unusable storage at start-up -----------------------------------------------------------


def run_service(storage_url: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot`` until it exits by itself (a hang fails the test)."""
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=REPO_ROOT,
        env={
            **local_mode_env(),
            "BOT_STORAGE": storage_url,
            "BOT_UPLOAD_DIR": str(tmp_path / "uploads"),
            "PORT": str(free_port()),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )


def assert_one_clear_line(finished: subprocess.CompletedProcess[str]) -> None:
    assert finished.returncode == 3, (finished.returncode, finished.stderr[-2000:])
    output = finished.stdout + finished.stderr
    assert "Traceback" not in output, output[-2000:]
    problems = [line for line in output.splitlines() if "Storage unavailable" in line]
    assert len(problems) == 1, output[-2000:]
    assert " ERROR " not in output, output[-2000:]


def test_a_file_that_is_no_database_ends_the_service_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not an SQLite database at all, " * 100)
    finished = run_service(f"sqlite:///{path}", tmp_path)
    assert_one_clear_line(finished)
    assert "broken.db" in finished.stderr


def test_a_database_below_a_file_ends_the_service_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    finished = run_service(f"sqlite:///{tmp_path / 'not-a-folder' / 'bot.db'}", tmp_path)
    assert_one_clear_line(finished)


def test_an_unusable_upload_folder_ends_the_service_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    finished = run_service(
        f"sqlite:///{tmp_path / 'bot.db'}",
        tmp_path,
        BOT_UPLOAD_DIR=str(tmp_path / "not-a-folder" / "uploads"),
    )
    assert_one_clear_line(finished)
    assert "upload folder" in finished.stderr


@pytest.fixture
def read_only_database(tmp_path: Path) -> Iterator[Path]:
    """A database nobody may write to — even root (the tests run as root): immutable."""
    path = tmp_path / "read-only.db"
    path.write_bytes(b"")
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        yield path
        return
    if shutil.which("chattr") is None:
        pytest.skip("chattr is needed to make a file read-only for root")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"this file system cannot make a file immutable: {made.stderr!r}")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_ends_the_service_with_one_line(
    tmp_path: Path, read_only_database: Path
) -> None:
    finished = run_service(f"sqlite:///{read_only_database}", tmp_path)
    assert_one_clear_line(finished)


def test_cosmos_db_unreachable_at_start_ends_the_service_with_one_line(tmp_path: Path) -> None:
    closed_port = free_port()  # nothing listens there
    finished = run_service(
        f"cosmos+http://127.0.0.1:{closed_port}", tmp_path, COSMOS_KEY=COSMOS_KEY
    )
    assert_one_clear_line(finished)
    assert "Cosmos DB" in finished.stderr
    assert "Request URL" not in finished.stderr  # the Azure SDK's HTTP log stays quiet


# --- storage gone while running --------------------------------------------------------------


async def test_when_the_data_folder_is_deleted_readyz_fails_and_turns_apologise(
    start_bot: StartBot,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    connector: LocalConnector,
) -> None:
    data = tmp_path / "data"
    settings = settings_for_tests(tmp_path, storage_url=f"sqlite:///{data / 'bot.db'}")
    bot: RunningBot = await start_bot(settings)
    client = TeamsClient(http, bot, connector)
    assert client.said(TOPIC_QUESTION, await client.install())
    shutil.rmtree(data)

    async with http.get(bot.url("/readyz")) as response:
        assert response.status == 503
    replies = await client.click("Ausbildung")
    assert [reply.get("text", "")[: len(APOLOGY)] for reply in replies] == [APOLOGY]
    assert not client.said(TYPE_QUESTION, replies)  # nothing was acknowledged
    assert not data.exists()  # and nothing pretends to be stored somewhere new
