"""The measured result in words, for the client's chat and the counsellor's handoff card."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal

from bot.i18n import Translator

CHECKS = ("camera", "microphone", "speaker", "browser", "connection")


def _number(t: Translator, value: float) -> str:
    return format_decimal(value, format="#,##0.#", locale=t.locale)


def _speed(t: Translator, kbps: float) -> str:
    if kbps < 1000:
        return f"{round(kbps)} kbit/s"
    return f"{_number(t, kbps / 1000)} Mbit/s"


def _value(t: Translator, check: str, measured: dict[str, Any]) -> str:
    part = measured.get(check, {})
    if check == "camera" and part.get("status") == "ok":
        return t(
            "techcheck.value.camera.ok",
            width=part.get("width", 0),
            height=part.get("height", 0),
            fps=_number(t, part.get("fps", 0)),
        )
    if check == "browser":
        return t(f"techcheck.value.browser.{part.get('verdict', 'other')}")
    if check == "connection":
        verdict = part.get("verdict", "failed")
        text = t(f"techcheck.value.connection.{verdict}")
        if verdict == "failed":
            return text
        figures = t(
            "techcheck.value.connection.figures",
            down=_speed(t, part.get("down_kbps", 0)),
            up=_speed(t, part.get("up_kbps", 0)),
            rtt=round(part.get("rtt_ms", 0)),
        )
        return f"{text} ({figures})"
    return t(f"techcheck.value.{check}.{part.get('status', 'error')}")


def measured_lines(t: Translator, measured: dict[str, Any]) -> list[str]:
    """One line per check: ``Kamera: funktioniert (1280 × 720, 30 Bilder/s)``."""
    return [f"{t(f'techcheck.label.{check}')}: {_value(t, check, measured)}" for check in CHECKS]


def measured_estimate(t: Translator, measured: dict[str, Any]) -> str:
    if not measured.get("quality"):
        return t("techcheck.estimate.none")
    kind = "audio" if measured["quality"] == "audio" else "video"
    return t(f"techcheck.estimate.{kind}", mb30=measured["mb_30_min"], mb60=measured["mb_60_min"])


def measured_brief(t: Translator, measured: dict[str, Any]) -> str:
    """All of it in one fact for the counsellor: outcome, checks, data for 60 minutes."""
    outcome = t(f"techcheck.outcome.{measured.get('outcome', 'help_needed')}")
    parts = [*measured_lines(t, measured)]
    if measured.get("quality"):
        parts.append(t("techcheck.value.data", mb60=measured["mb_60_min"]))
    return f"{outcome} " + "; ".join(parts)
