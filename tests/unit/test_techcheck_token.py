"""The measured tech check without a browser: link tokens, settings, judging, accounting,
and the words the chat and the counsellor see."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.config import ConfigurationError, Settings
from bot.domain.handoffs import Handoff
from bot.domain.profiles import ClientProfile, Profiles
from bot.domain.tech_assessment import megabytes
from bot.domain.techcheck_links import (
    LINK_BUDGET_BYTES,
    LOCAL_SECRET,
    MAX_LINKS_PER_CLIENT,
    LinkClaims,
    LinkCodec,
    LinkError,
    LinkIssuer,
    LinkProblem,
    codec_for,
    link_secret,
    public_base_url,
    registered,
)
from bot.i18n import SUPPORTED_LOCALES, load_catalog, staff_translator, translator
from bot.storage import DocumentStore
from bot.techcheck_page.results import (
    THRESHOLDS_KBPS,
    ConnectionResult,
    PostedResult,
    judge_browser,
    judge_connection,
    summarise,
)
from bot.techcheck_page.routes import STATIC, page_texts
from bot.techcheck_page.usage import BudgetExceededError, Direction, UsageLog
from cards.counsellor_cards import handoff_card
from cards.reading import card_texts
from cards.tech_result_cards import link_card, measured_card
from dialogs.session import conversation_reference
from tests.support.adaptive_cards import parse_cards

CLIENT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
NOW = 1_800_000_000
PRODUCTION = {
    "app_id": "7e0c7a4e-0000-4000-8000-000000000001",
    "app_password": "secret",
    "app_tenant_id": "tenant",
    "app_type": "SingleTenant",
    "invitation_pepper": "a-long-enough-secret-pepper",
}
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def claims(**changes: Any) -> LinkClaims:
    values = {"client_id": CLIENT, "link_id": "k7Rm2Hx4PqZw", "expires": NOW + 1800, "locale": "de"}
    return LinkClaims(**{**values, **changes})


def posted(**parts: dict[str, Any]) -> PostedResult:
    result: dict[str, Any] = {
        "camera": {"status": "ok", "width": 1280, "height": 720, "fps": 30},
        "microphone": {"status": "ok"},
        "speaker": {"status": "heard"},
        "connection": {
            "status": "ok",
            "down_kbps": 8000,
            "up_kbps": 3000,
            "rtt_ms": 40,
            "jitter_ms": 5,
            "bytes": 400_000,
        },
        "browser": {"webrtc": True},
    }
    for name, part in parts.items():
        result[name] = {**result[name], **part}
    return PostedResult.model_validate(result)


# --- tokens --------------------------------------------------------------------------------


def test_a_token_round_trips_and_reveals_nobody() -> None:
    codec = LinkCodec(b"a-secret-of-at-least-sixteen")
    token = codec.mint(claims())
    assert codec.read(token, now=NOW) == claims()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret_part in (CLIENT, CLIENT.replace("-", ""), "k7Rm2Hx4PqZw"):
        assert secret_part not in token
        assert secret_part.encode() not in raw
    assert codec.mint(claims()) != token  # a fresh nonce each time


def test_every_altered_character_is_refused() -> None:
    codec = LinkCodec(b"a-secret-of-at-least-sixteen")
    token = codec.mint(claims())
    for position in range(len(token)):
        for replacement in ("A", "f", "-"):
            if token[position] == replacement:
                continue
            altered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(LinkError) as refused:
                codec.read(altered, now=NOW)
            assert refused.value.problem == LinkProblem.INVALID, (position, replacement)


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "A" * 40, "x" * 700, "€uro", "abc$def", "AQ"],
)
def test_garbage_is_invalid(token: str) -> None:
    with pytest.raises(LinkError) as refused:
        LinkCodec(b"a-secret-of-at-least-sixteen").read(token, now=NOW)
    assert refused.value.problem == LinkProblem.INVALID


@pytest.mark.parametrize("field", ["client_id", "link_id", "locale"])
def test_claims_that_are_not_valid_unicode_are_invalid(field: str) -> None:
    """Only with the secret — but in local mode that is a constant in the source: a lone
    surrogate in a claim used to reach the database and answer 500."""
    codec = LinkCodec(b"a-secret-of-at-least-sixteen")
    token = codec.mint(replace(claims(), **{field: "\ud800"}))
    with pytest.raises(LinkError) as refused:
        codec.read(token, now=NOW)
    assert refused.value.problem == LinkProblem.INVALID


def test_expired_truncated_and_foreign_tokens() -> None:
    codec = LinkCodec(b"a-secret-of-at-least-sixteen")
    token = codec.mint(claims())
    with pytest.raises(LinkError) as expired:
        codec.read(token, now=NOW + 1800)
    assert expired.value.problem == LinkProblem.EXPIRED
    for bad in (token[:-1], token[:-4], token + "A"):
        with pytest.raises(LinkError):
            codec.read(bad, now=NOW)
    other = LinkCodec(b"another-secret-of-sixteen+").mint(claims())
    with pytest.raises(LinkError) as foreign:
        codec.read(other, now=NOW)
    assert foreign.value.problem == LinkProblem.INVALID


def test_a_link_counts_only_while_the_profile_lists_it() -> None:
    profile = ClientProfile(CLIENT, techcheck={"links": {"k7Rm2Hx4PqZw": NOW + 1800}})
    assert registered(profile, claims())
    assert not registered(None, claims())
    assert not registered(profile, claims(link_id="other"))
    assert not registered(profile, claims(expires=NOW + 60))
    assert not registered(ClientProfile(CLIENT), claims())


async def test_issuing_registers_the_link_and_the_conversation(
    settings: Settings, store: DocumentStore
) -> None:
    adapter = TestAdapter()
    activity = Activity(
        type="message",
        channel_id="msteams",
        service_url="https://smba.example.test/",
        from_property=ChannelAccount(id="29:x", aad_object_id=CLIENT),
        recipient=ChannelAccount(id="28:bot"),
        conversation=ConversationAccount(id="a:conversation-1"),
    )
    context = TurnContext(adapter, activity)
    issuer = LinkIssuer(settings, Profiles(store), codec_for(settings))
    links = [
        await issuer.issue(conversation_reference(context), CLIENT, "en", now=NOW + i)
        for i in range(7)
    ]
    assert all(link is not None for link in links)
    last = links[-1]
    assert last is not None
    assert last.url.startswith("http://127.0.0.1:3978/techcheck/")
    assert last.claims.expires == NOW + 6 + 30 * 60
    profile = await Profiles(store).get(CLIENT)
    assert profile is not None
    assert profile.techcheck["ref"]["conversation"]["id"] == "a:conversation-1"
    kept = profile.techcheck["links"]
    assert len(kept) == MAX_LINKS_PER_CLIENT
    assert all(registered(profile, link.claims) for link in links[-MAX_LINKS_PER_CLIENT:] if link)
    assert not registered(profile, links[0].claims)  # type: ignore[union-attr]
    codec = LinkCodec(link_secret(settings))
    assert codec.read(last.url.rsplit("/", 1)[1], now=NOW) == last.claims


# --- settings --------------------------------------------------------------------------------


def test_secrets_and_addresses_of_the_links() -> None:
    local = Settings(_env_file=None)
    assert link_secret(local) == LOCAL_SECRET.encode()
    assert public_base_url(local) == "http://127.0.0.1:3978"
    assert public_base_url(Settings(_env_file=None, host="::1", port=4000)) == "http://[::1]:4000"
    configured = Settings(
        _env_file=None, techcheck_secret="sixteen-chars-ok!", public_url="https://bot.example/"
    )
    assert link_secret(configured) == b"sixteen-chars-ok!"
    assert public_base_url(configured) == "https://bot.example"

    production = Settings(_env_file=None, **PRODUCTION)
    production.check()
    derived = link_secret(production)
    assert derived not in (LOCAL_SECRET.encode(), PRODUCTION["invitation_pepper"].encode())
    other = Settings(_env_file=None, **{**PRODUCTION, "invitation_pepper": "x" * 20})
    assert link_secret(other) != derived
    assert public_base_url(production) is None  # no link until BOT_PUBLIC_URL is set


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"techcheck_secret": "too-short"}, "TECHCHECK_SECRET"),
        ({"public_url": "http://bot.example"}, "https"),
        ({"public_url": "ftp://bot.example"}, "http"),
        ({"public_url": "bot.example"}, "http"),
    ],
)
def test_bad_tech_check_settings_are_refused(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings(_env_file=None, **PRODUCTION, **changes).check()


def test_loopback_links_may_use_plain_http() -> None:
    Settings(_env_file=None, public_url="http://127.0.0.1:3978").check()
    Settings(_env_file=None, **PRODUCTION, public_url="https://bot.example").check()


# --- judging -----------------------------------------------------------------------------------


def test_thresholds_come_from_microsofts_figures() -> None:
    assert round(THRESHOLDS_KBPS["audio"]) == 30
    assert round(THRESHOLDS_KBPS["video"]) == 500
    assert round(THRESHOLDS_KBPS["hd"]) == 1222


@pytest.mark.parametrize(
    ("user_agent", "name", "verdict"),
    [
        (CHROME, "chrome", "ok"),
        (CHROME.replace("Chrome/131", "Chrome/96"), "chrome", "update"),
        (CHROME + " Edg/131.0.2903.70", "edge", "ok"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "firefox", "ok"),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
            "firefox",
            "update",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Safari/605.1.15",
            "safari",
            "ok",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "safari",
            "mobile",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
            "other",
            "mobile",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "chrome",
            "mobile",
        ),
        (CHROME + " OPR/114.0.0.0", "other", "other"),
        ("Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", "other", "other"),
        ("", "other", "other"),
    ],
)
def test_browsers(user_agent: str, name: str, verdict: str) -> None:
    judged = judge_browser(user_agent)
    assert (judged["name"], judged["verdict"]) == (name, verdict)


def test_an_ipad_that_says_mac_and_a_browser_without_webrtc() -> None:
    mac_safari = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15"
    )
    assert judge_browser(mac_safari, touch=True)["verdict"] == "mobile"
    assert judge_browser(CHROME, webrtc=False)["verdict"] == "other"


@pytest.mark.parametrize(
    ("down", "up", "rtt", "jitter", "verdict"),
    [
        (20_000, 5_000, 20, 3, "hd"),
        (20_000, 1_223, 20, 3, "hd"),
        (20_000, 1_200, 20, 3, "video"),
        (20_000, 5_000, 150, 3, "video"),  # slow round trip: no HD promised
        (20_000, 5_000, 20, 45, "video"),
        (500, 900, 20, 3, "video"),
        (499, 900, 20, 3, "audio"),
        (30, 40, 300, 50, "audio"),
        (29, 4_000, 20, 3, "none"),
    ],
)
def test_connection_verdicts(down: float, up: float, rtt: float, jitter: float, verdict: str):
    connection = ConnectionResult(
        status="ok", down_kbps=down, up_kbps=up, rtt_ms=rtt, jitter_ms=jitter
    )
    assert judge_connection(connection) == verdict
    assert judge_connection(ConnectionResult(status="failed")) == "failed"


def test_a_summary_judges_everything_on_the_server() -> None:
    ready = summarise(posted(), CHROME)
    assert (ready["outcome"], ready["advice"], ready["quality"]) == ("ready", [], "720p")
    assert (ready["mb_30_min"], ready["mb_60_min"]) == (megabytes("720p", 30), 1100)

    android = CHROME.replace("Windows NT 10.0; Win64; x64", "Linux; Android 14") + " Mobile"
    phone = summarise(posted(), android)
    assert phone["quality"] == "360p"  # phones send 360p
    assert phone["advice"] == ["techcheck.advice.browser_mobile"]

    no_camera = summarise(posted(camera={"status": "denied"}), CHROME)
    assert no_camera["outcome"] == "ready_with_advice"
    assert (no_camera["quality"], no_camera["mb_60_min"]) == ("audio", 27)

    weak = summarise(posted(connection={"down_kbps": 20, "up_kbps": 20}), CHROME)
    assert weak["outcome"] == "help_needed"
    assert weak["advice"] == ["techcheck.advice.connection_none"]
    assert weak["quality"] == ""

    no_sound = posted(microphone={"status": "missing"}, speaker={"status": "not_heard"})
    silent_speaker = summarise(no_sound, CHROME)
    assert silent_speaker["outcome"] == "help_needed"
    assert silent_speaker["advice"] == [
        "techcheck.advice.microphone_missing",
        "techcheck.advice.speaker_not_heard",
    ]

    unmeasured = summarise(posted(connection={"status": "budget"}), CHROME)
    assert unmeasured["connection"]["verdict"] == "failed"
    assert unmeasured["advice"] == ["techcheck.advice.connection_budget"]

    unbelievable = summarise(posted(), CHROME, served=(0, 0))  # the server sent nothing
    assert unbelievable["connection"]["verdict"] == "failed"
    assert unbelievable["connection"]["bytes"] == 0
    assert summarise(posted(), CHROME, served=(50_000, 20_000))["connection"]["bytes"] == 70_000

    slow = summarise(posted(connection={"rtt_ms": 180}), CHROME)
    assert slow["connection"]["verdict"] == "video"
    assert slow["advice"] == ["techcheck.advice.connection_latency"]


# --- accounting ---------------------------------------------------------------------------------


async def test_the_budget_and_the_used_mark(store: DocumentStore) -> None:
    usage = UsageLog(store)
    link = claims(expires=int(time.time()) + 600)
    await usage.reserve(link, Direction.DOWN, LINK_BUDGET_BYTES - 1000)
    with pytest.raises(BudgetExceededError):
        await usage.reserve(link, Direction.UP, 1001)
    left = await usage.reserve(link, Direction.UP, 1000)
    assert left.left == 0
    await usage.finish(link)
    for attempt in (usage.finish(link), usage.get(link), usage.reserve(link, Direction.UP, 1)):
        with pytest.raises(LinkError) as used:
            await attempt
        assert used.value.problem == LinkProblem.USED
    await usage.reopen(link)
    assert (await usage.get(link)).status == "open"


# --- words ------------------------------------------------------------------------------------


def test_the_page_has_every_text_it_uses_in_both_languages() -> None:
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'text\("([a-z_.]+)"', script))
    statuses = {
        "camera": ["ok", "denied", "missing", "busy", "error"],
        "microphone": ["ok", "silent", "denied", "missing", "busy", "error"],
        "browser": ["ok", "update", "mobile", "other"],
        "connection": ["hd", "video", "audio", "none", "failed"],
    }
    used |= {f"{part}_{status}" for part, names in statuses.items() for status in names}
    used |= {"estimate.audio", "estimate.video"}
    used |= {
        f"advice.{key.removeprefix('techcheck.advice.')}"
        for key in load_catalog("de")
        if key.startswith("techcheck.advice.")
    }
    template = (STATIC / "page.html").read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\{\{([a-z_.]+)\}\}", template)) - set(FILLED_IN)
    for locale in SUPPORTED_LOCALES:
        texts = page_texts(locale)
        assert sorted(used - set(texts)) == [], locale
        catalog = load_catalog(locale)
        missing = [name for name in placeholders if f"techcheck.{name}" not in catalog]
        assert missing == [], locale


FILLED_IN = ("lang", "dir", "css", "js", "config")
TROUBLE = ["techcheck.advice.connection_none"]


def measured(**changes: Any) -> dict[str, Any]:
    return {**summarise(posted(), CHROME), **changes}


def test_the_chat_and_the_counsellor_see_the_result_in_words() -> None:
    t = staff_translator("de")
    card = measured_card(t, measured()).attachments[0].content
    texts = card_texts(card)
    assert texts[0] == "Ihr Technik-Check ist fertig: Alles ist bereit."
    assert "- Kamera: funktioniert (1280 × 720, 30 Bilder pro Sekunde)" in texts
    assert "- Verbindung: gut für Video in HD (↓ 8 Mbit/s, ↑ 3 Mbit/s, 40 ms)" in texts
    assert (
        "Ein Video-Gespräch braucht in 30 Minuten etwa 550 MB. In 60 Minuten sind es etwa 1100 MB."
        in texts
    )

    handoff = Handoff(
        handoff_id="h-1",
        client_id=CLIENT,
        client_name="Erika Muster",
        purpose="consultation",
        consultation_type="video",
        topic="application",
        windows=["mon-morning"],
        tech={"outcome": "ready", "advice": [], "mb_60_min": 1100, "measured": measured()},
    )
    english = staff_translator("en")
    facts = {
        fact["title"]: fact["value"] for fact in handoff_card(english, handoff)["body"][1]["facts"]
    }
    assert facts["Measured tech check"].startswith("Everything is ready. Camera: works")
    assert "60 minutes about 1100 MB" in facts["Measured tech check"]
    assert facts["Technology"].startswith("Your device is ready.")

    trouble = measured(outcome="help_needed")
    only_measured = Handoff(**{**handoff.to_body(), "tech": {"measured": trouble}})
    rendered = handoff_card(t, only_measured)
    assert "Technik" not in {fact["title"] for fact in rendered["body"][1]["facts"]}
    assert any("Vielleicht braucht die Person Hilfe" in text for text in card_texts(rendered))


@pytest.mark.node
def test_the_new_cards_parse_without_warnings(tmp_path: Path) -> None:
    from bot.domain.techcheck_links import IssuedLink

    link = IssuedLink("http://127.0.0.1:3978/techcheck/abc", claims())
    sent = []
    for locale in SUPPORTED_LOCALES:
        t = translator(locale)
        for activity in (
            link_card(t, link, 30),
            measured_card(t, measured()),
            measured_card(t, measured(outcome="help_needed", quality="", advice=TROUBLE)),
        ):
            sent.append(activity.attachments[0].content)
    assert all(events == [] for events in parse_cards(sent)), parse_cards(sent)
