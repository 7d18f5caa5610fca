"""The measured tech check over real HTTP: the link from the chat, the page, the measurement
endpoints and the result coming back into the chat, the profile and the handoff.

Bad tokens, oversized or malformed posts get a clear 4xx and store nothing."""

from __future__ import annotations

import asyncio
import gzip
import html
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.app import STORE
from bot.config import Settings
from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoffs
from bot.domain.profiles import Profiles
from bot.domain.techcheck_links import LINK_BUDGET_BYTES, LinkClaims, codec_for
from bot.i18n import translator
from bot.techcheck_page.routes import MAX_RESULT_BYTES, MAX_TRANSFER_BYTES
from bot.techcheck_page.usage import USAGE
from cards.reading import card_actions
from tests.support.http_bot import RunningBot, StartBot, TeamsClient
from tests.support.journey import CollectingNotifier
from tests.support.techcheck import GOOD_RESULT, open_url, reach_tech_result, token_of

TOKEN_HEADER = "X-Techcheck-Token"
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DONE = "Ihr Technik-Check ist fertig: Alles ist bereit."


def card_with_button(client: TeamsClient, title: str) -> dict[str, Any]:
    """The newest card with that button (an announcement may have come in below it)."""
    return next(
        card
        for card in reversed(client.cards())
        if any(action.get("title") == title for action in card_actions(card))
    )


async def finish_journey(client: TeamsClient) -> None:
    consent = card_with_button(client, "Ja, ich bin einverstanden")
    await client.click("Ja, ich bin einverstanden", consent)
    await client.click("Weiter", days="mon,wed", parts="morning")
    assert client.said(
        "Geschafft! Wir haben Ihre Anfrage an Ihre Beraterin oder Ihren Berater geschickt."
    )


async def call(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    method: str,
    path: str,
    token: str | None,
    **options: Any,
) -> tuple[int, dict[str, str], bytes]:
    headers = {"User-Agent": CHROME_UA, "Accept-Encoding": "identity", **options.pop("headers", {})}
    if token is not None:
        headers[TOKEN_HEADER] = token
    async with http.request(
        method, bot.url(path), headers=headers, auto_decompress=False, **options
    ) as response:
        return response.status, dict(response.headers), await response.read()


async def post_result(
    http: aiohttp.ClientSession, bot: RunningBot, token: str | None, body: Any = None, **options
) -> tuple[int, Any]:
    if "data" not in options and "json" not in options:
        options["json"] = GOOD_RESULT if body is None else body
    status, _, raw = await call(http, bot, "POST", "/techcheck/api/result", token, **options)
    return status, json.loads(raw) if raw else None


async def measure(http: aiohttp.ClientSession, bot: RunningBot, token: str) -> int:
    """What the page does before it posts: a transfer each way (the server counts them)."""
    status, _, _ = await call(http, bot, "GET", "/techcheck/api/down?bytes=50000", token)
    assert status == 200
    status, _, _ = await call(http, bot, "POST", "/techcheck/api/up", token, data=bytes(20000))
    assert status == 200
    return 70_000


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether ``check`` comes true within ``seconds`` (announcements are sent in the
    background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def announced(client: TeamsClient, text: str, seconds: float = 10.0) -> bool:
    """Whether the chat got a message with ``text``."""
    return await eventually(
        lambda: any(text in line for line in client.texts(client.all_replies())), seconds
    )


async def stored_usage(bot: RunningBot, token: str, settings: Settings) -> dict | None:
    claims = codec_for(settings).read(token)
    document = await bot.app[STORE].get(USAGE, claims.link_id, partition=claims.link_id)
    return None if document is None else document.body


# --- the page ------------------------------------------------------------------------------


async def test_the_page_and_its_assets_are_small_compressed_and_locked_down(
    bot: RunningBot, client: TeamsClient, http: aiohttp.ClientSession
) -> None:
    token = await reach_tech_result(client)
    gzip_headers = {"Accept-Encoding": "gzip"}
    status, headers, body = await call(
        http, bot, "GET", f"/techcheck/{token}", None, headers=gzip_headers
    )
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    page = gzip.decompress(body).decode()
    assert '<html lang="de" dir="ltr">' in page
    assert "Technik-Check" in page
    assert client.aad_object_id not in page
    assert client.conversation_id not in page
    transferred = len(body)
    for asset in ("app.js", "app.css"):
        marker = f"/techcheck/static/{asset}?v="
        start = page.index(marker)
        path = page[start : page.index('"', start)]
        status, headers, asset_body = await call(http, bot, "GET", path, None, headers=gzip_headers)
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]
        transferred += len(asset_body)
        status, _, plain = await call(http, bot, "GET", path, None)
        assert status == 200
        assert gzip.decompress(asset_body) == plain
    assert transferred < 20_000, transferred  # the budget is 100 KB; it needs far less


