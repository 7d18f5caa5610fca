"""The measured tech check in headless Chromium against the running bot (``python -m bot``).

Chromium's fake camera and microphone (``--use-fake-device-for-media-stream``: a moving test
picture in the size asked for, and a beep every second) stand in for real devices; without
``--use-fake-ui-for-media-stream`` the permission is refused, and without either flag there is
no device at all. The connection is measured on loopback, and through Chromium's network
throttling like a mobile network. Every request the page makes is counted, so the page's weight
and the measurement's data use are checked, and axe-core looks for accessibility problems.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect, sync_playwright

from bot.config import Settings
from bot.domain.profiles import Profiles
from bot.domain.techcheck_links import LinkClaims, codec_for
from bot.i18n import translator
from bot.storage import open_document_store
from tests.support.bot_process import BotService, documents
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, STEP_TIMEOUT_MS
from tests.support.playground_chat import (
    PlaygroundChat,
    answer_tech_check_all_good,
    walk_to_tech_check,
)

pytestmark = pytest.mark.browser

SECRET = "e2e-techcheck-secret-0123456789"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
FAKE_DEVICES = "--use-fake-device-for-media-stream"
FAKE_PERMISSION_UI = "--use-fake-ui-for-media-stream"
PAGE_BUDGET_BYTES = 100 * 1024
MEASUREMENT_BUDGET_BYTES = 2_000_000
MEASURE_TIMEOUT_MS = 45_000
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 640}
UPDATE = os.environ.get("UPDATE_SCREENSHOT") == "1"
SCREENSHOT_AR = Path(__file__).resolve().parents[2] / "docs" / "techcheck-page-ar.png"
SCREENSHOT_AR_TMP = Path("/tmp") / "techcheck-page-ar.png"


@pytest.fixture(autouse=True)
def techcheck_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot and the test sign links with the same secret (set before the bot starts)."""
    monkeypatch.setenv("TECHCHECK_SECRET", SECRET)


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Overrides the conftest's browser: the Playground test needs a camera and a microphone."""
    with chromium(FAKE_DEVICES, FAKE_PERMISSION_UI) as launched:
        yield launched


# --- helpers -----------------------------------------------------------------------------------


def in_thread(coroutine: Any) -> Any:
    """Run a coroutine on its own loop (Playwright's sync API occupies this thread's)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        outcome["value"] = asyncio.run(coroutine)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return outcome.get("value")


def issue_link(bot: BotService, client_id: str = "e2e-client", locale: str = "de") -> str:
    """A link as the chat issues it, registered on the client's profile in the bot's database.

    No conversation reference: the result is stored, but there is no chat to announce it in.
    """
    claims = LinkClaims(client_id, secrets.token_urlsafe(9), int(time.time()) + 1800, locale)

    async def register() -> None:
        store = open_document_store(f"sqlite:///{bot.database}")
        await store.open()
        try:

            def add(profile: Any) -> None:
                profile.techcheck = {"ref": {}, "links": {claims.link_id: claims.expires}}

            await Profiles(store).update(client_id, add)
        finally:
            await store.close()

    in_thread(register())
    token = codec_for(Settings(_env_file=None, techcheck_secret=SECRET)).mint(claims)
    return f"http://127.0.0.1:{bot.port}/techcheck/{token}"


@dataclass
class Traffic:
    """Bytes each request to the bot cost: headers and (compressed) body, both directions."""

    page: list[tuple[str, int]] = field(default_factory=list)
    measurement: list[tuple[str, int]] = field(default_factory=list)

    def record(self, request: Request) -> None:
        sizes = request.sizes()
        total = sum(sizes.values())
        entry = (request.url.split("?")[0], total)
        if "/techcheck/api/" in request.url:
            self.measurement.append(entry)
        else:
            self.page.append(entry)

    @property
    def page_bytes(self) -> int:
        return sum(size for _, size in self.page)

    @property
    def measurement_bytes(self) -> int:
        return sum(size for _, size in self.measurement)


def counted_context(browser: Browser, **options: Any) -> tuple[BrowserContext, Traffic]:
    context = browser.new_context(locale="de-DE", bypass_csp=True, **options)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    traffic = Traffic()
    context.on("requestfinished", traffic.record)
    # Chromium reports a streamed fetch with an AbortSignal as aborted even when it read it
    # all; its sizes are still right.
    context.on("requestfailed", traffic.record)
    return context, traffic


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations (and best practices) on the page as it is now."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))  # the page's CSP is bypassed in these contexts
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"""
    )
    return list(found)


