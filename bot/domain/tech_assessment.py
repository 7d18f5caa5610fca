"""Tech-check assessment: what a client's answers mean for a Teams video call.

Bandwidth figures are Microsoft's published Teams numbers (per direction): 1:1 audio
30 kbit/s, video 360p 500 kbit/s, 720p 1.2 Mbit/s. Up plus down per hour that is about
27 MB (audio), 450 MB (360p) and 1.1 GB (720p). Phones and tablets are estimated at the
mobile rate (360p), computers at HD (720p). Teams uses more when the connection allows.

On mobile data the estimate is compared with the volume the client has left: a 30-minute call
that does not fit means help is needed; a 60-minute call taking more than a third of it is a
warning, with ways to save data offered right there.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

MB_PER_HOUR = {"audio": 27, "360p": 450, "720p": 1100, "1080p": 1350}
UNLIMITED_MB = 1_000_000
#: a 60-minute call taking more of the volume left than this is a warning, not "reicht"
DATA_WARNING_SHARE = 1 / 3
#: advice that makes a video call impossible for now (the rest are tips)
BLOCKING_ADVICE = (
    "tech.advice.camera_mic_none",
    "tech.advice.camera_mic_unknown",
    "tech.advice.volume_too_low",
)


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
    connection: str = ""  # as answered: the data estimate matters only off Wi-Fi
    volume_mb: int | None = None  # mobile data left, when the client said (not unlimited)
    camera: bool = True  # False: no camera (or not known): no video figures

    @property
    def data_warning(self) -> bool:
        """A 60-minute call would take a large share of the mobile data left."""
        return "tech.advice.volume_warning" in self.advice

    @property
    def blockers(self) -> list[str]:
        """The advice that stands in the way of a video call now."""
        return [key for key in self.advice if key in BLOCKING_ADVICE]

    def share_of_volume(self, minutes: int) -> float | None:
        """How much of the mobile data left a call of ``minutes`` takes (1.0 = all of it)."""
        if not self.volume_mb:
            return None
        return megabytes(self.quality, minutes) / self.volume_mb

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (the outcome as its value): it is kept in conversation state, which must
        not name classes of ours — a moved class would no longer load."""
        return {**asdict(self), "outcome": self.outcome.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Assessment:
        known = {name for name in cls.__dataclass_fields__ if name != "outcome"}
        values = {name: value for name, value in data.items() if name in known}
        return cls(Outcome(data["outcome"]), **values)


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
        connection=answers.connection,
        camera=answers.camera_mic in ("both", "audio_only"),
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
        if volume is not None and volume < UNLIMITED_MB:
            result.volume_mb = volume
        if volume is None:
            result.advice.append("tech.advice.volume_unknown")
        elif volume < result.mb_30_min:
            help_needed = True
            result.advice.append("tech.advice.volume_too_low")
        elif result.mb_60_min > volume * DATA_WARNING_SHARE:
            result.advice.append("tech.advice.volume_warning")
        elif volume < UNLIMITED_MB:
            result.advice.append("tech.advice.volume_ok")
    elif answers.connection == "unknown":
        result.advice.append("tech.advice.connection_unknown")

    if help_needed:
        result.outcome = Outcome.HELP_NEEDED
    elif result.advice:
        result.outcome = Outcome.READY_WITH_ADVICE
    return result


#: units as clients type them in the chat languages: GB / ГБ / گیگ / جيجا …, MB / МБ / مگ / ميجا …
_GIGA = (
    r"gb|gigabyte|giga|g|гб|гигабайт\w*|гігабайт\w*|гиг\w*|гіг\w*|جيجا\w*|غيغا\w*|جيغا\w*|گیگ\w*"
)
_MEGA = r"mb|megabyte|mega|m|мб|мегабайт\w*|мег\w*|ميجا\w*|ميغا\w*|مگ\w*"
_VOLUME = re.compile(
    rf"(?P<amount>\d+(?:[.,٫]\d+)?)\s*(?:(?P<giga>{_GIGA})|(?P<mega>{_MEGA}))?\b",
    re.IGNORECASE,
)
_UNLIMITED = re.compile(
    r"unbegrenzt|unlimit|flat|\bfrei\b|endlos|безлім|безлим|необмежен|неограничен"
    r"|غير محدود|نامحدود|sınırsız|sinirsiz|limitsiz",
    re.IGNORECASE,
)


def parse_volume_mb(text: str) -> int | None:
    """``"2 GB"`` → 2048, ``"1,5 GB"`` → 1536, ``"500 MB"`` → 500, ``"Flatrate"`` → unlimited.

    A bare number is read as GB below 100 and as MB from 100 on, which is how people say it.
    """
    if _UNLIMITED.search(text):
        return UNLIMITED_MB
    match = _VOLUME.search(text)
    if not match:
        return None
    amount = float(re.sub("[,٫]", ".", match.group("amount")))
    if match.group("giga") or (not match.group("mega") and amount < 100):
        return round(amount * 1024)
    return round(amount)