async def test_the_page_speaks_the_clients_language(
    start_bot: StartBot, settings: Settings, http: aiohttp.ClientSession, connector
) -> None:
    bot = await start_bot(settings)
    client = TeamsClient(http, bot, connector, locale="en-US")
    await client.install()
    await client.click("Job applications (CV, cover letter)")
    await client.click("By video")
    for answer in ("Laptop or computer", "Yes, the Teams app", "Yes, both", "Yes"):
        await client.click(answer)
    replies = await client.click("Wi-Fi or unlimited data")
    card = next(card for card in client.cards(replies) if "Test my device now" in json.dumps(card))
    token = token_of(open_url(card, "Test my device now"))
    status, _, body = await call(http, bot, "GET", f"/techcheck/{token}", None)
    assert status == 200
    page = body.decode()
    assert '<html lang="en" dir="ltr">' in page
    assert "Start the check" in page


# --- measuring and the result --------------------------------------------------------------


async def test_measurement_endpoints_count_against_the_links_budget(
    bot: RunningBot, client: TeamsClient, http: aiohttp.ClientSession, settings: Settings
) -> None:
    token = await reach_tech_result(client)
    status, headers, _ = await call(http, bot, "GET", "/techcheck/api/ping", token)
    assert (status, headers["Cache-Control"]) == (204, "no-store")

    status, headers, body = await call(
        http,
        bot,
        "GET",
        "/techcheck/api/down?bytes=65536",
        token,
        headers={"Accept-Encoding": "gzip"},
    )
    assert status == 200
    assert len(body) == 65536
    assert headers.get("Content-Encoding", "identity") == "identity"
    assert len(gzip.compress(body)) > 65000  # random: nothing to gain by compressing

    status, _, body = await call(
        http,
        bot,
        "POST",
        "/techcheck/api/up",
        token,
        data=bytes(100_000),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert (status, json.loads(body)) == (200, {"bytes": 100_000})
    usage = await stored_usage(bot, token, settings)
    assert usage is not None
    assert (usage["down"], usage["up"], usage["status"]) == (65536, 100_000, "open")

    # More than one request may carry, or more than the link may cost: refused before sending.
    too_big = MAX_TRANSFER_BYTES + 1
    status, _, _ = await call(http, bot, "GET", f"/techcheck/api/down?bytes={too_big}", token)
    assert status == 400
    for _ in range(LINK_BUDGET_BYTES // MAX_TRANSFER_BYTES):
        status, _, _ = await call(
            http, bot, "GET", f"/techcheck/api/down?bytes={MAX_TRANSFER_BYTES}", token
        )
    assert status == 429
    usage = await stored_usage(bot, token, settings)
    assert usage is not None
    assert usage["down"] + usage["up"] <= LINK_BUDGET_BYTES

    async def chunked():
        yield b"x" * 1000

    status, _, _ = await call(http, bot, "POST", "/techcheck/api/up", token, data=chunked())
    assert status == 411
    status, _, _ = await call(
        http, bot, "POST", "/techcheck/api/up", token, data=bytes(MAX_TRANSFER_BYTES + 1)
    )
    assert status == 413
    status, _, _ = await call(http, bot, "GET", "/techcheck/api/down?bytes=lots", token)
    assert status == 400


async def test_a_result_reaches_the_chat_the_profile_and_the_later_handoff(
    bot: RunningBot,
    client: TeamsClient,
    http: aiohttp.ClientSession,
    notifier: CollectingNotifier,
    settings: Settings,
) -> None:
    token = await reach_tech_result(client)
    await measure(http, bot, token)
    status, answer = await post_result(http, bot, token)
    assert (status, answer) == (200, {"outcome": "ready", "advice": []})
    assert await announced(client, DONE)
    assert await announced(client, "Kamera: funktioniert (1280 × 720, 30 Bilder pro Sekunde)")
    assert await announced(client, "Verbindung: gut für Video in HD (↓ 12 Mbit/s, ↑ 4 Mbit/s")

    # The announcement came in below the open consent card: its "Weiter" brings the step back.
    announcement = client.cards()[-1]
    assert [action.get("title") for action in card_actions(announcement)] == ["Weiter"]
    replies = await client.click("Weiter", announcement)
    assert client.said("Ihr Ja zum Video-Gespräch (Einwilligung)", replies)

    profile = await Profiles(bot.app[STORE]).get(client.aad_object_id)
    assert profile is not None
    measured = profile.measured
    assert measured["outcome"] == "ready"
    assert measured["connection"]["verdict"] == "hd"
    assert measured["connection"]["bytes"] == 70_000  # counted by the server, not the page
    assert measured["quality"] == "720p"
    assert (measured["mb_30_min"], measured["mb_60_min"]) == (550, 1100)
    assert measured["browser"] == {
        "name": "chrome",
        "version": 131,
        "mobile": False,
        "verdict": "ok",
    }

    # The chat went on meanwhile: the handoff made afterwards carries the measured result.
    await finish_journey(client)
    (handoff,) = await Handoffs(bot.app[STORE]).for_client(client.aad_object_id)
    assert handoff.tech["measured"] == measured
    assert handoff.tech["outcome"] == "ready"

    # Used: the page and the API say so, and nothing is sent twice.
    status, again = await post_result(http, bot, token)
    assert status == 410
    assert "used" in again["error"]
    status, headers, body = await call(http, bot, "GET", f"/techcheck/{token}", None)
    assert status == 410
    assert headers["Content-Type"].startswith("text/html")
    assert "Dieser Technik-Check ist schon fertig" in body.decode()
    usage = await stored_usage(bot, token, settings)
    assert usage is not None
    assert usage["status"] == "done"


async def test_a_result_after_the_handoff_updates_it_and_refreshes_the_counsellors_card(
    bot: RunningBot, client: TeamsClient, http: aiohttp.ClientSession, notifier: CollectingNotifier
) -> None:
    await reach_tech_result(client)
    await finish_journey(client)
    (handoff,) = await Handoffs(bot.app[STORE]).for_client(client.aad_object_id)
    assert "measured" not in handoff.tech
    assert notifier.events == [(handoff.handoff_id, HandoffEvent.REQUESTED)]

    replies = await client.say("Technik-Check")  # the typed command, at any time
    card = client.cards(replies)[0]
    assert "Technik im Browser testen" in json.dumps(card, ensure_ascii=False)
    token = token_of(open_url(card))
    await measure(http, bot, token)

    weak = {
        **GOOD_RESULT,
        "camera": {"status": "denied"},
        "connection": {**GOOD_RESULT["connection"], "down_kbps": 300, "up_kbps": 200},
    }
    status, answer = await post_result(http, bot, token, weak)
    assert status == 200
    assert answer == {
        "outcome": "ready_with_advice",
        "advice": ["techcheck.advice.camera_denied", "techcheck.advice.connection_audio"],
    }
    (updated,) = await Handoffs(bot.app[STORE]).for_client(client.aad_object_id)
    measured = updated.tech["measured"]
    assert (measured["quality"], measured["mb_60_min"]) == ("audio", 27)
    assert await announced(client, "Ihr Technik-Check ist fertig: Es geht, mit ein paar Hinweisen.")
    assert await announced(client, "Sie haben die Kamera nicht erlaubt.")
    assert await eventually(lambda: bool(notifier.refreshed))
    assert notifier.refreshed == [(handoff.handoff_id, "ready", measured)]


async def test_the_command_works_at_any_step_and_the_step_goes_on(
    bot: RunningBot, client: TeamsClient
) -> None:
    await client.install()
    replies = await client.say("tech check")
    cards = client.cards(replies)
    assert "Technik im Browser testen" in json.dumps(cards[0], ensure_ascii=False)
    assert "Der Link gilt 30 Minuten lang. Er ist nur für Sie." in client.texts(replies)
    assert client.said("Worüber möchten Sie sprechen?")  # the question again, below it
    await client.say("Hilfe")
    assert client.said("„Technik-Check“ – Kamera, Mikrofon und Internet im Browser testen")


# --- refusals --------------------------------------------------------------------------------


async def test_bad_tokens_get_a_clear_page_or_4xx_and_store_nothing(
    bot: RunningBot, client: TeamsClient, http: aiohttp.ClientSession, settings: Settings
) -> None:
    token = await reach_tech_result(client)
    codec = codec_for(settings)
    claims = codec.read(token)
    expired = codec.mint(LinkClaims(claims.client_id, claims.link_id, int(time.time()) - 1, "de"))
    tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    # Validly signed, but for someone else's conversation: that client never got this link.
    other_client = codec.mint(
        LinkClaims("3f2504e0-0000-41d3-9a0c-0305e82c3399", claims.link_id, claims.expires, "de")
    )
    other_secret = codec_for(
        Settings(_env_file=None, techcheck_secret="another-secret-of-enough-length")
    ).mint(claims)
    cases = {
        "tampered": (tampered, 403, "Dieser Link funktioniert nicht"),
        "truncated": (token[:-5], 403, "Dieser Link funktioniert nicht"),
        "garbage": ("not-a-token", 403, "Dieser Link funktioniert nicht"),
        "other secret": (other_secret, 403, "Dieser Link funktioniert nicht"),
        "expired": (expired, 410, "Dieser Link ist abgelaufen"),
        "other conversation": (other_client, 410, "Dieser Link gilt nicht mehr"),
    }
    for name, (bad, status_code, title) in cases.items():
        status, headers, body = await call(http, bot, "GET", f"/techcheck/{bad}", None)
        assert status == status_code, name
        assert headers["Content-Type"].startswith("text/html"), name
        page = body.decode()
        assert title in page, name
        assert "„Technik-Check“" in page, name
        assert "Traceback" not in page, name
        assert '"error"' not in page, name
        status, answer = await post_result(http, bot, bad)
        assert status in (403, 410), (name, status)
        assert isinstance(answer.get("error"), str), name
        status, _, _ = await call(http, bot, "GET", "/techcheck/api/down?bytes=1024", bad)
        assert status in (403, 410), (name, status)
        if name != "other conversation":  # the ping checks the signature only: no storage
            status, _, _ = await call(http, bot, "GET", "/techcheck/api/ping", bad)
            assert status in (403, 410), (name, status)

    # An expired link from an Arabic chat: the page in Arabic, right to left.
    expired_ar = codec.mint(
        LinkClaims(claims.client_id, claims.link_id, int(time.time()) - 1, "ar")
    )
    status, _, body = await call(http, bot, "GET", f"/techcheck/{expired_ar}", None)
    assert status == 410
    page = body.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert html.escape(translator("ar")("techcheck.error.expired.title")) in page

    status, _ = await post_result(http, bot, None)
    assert status == 401
    profile = await Profiles(bot.app[STORE]).get(client.aad_object_id)
    assert profile is not None
    assert profile.measured == {}
    assert await stored_usage(bot, token, settings) is None
    assert not await announced(client, "Ihr Technik-Check ist fertig", seconds=0.3)


async def test_oversized_or_malformed_results_get_4xx_and_the_link_still_works(
    bot: RunningBot, client: TeamsClient, http: aiohttp.ClientSession, settings: Settings
) -> None:
    token = await reach_tech_result(client)
    padded = {**GOOD_RESULT, "camera": {"status": "ok", "notes": "x" * MAX_RESULT_BYTES}}
    json_type = {"Content-Type": "application/json"}
    bad_posts = {
        "too large": ({"data": json.dumps(padded), "headers": json_type}, 413),
        "not JSON": ({"data": b"{camera: ok", "headers": json_type}, 400),
        "an array": ({"json": [GOOD_RESULT]}, 400),
        "unknown field": ({"json": {**GOOD_RESULT, "video_frame": "AAAA"}}, 400),
        "wrong type": ({"json": {**GOOD_RESULT, "speaker": {"status": True}}}, 400),
        "unknown status": ({"json": {**GOOD_RESULT, "microphone": {"status": "great"}}}, 400),
        "out of range": (
            {"json": {**GOOD_RESULT, "connection": {**GOOD_RESULT["connection"], "rtt_ms": -1}}},
            400,
        ),
        "missing part": ({"json": {k: v for k, v in GOOD_RESULT.items() if k != "speaker"}}, 400),
        "form data": ({"data": {"camera": "ok"}}, 415),
    }
    for name, (options, expected) in bad_posts.items():
        status, answer = await post_result(http, bot, token, **options)
        assert status == expected, (name, status, answer)
        assert isinstance(answer["error"], str), name

    profile = await Profiles(bot.app[STORE]).get(client.aad_object_id)
    assert profile is not None
    assert profile.measured == {}
    assert await stored_usage(bot, token, settings) is None
    await measure(http, bot, token)
    status, _ = await post_result(http, bot, token)
    assert status == 200
    assert await announced(client, DONE)


async def test_figures_for_a_connection_nobody_measured_are_not_believed(
    bot: RunningBot, client: TeamsClient, http: aiohttp.ClientSession
) -> None:
    token = await reach_tech_result(client)
    status, answer = await post_result(http, bot, token)  # "12 Mbit/s", but nothing was sent
    assert status == 200
    assert answer["advice"] == ["techcheck.advice.connection_failed"]
    profile = await Profiles(bot.app[STORE]).get(client.aad_object_id)
    assert profile is not None
    assert profile.measured["connection"]["verdict"] == "failed"
    assert profile.measured["quality"] == ""
    assert await announced(client, "Ihr Technik-Check ist fertig: Es geht, mit ein paar Hinweisen.")
    assert await announced(client, "Verbindung: nicht gemessen")


async def test_after_deleting_their_data_the_link_is_dead_and_nothing_comes_back(
    bot: RunningBot, client: TeamsClient, http: aiohttp.ClientSession
) -> None:
    token = await reach_tech_result(client)
    await client.say("Meine Daten löschen")
    await client.say("ja")
    status, _, body = await call(http, bot, "GET", f"/techcheck/{token}", None)
    assert status == 410
    assert "Dieser Link gilt nicht mehr" in body.decode()
    status, _ = await post_result(http, bot, token)
    assert status == 410
    assert await Profiles(bot.app[STORE]).get(client.aad_object_id) is None