def run_device_checks(page: Page, heard: bool = True) -> None:
    page.get_by_role("button", name="Check starten").click()
    page.get_by_role("button", name="Ton abspielen").click()
    page.get_by_role("button", name="Ja, gehört" if heard else "Nein, nichts gehört").click()
    expect(page.locator("#connection-result")).not_to_have_text(
        "Noch nicht geprüft.", timeout=MEASURE_TIMEOUT_MS
    )
    expect(page.get_by_role("button", name="Ergebnis an den Chat senden")).to_be_enabled()


def usage_bytes(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT body FROM documents WHERE kind = 'techcheck_usage'"
        ).fetchall()
    return sum(json.loads(body)["down"] + json.loads(body)["up"] for (body,) in rows)


# --- the tests -----------------------------------------------------------------------------------


def test_measured_check_from_the_chat_end_to_end(
    playground_chat: PlaygroundChat, bot_service: BotService
) -> None:
    chat = playground_chat
    walk_to_tech_check(chat)
    answer_tech_check_all_good(chat)
    result_card = chat.card("Ihre Technik ist bereit.")

    with chat.page.context.expect_page() as opened:
        result_card.get_by_text("Technik jetzt testen", exact=True).click()
    page = opened.value
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Technik-Check", level=1)).to_be_visible()
    run_device_checks(page)
    expect(page.locator("#camera-result")).to_have_text(
        re.compile(r"Die Kamera funktioniert: \d+ × \d+ Pixel, [\d,]+ Bilder pro Sekunde\.")
    )
    expect(page.locator("#microphone-result")).to_have_text(
        "Das Mikrofon funktioniert. Wir haben Sie gehört."
    )
    expect(page.locator("#connection-result")).to_contain_text("Die Verbindung ist gut für Video")
    page.get_by_role("button", name="Ergebnis an den Chat senden").click()
    expect(page.locator("#sent")).to_have_text(
        "Danke! Das Ergebnis ist jetzt im Chat. Sie können diese Seite schließen."
    )

    page.reload()  # the link is used now: a clear page, not an error
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Dieser Technik-Check ist schon fertig"
    )
    page.close()
    chat.page.bring_to_front()  # a page in the background is throttled

    announcement = chat.card("Ihr Technik-Check ist fertig")
    expect(announcement).to_contain_text(re.compile(r"Kamera: funktioniert \(\d+ × \d+"))
    expect(announcement).to_contain_text("Mikrofon: funktioniert")
    expect(announcement).to_contain_text("Lautsprecher: Ton gehört")
    expect(announcement).to_contain_text("Verbindung: gut für Video")

    # The chat goes on; the handoff for the counsellor carries the measured result.
    consent = chat.card("Ihr Ja zum Video-Gespräch (Einwilligung)")
    consent.get_by_role("button", name="Ja, ich bin einverstanden", exact=True).click()
    times = chat.card("Wann passt Ihnen ein Termin?")
    times.get_by_role("checkbox", name="Montag").check()
    times.get_by_role("checkbox", name="vormittags (8–12 Uhr)").check()
    times.get_by_role("button", name="Weiter", exact=True).click()
    chat.card("Geschafft! Wir haben Ihre Anfrage an Ihre Beraterin oder Ihren Berater geschickt.")
    (handoff,) = documents(bot_service.database, "handoff")
    measured = handoff["tech"]["measured"]
    assert measured["camera"]["status"] == "ok"
    assert measured["camera"]["width"] >= 640
    assert measured["camera"]["height"] >= 480
    assert measured["camera"]["fps"] > 5
    assert measured["microphone"] == {"status": "ok"}
    assert measured["speaker"] == {"status": "heard"}
    assert measured["connection"]["verdict"] in ("hd", "video")
    assert measured["outcome"] == "ready"
    (profile,) = documents(bot_service.database, "profile")
    assert profile["measured"] == measured


