"""Tech-check assessment: what a client's answers mean for a Teams video call.

Bandwidth figures are Microsoft's published Teams numbers (per direction): 1:1 audio
30 kbit/s, video 360p 500 kbit/s, 720p 1.2 Mbit/s. Up plus down per hour that is about
27 MB (audio), 450 MB (360p) and 1.1 GB (720p). Teams uses more when it can, so the
estimate is deliberately on the safe side.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

MB_PER_HOUR = {"audio": 27, "360p": 450, "720p": 1100, "1080p": 1350}
UNLIMITED_MB = 1_000_000


class Outcome(StrEnum):
    READY = "ready"
    READY_WITH_ADVICE = "ready_with_advice"
    HELP_NEEDED = "help_needed"


@dataclass
class TechAnswers:
    device: str = ""  # smartphone | tablet | computer
    app: str = ""  # app | browser | unknown
    camera_mic: str = ""  # both | audio_only | none | unknown
    place: str = ""  # yes | no
    connection: str = ""  # wifi | mobile | unknown
    volume_mb: int | None = None  # remaining mobile data; None = not asked / unknown


@dataclass
class Assessment:
    outcome: Outcome
    advice: list[str] = field(default_factory=list)  # catalog keys
    quality: str = "360p"
    mb_30_min: int = 0
    mb_60_min: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (the outcome as its value): it is kept in conversation state, which must
        not name classes of ours — a moved class would no longer load."""
        return {**asdict(self), "outcome": self.outcome.value}


def expected_quality(device: str) -> str:
    """Phones and tablets usually send 360p; laptops and PCs 720p."""
    return "720p" if device == "computer" else "360p"


def megabytes(quality: str, minutes: int) -> int:
    return round(MB_PER_HOUR[quality] * minutes / 60)


def assess(answers: TechAnswers) -> Assessment:
    quality = expected_quality(answers.device)
    result = Assessment(
        Outcome.READY,
        quality=quality,
        mb_30_min=megabytes(quality, 30),
        mb_60_min=megabytes(quality, 60),
    )
    help_needed = False

    if answers.camera_mic in ("none", "unknown"):
        help_needed = True
        result.advice.append(f"tech.advice.camera_mic_{answers.camera_mic}")
    elif answers.camera_mic == "audio_only":
        result.advice.append("tech.advice.audio_only")

    if answers.app == "browser" and answers.device in ("smartphone", "tablet"):
        result.advice.append("tech.advice.mobile_browser")
    elif answers.app == "browser":
        result.advice.append("tech.advice.desktop_browser")
    elif answers.app == "unknown":
        result.advice.append("tech.advice.app_unknown")

    if answers.place == "no":
        result.advice.append("tech.advice.quiet_place")

    if answers.connection == "mobile":
        volume = answers.volume_mb
        if volume is None:
            result.advice.append("tech.advice.volume_unknown")
        elif volume < result.mb_30_min:
            help_needed = True
            result.advice.append("tech.advice.volume_too_low")
        elif volume < result.mb_60_min:
            result.advice.append("tech.advice.volume_tight")
        elif volume < UNLIMITED_MB:
            result.advice.append("tech.advice.volume_ok")
    elif answers.connection == "unknown":
        result.advice.append("tech.advice.connection_unknown")

    if help_needed:
        result.outcome = Outcome.HELP_NEEDED
    elif result.advice:
        result.outcome = Outcome.READY_WITH_ADVICE
    return result


_VOLUME = re.compile(
    r"(?P<amount>\d+(?:[.,]\d+)?)\s*(?P<unit>gb|gigabyte|giga|g|mb|megabyte|mega|m)?\b",
    re.IGNORECASE,
)
_UNLIMITED = re.compile(r"unbegrenzt|unlimit|flat|\bfrei\b|endlos", re.IGNORECASE)


def parse_volume_mb(text: str) -> int | None:
    """``"2 GB"`` → 2048, ``"1,5 GB"`` → 1536, ``"500 MB"`` → 500, ``"Flatrate"`` → unlimited.

    A bare number is read as GB below 100 and as MB from 100 on, which is how people say it.
    """
    if _UNLIMITED.search(text):
        return UNLIMITED_MB
    match = _VOLUME.search(text)
    if not match:
        return None
    amount = float(match.group("amount").replace(",", "."))
    unit = (match.group("unit") or "").lower()
    if unit.startswith("g") or (not unit and amount < 100):
        return round(amount * 1024)
    return round(amount)
