"""Browser tests: the bot service and Microsoft's Agents Playground as child processes, and
headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright's sync API.

Every test gets its own bot (fresh SQLite file), its own Playground and its own browser
context, because the Playground always uses the same conversation and user ids. When a test
fails, the report gets the tails of the bot's stderr and the Playground's log, and a
screenshot of the page is saved next to them in the test's ``tmp_path``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bot.devtools.playground import (
    PLAYGROUND_CLI,
    local_mode_env,
    start_bot,
    start_playground,
    stop_process,
    wait_for_http,
    wait_for_playground_port,
)
from tests.support.bot_process import BotService
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, STEP_TIMEOUT_MS
from tests.support.loopback import free_port
from tests.support.playground_chat import PlaygroundChat

VIEWPORT = {"width": 1280, "height": 900}
START_TIMEOUT_S = 60
TAIL_LINES = 40

LOG_FILES = pytest.StashKey[dict[str, Path]]()
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def _require_browser_tools() -> None:
    """Fail clearly (never skip: `make test` installs all of it) where something is missing."""
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"Chromium ({CHROMIUM}; set E2E_CHROMIUM)")
    if not PLAYGROUND_CLI.is_file():
        missing.append("the Agents Playground (run `npm ci`)")
    if shutil.which("node") is None:
        missing.append("Node.js")
    if missing:
        pytest.fail("needs " + ", ".join(missing) + " — run `make setup` and install chromium")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Keep each phase's report for the fixtures; add the child logs to a failure."""
    report: pytest.TestReport = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    if report.failed:
        for name, path in item.stash.get(LOG_FILES, {}).items():
            report.sections.append((f"{name} (last {TAIL_LINES} lines)", _tail(path)))
    return report


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        return f"({path} unreadable: {error})"
    return "\n".join(lines[-TAIL_LINES:]) or f"({path} is empty)"


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(report.failed for report in request.node.stash.get(REPORTS, {}).values())


@dataclass(frozen=True)
class PlaygroundService:
    url: str
    log_file: Path


@pytest.fixture
def bot_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BotService]:
    """``python -m bot`` on a free loopback port, local mode, SQLite in ``tmp_path``."""
    _require_browser_tools()
    port = free_port()
    database = tmp_path / "bot.db"
    stderr_file = tmp_path / "bot.stderr.log"
    request.node.stash.setdefault(LOG_FILES, {})["bot stderr"] = stderr_file
    env = {
        **local_mode_env(),
        "BOT_STORAGE": f"sqlite:///{database}",
        "BOT_UPLOAD_DIR": str(tmp_path / "uploads"),
        "BOT_DEFAULT_LOCALE": "de",
    }
    with stderr_file.open("wb") as stderr:
        process = start_bot(port, env, stdout=stderr, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", START_TIMEOUT_S, process=process)
        yield BotService(port, database, process)
    finally:
        stop_process(process)


@pytest.fixture
def playground(
    request: pytest.FixtureRequest, tmp_path: Path, bot_service: BotService
) -> Iterator[PlaygroundService]:
    """The Agents Playground on a free port, pointed at ``bot_service``."""
    log_file = tmp_path / "playground.log"
    stderr_file = tmp_path / "playground.stderr.log"
    logs = request.node.stash.setdefault(LOG_FILES, {})
    logs["Playground log"] = log_file
    logs["Playground stderr"] = stderr_file
    # cwd=tmp_path: no .m365agentsplayground.yml of the developer changes what the test sees.
    with stderr_file.open("wb") as stderr:
        process = start_playground(
            bot_service.port, free_port(), log_file, cwd=tmp_path, stderr=stderr
        )
    try:
        port = wait_for_playground_port(process, START_TIMEOUT_S)
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, START_TIMEOUT_S, process=process)
        yield PlaygroundService(url, log_file)
    finally:
        stop_process(process)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless Chromium, per test: Playwright's sync API keeps an asyncio loop running on
    the main thread while it is started, which would break pytest-asyncio tests after it."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(
    request: pytest.FixtureRequest, tmp_path: Path, browser: Browser, playground: PlaygroundService
) -> Iterator[Page]:
    """A fresh browser context with the Playground open (which installs the bot)."""
    context = browser.new_context(viewport=VIEWPORT, locale="de-DE", timezone_id="Europe/Berlin")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(playground.url)
        yield page
    finally:
        if _failed(request):
            shot = tmp_path / "failure.png"
            try:
                page.screenshot(path=shot, full_page=True)
                print(f"screenshot of the failed page: {shot}")
            except Exception as error:  # the page may be gone; the logs still matter
                print(f"no screenshot: {error}")
        context.close()


@pytest.fixture
def playground_chat(page: Page) -> PlaygroundChat:
    chat = PlaygroundChat(page)
    chat.hide_log_panel()
    return chat
