"""What the page measured, checked and judged on the server.

The page posts raw observations (which device worked, throughput, round trip); the verdicts
are computed here, from Microsoft's Teams figures in ``bot.domain.tech_assessment``, so a
manipulated page cannot claim "ready". The browser is judged from the request's User-Agent.

Thresholds per direction, derived from ``MB_PER_HOUR`` (up + down per hour, decimal MB):
audio 30 kbit/s, 360p video 500 kbit/s, 720p ("HD") ≈ 1.2 Mbit/s. Microsoft's network targets
are a round trip under 100 ms and jitter under 30 ms; beyond them HD is not promised.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.tech_assessment import MB_PER_HOUR, Outcome, expected_quality, megabytes

RTT_TARGET_MS = 100
JITTER_TARGET_MS = 30
#: oldest browser versions that still get "fine"; Microsoft supports the latest release and the
#: two before it, so below these the browser is certainly out of support (raise them yearly)
MIN_VERSIONS = {"edge": 120, "chrome": 120, "firefox": 115, "safari": 16}
QUALITY_ORDER = ["audio", "360p", "720p"]
CONNECTION_QUALITY = {"hd": "720p", "video": "360p", "audio": "audio"}


def kbps(quality: str) -> float:
    """Per-direction bandwidth of a quality, from Microsoft's MB per hour (up plus down)."""
    return MB_PER_HOUR[quality] * 8_000 / 3_600 / 2


THRESHOLDS_KBPS = {"hd": kbps("720p"), "video": kbps("360p"), "audio": kbps("audio")}

Number = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CameraResult(_Strict):
    status: Literal["ok", "denied", "missing", "busy", "error"]
    width: int = Field(0, ge=0, le=10_000)
    height: int = Field(0, ge=0, le=10_000)
    fps: Number = Field(0, ge=0, le=1_000)


class MicrophoneResult(_Strict):
    status: Literal["ok", "silent", "denied", "missing", "busy", "error"]


class SpeakerResult(_Strict):
    status: Literal["heard", "not_heard"]


class ConnectionResult(_Strict):
    status: Literal["ok", "failed", "budget"]
    down_kbps: Number = Field(0, ge=0, le=100_000_000)
    up_kbps: Number = Field(0, ge=0, le=100_000_000)
    rtt_ms: Number = Field(0, ge=0, le=600_000)
    jitter_ms: Number = Field(0, ge=0, le=600_000)
    bytes: int = Field(0, ge=0, le=100_000_000)


class BrowserResult(_Strict):
    webrtc: bool
    touch: bool = False


class PostedResult(_Strict):
    camera: CameraResult
    microphone: MicrophoneResult
    speaker: SpeakerResult
    connection: ConnectionResult
    browser: BrowserResult


def judge_browser(user_agent: str, webrtc: bool = True, touch: bool = False) -> dict[str, Any]:
    """Can this browser join a Teams meeting, or should the client use the Teams app?

    ``verdict``: ``ok`` | ``update`` (too old) | ``mobile`` (phones and tablets: Teams in a
    mobile browser is not supported, use the app) | ``other`` (not a supported browser).
    """
    name, version = _browser_name(user_agent)
    mobile = bool(re.search(r"Android|iPhone|iPad|iPod|Mobile|Silk|Kindle", user_agent))
    if touch and name == "safari":
        mobile = True  # iPadOS presents itself as a Mac
    if mobile:
        verdict = "mobile"
    elif name == "other" or not webrtc:
        verdict = "other"
    elif version < MIN_VERSIONS[name]:
        verdict = "update"
    else:
        verdict = "ok"
    return {"name": name, "version": version, "mobile": mobile, "verdict": verdict}


def _browser_name(user_agent: str) -> tuple[str, int]:
    patterns = [
        ("other", r"(?:OPR|Opera|SamsungBrowser|YaBrowser|UCBrowser|Vivaldi)/(\d+)"),
        ("edge", r"Edg(?:e|A|iOS)?/(\d+)"),
        ("firefox", r"(?:Firefox|FxiOS)/(\d+)"),
        ("chrome", r"(?:HeadlessChrome|Chrome|Chromium|CriOS)/(\d+)"),
        ("safari", r"Version/(\d+)[\d.]* (?:Mobile/\S+ )?Safari/"),
    ]
    for name, pattern in patterns:
        match = re.search(pattern, user_agent)
        if match:
            return name, int(match.group(1))
    return "other", 0