def test_page_weight_data_budget_and_accessibility_on_a_phone(bot_service: BotService) -> None:
    url = issue_link(bot_service)
    with chromium(FAKE_DEVICES, FAKE_PERMISSION_UI) as launched:
        context, traffic = counted_context(launched, viewport=PHONE, has_touch=True)
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#browser-result")).not_to_be_empty()
        page.wait_for_load_state("networkidle")
        assert traffic.measurement == []
        names = sorted(url.rsplit("/", 1)[-1] for url, _ in traffic.page)
        assert names[-2:] == ["app.css", "app.js"], names
        print(f"\npage before measuring: {traffic.page_bytes} bytes in {len(traffic.page)}")
        assert traffic.page_bytes <= PAGE_BUDGET_BYTES
        assert axe_violations(page) == []

        run_device_checks(page)
        expect(page.locator("#estimate")).to_contain_text("in 30 Minuten etwa")
        assert axe_violations(page) == []
        print(f"measurement: {traffic.measurement_bytes} bytes in {len(traffic.measurement)}")
        bodies = usage_bytes(bot_service.database)  # what the endpoints sent and accepted
        assert 0 < bodies < traffic.measurement_bytes <= MEASUREMENT_BUDGET_BYTES
        expect(page.locator("#connection-result")).to_contain_text("Die Verbindung ist gut für")

        # Keyboard only: the send button has the focus once the checks are done.
        page.keyboard.press("Enter")
        expect(page.locator("#sent")).to_contain_text("Danke!")
        context.close()
    (profile,) = documents(bot_service.database, "profile")
    assert profile["measured"]["outcome"] in ("ready", "ready_with_advice")


def test_the_arabic_page_reads_right_to_left_on_a_small_phone(bot_service: BotService) -> None:
    """dir="rtl", mirrored by logical CSS, no horizontal scroll at 320 px, axe-clean before and
    after the checks, and figures such as "1280 × 720" keep their order (issue 11)."""
    t = translator("ar")
    url = issue_link(bot_service, client_id="e2e-client-ar", locale="ar")
    with chromium(FAKE_DEVICES, FAKE_PERMISSION_UI) as launched:
        context, _ = counted_context(launched, viewport=SMALL_PHONE, has_touch=True)
        page = context.new_page()
        page.goto(url)
        assert page.evaluate("[document.documentElement.lang, document.dir]") == ["ar", "rtl"]
        expect(page.get_by_role("heading", level=1)).to_have_text(t("techcheck.page.title"))
        assert axe_violations(page) == []
        assert no_horizontal_scroll(page)
        # mirrored: list markers and the start button sit on the right
        notes = page.evaluate(
            """() => { const s = getComputedStyle(document.querySelector('.notes'));
                       return [s.paddingLeft, s.paddingRight]; }"""
        )
        assert notes[0] == "0px"
        assert notes[1] != "0px"
        start = page.get_by_role("button", name=t("techcheck.page.start")).bounding_box()
        assert start is not None
        assert start["x"] + start["width"] > SMALL_PHONE["width"] - 40

        page.get_by_role("button", name=t("techcheck.page.start")).click()
        page.get_by_role("button", name=t("techcheck.page.play")).click()
        page.get_by_role("button", name=t("techcheck.page.heard_yes")).click()
        expect(page.get_by_role("button", name=t("techcheck.page.send"))).to_be_enabled(
            timeout=MEASURE_TIMEOUT_MS
        )
        # "1280 × 720" reads left to right inside the Arabic line, and "MB" follows its number
        width_x, height_x = figure_positions(page, "#camera-result", r"\d+")[:2]
        assert width_x < height_x
        number_x = figure_positions(page, "#estimate", r"\d+\sMB")[0]
        unit_x = figure_positions(page, "#estimate", r"MB")[0]
        assert number_x < unit_x
        assert axe_violations(page) == []
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(SCREENSHOT_AR if UPDATE else SCREENSHOT_AR_TMP), full_page=True)
        context.close()


def figure_positions(page: Page, selector: str, pattern: str) -> list[float]:
    """Where each match of ``pattern`` in the element's text starts on the screen (x)."""
    return list(
        page.evaluate(
            """([selector, pattern]) => {
                const walker = document.createTreeWalker(
                    document.querySelector(selector), NodeFilter.SHOW_TEXT);
                const found = [];
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    for (const match of node.textContent.matchAll(new RegExp(pattern, "g"))) {
                        const range = document.createRange();
                        range.setStart(node, match.index);
                        range.setEnd(node, match.index + match[0].length);
                        found.push(range.getBoundingClientRect().x);
                    }
                }
                return found;
            }""",
            [selector, pattern],
        )
    )


def no_horizontal_scroll(page: Page) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_refused_permissions_are_explained(bot_service: BotService) -> None:
    url = issue_link(bot_service)
    with chromium(FAKE_DEVICES) as launched:  # devices exist, but nobody allows them
        context, _ = counted_context(launched)
        page = context.new_page()
        page.goto(url)
        page.get_by_role("button", name="Check starten").click()
        expect(page.locator("#camera-result")).to_have_text("Die Kamera ist nicht erlaubt.")
        expect(page.locator("#camera-advice")).to_contain_text(
            "Sie haben die Kamera nicht erlaubt."
        )
        expect(page.locator("#microphone-result")).to_have_text("Das Mikrofon ist nicht erlaubt.")
        expect(page.locator("#microphone-advice")).to_contain_text(
            "Erlauben Sie dort das Mikrofon. Laden Sie dann die Seite neu."
        )
        expect(page.locator("#preview")).to_be_hidden()
        assert axe_violations(page) == []
        context.close()


def test_missing_devices_are_explained(bot_service: BotService) -> None:
    url = issue_link(bot_service)
    with chromium() as launched:  # no fake devices: this machine has no camera or microphone
        context, _ = counted_context(launched)
        page = context.new_page()
        page.goto(url)
        run_device_checks(page, heard=False)
        expect(page.locator("#camera-result")).to_have_text("Wir haben keine Kamera gefunden.")
        expect(page.locator("#camera-advice")).to_contain_text("Wir haben keine Kamera gefunden.")
        expect(page.locator("#microphone-result")).to_have_text("Wir haben kein Mikrofon gefunden.")
        expect(page.locator("#microphone-advice")).to_contain_text("Schließen Sie ein Headset an")
        expect(page.locator("#speaker-advice")).to_contain_text("Stellen Sie den Ton lauter")
        expect(page.locator("#estimate")).to_contain_text("Ein Gespräch nur mit Ton braucht")
        assert axe_violations(page) == []
        page.get_by_role("button", name="Ergebnis an den Chat senden").click()
        expect(page.locator("#sent")).to_contain_text("Danke!")
        context.close()
    (profile,) = documents(bot_service.database, "profile")
    assert profile["measured"]["outcome"] == "help_needed"
    assert profile["measured"]["advice"][:2] == [
        "techcheck.advice.camera_missing",
        "techcheck.advice.microphone_missing",
    ]


@pytest.mark.parametrize(
    ("down_kbps", "up_kbps", "latency_ms", "verdict", "most_bytes"),
    [
        (2000, 1000, 150, "Die Verbindung ist gut für Video.", 700_000),
        (400, 150, 300, "Die Verbindung reicht nur für Ton.", 150_000),
    ],
    ids=["3g", "slow-mobile"],
)
def test_slow_connections_are_judged_within_a_small_budget(
    bot_service: BotService,
    down_kbps: int,
    up_kbps: int,
    latency_ms: int,
    verdict: str,
    most_bytes: int,
) -> None:
    """Chromium throttles the page like a mobile network; the measurement stops early."""
    url = issue_link(bot_service)
    with chromium(FAKE_DEVICES, FAKE_PERMISSION_UI) as launched:
        context, traffic = counted_context(launched)
        page = context.new_page()
        network = context.new_cdp_session(page)
        network.send("Network.enable")
        network.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": latency_ms,
                "downloadThroughput": down_kbps * 1000 / 8,
                "uploadThroughput": up_kbps * 1000 / 8,
            },
        )
        page.goto(url)
        run_device_checks(page)
        expect(page.locator("#connection-result")).to_contain_text(verdict)
        print(f"\n{down_kbps}/{up_kbps} kbit/s: {traffic.measurement_bytes} bytes")
        assert traffic.measurement_bytes <= most_bytes
        context.close()