def judge_connection(connection: ConnectionResult, served: tuple[int, int] | None = None) -> str:
    """``hd`` | ``video`` | ``audio`` | ``none``, by the slower direction; or ``failed``.

    ``served``: the bytes this server really sent and received for the link; figures for a
    direction nothing was measured in are not believed.
    """
    if connection.status != "ok" or (served is not None and min(served) == 0):
        return "failed"
    rate = min(connection.down_kbps, connection.up_kbps)
    verdict = next(
        (name for name in ("hd", "video", "audio") if rate >= THRESHOLDS_KBPS[name]), "none"
    )
    if verdict == "hd" and _slow(connection):
        verdict = "video"
    return verdict


def _slow(connection: ConnectionResult) -> bool:
    return connection.rtt_ms > RTT_TARGET_MS or connection.jitter_ms > JITTER_TARGET_MS


def call_quality(connection_verdict: str, camera_ok: bool, mobile: bool) -> str:
    """The quality a call would likely run at: the lowest of connection, camera and device."""
    quality = CONNECTION_QUALITY.get(connection_verdict, "")
    if not quality:
        return ""
    candidates = [quality, expected_quality("smartphone" if mobile else "computer")]
    if not camera_ok:
        candidates.append("audio")
    return min(candidates, key=QUALITY_ORDER.index)


def summarise(
    posted: PostedResult,
    user_agent: str,
    served: tuple[int, int] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The stored result: observations, verdicts, advice (catalog keys), outcome, data estimate.

    ``served`` (bytes down, up, as counted by the server) replaces the page's own count.
    """
    browser = judge_browser(user_agent, posted.browser.webrtc, posted.browser.touch)
    connection = judge_connection(posted.connection, served)
    camera_ok = posted.camera.status == "ok"
    quality = call_quality(connection, camera_ok, browser["mobile"])
    advice = []
    if not camera_ok:
        advice.append(f"techcheck.advice.camera_{posted.camera.status}")
    if posted.microphone.status != "ok":
        advice.append(f"techcheck.advice.microphone_{posted.microphone.status}")
    if posted.speaker.status != "heard":
        advice.append("techcheck.advice.speaker_not_heard")
    if browser["verdict"] != "ok":
        advice.append(f"techcheck.advice.browser_{browser['verdict']}")
    if connection not in ("hd", "video"):
        reason = connection
        if connection == "failed":
            reason = "budget" if posted.connection.status == "budget" else "failed"
        advice.append(f"techcheck.advice.connection_{reason}")
    if connection != "failed" and _slow(posted.connection):
        advice.append("techcheck.advice.connection_latency")

    help_needed = posted.microphone.status not in ("ok", "silent") or connection == "none"
    outcome = Outcome.READY_WITH_ADVICE if advice else Outcome.READY
    if help_needed:
        outcome = Outcome.HELP_NEEDED
    return {
        "at": (now or datetime.now(UTC)).isoformat(),
        "outcome": str(outcome),
        "advice": advice,
        "camera": posted.camera.model_dump(),
        "microphone": posted.microphone.model_dump(),
        "speaker": posted.speaker.model_dump(),
        "browser": browser,
        "connection": {
            **_rounded(posted.connection.model_dump()),
            **({"bytes": sum(served)} if served is not None else {}),
            "verdict": connection,
        },
        "quality": quality,
        "mb_30_min": megabytes(quality, 30) if quality else 0,
        "mb_60_min": megabytes(quality, 60) if quality else 0,
    }


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: round(value, 1) if isinstance(value, float) else value for key, value in values.items()
    }


def page_config() -> dict[str, Any]:
    """The figures the page judges with while it measures (the server judges again)."""
    return {
        "thresholds": {name: round(value) for name, value in THRESHOLDS_KBPS.items()},
        "rttTarget": RTT_TARGET_MS,
        "jitterTarget": JITTER_TARGET_MS,
        "mbPerHour": MB_PER_HOUR,
        "qualities": CONNECTION_QUALITY,
    }
