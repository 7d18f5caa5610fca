"""The "tech_result" card in its three uses: the result of the tech-check questions, the link
to the measured check in the browser, and that check's result."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity

from bot.domain.tech_assessment import Assessment, Outcome, megabytes
from bot.domain.techcheck_links import LINK_BUDGET_BYTES, IssuedLink
from bot.i18n import Translator
from cards import card_message
from cards.measured_summary import measured_estimate, measured_lines

#: the most the measurement in the browser may cost, as told to the client
MEASUREMENT_MB = LINK_BUDGET_BYTES // 1_000_000


def assessment_card(t: Translator, assessment: Assessment, link: IssuedLink | None) -> Activity:
    """The tech check's result from the questions: verdict, advice, data estimate, and the
    link to the measured check in the browser."""
    title = t(f"tech.result.{assessment.outcome}")
    advice = [
        t(key, mb30=assessment.mb_30_min, mb60=assessment.mb_60_min) for key in assessment.advice
    ]
    estimate = t(
        "tech.estimate",
        mb30=assessment.mb_30_min,
        mb60=assessment.mb_60_min,
        audio60=megabytes("audio", 60),
    )
    return card_message(
        t,
        "tech_result",
        {
            "title": title,
            "style": {"ready": "good", "ready_with_advice": "warning"}.get(
                assessment.outcome, "attention"
            ),
            "advice": [{"text": f"- {text}"} for text in advice],
            "has_advice": bool(advice),
            "estimate": estimate,
            **_link_fields(t, link),
            "fallback": "\n".join([title, *advice, estimate, *_link_fallback(t, link)]),
        },
    )


def _link_fields(t: Translator, link: IssuedLink | None) -> dict[str, Any]:
    return {
        "has_resume": False,
        "has_link": link is not None,
        "link_hint": t("techcheck.chat.hint", mb=MEASUREMENT_MB),
        "link_label": t("techcheck.chat.button"),
        "link_url": link.url if link else "",
    }


def _link_fallback(t: Translator, link: IssuedLink | None) -> list[str]:
    return [t("techcheck.chat.hint", mb=MEASUREMENT_MB), link.url] if link else []


def link_card(t: Translator, link: IssuedLink, minutes: int) -> Activity:
    """The answer to the typed command: what the check does, and the button."""
    title = t("techcheck.chat.title")
    paragraphs = [t("techcheck.chat.what"), t("techcheck.chat.valid", minutes=minutes)]
    return card_message(
        t,
        "tech_result",
        {
            "title": title,
            "style": "emphasis",
            "advice": [{"text": text} for text in paragraphs],
            "has_advice": True,
            "estimate": t("techcheck.chat.privacy"),
            **_link_fields(t, link),
            "fallback": "\n".join([title, *paragraphs, *_link_fallback(t, link)]),
        },
    )


def measured_card(t: Translator, measured: dict[str, Any]) -> Activity:
    """The chat's "Ihr Technik-Check ist fertig: …" with each check and the data estimate, and
    a "Weiter" button that brings back the step the chat was on (the newest card in the chat
    must carry an action: the open question is further up)."""
    outcome = measured.get("outcome", Outcome.HELP_NEEDED)
    title = t("techcheck.chat.done", outcome=t(f"techcheck.outcome.{outcome}"))
    lines = [f"- {line}" for line in measured_lines(t, measured)]
    advice = [f"- {t(key)}" for key in measured.get("advice", [])]
    estimate = measured_estimate(t, measured)
    return card_message(
        t,
        "tech_result",
        {
            "title": title,
            "style": {"ready": "good", "ready_with_advice": "warning"}.get(outcome, "attention"),
            "advice": [{"text": text} for text in [*lines, *advice]],
            "has_advice": True,
            "estimate": estimate,
            **_link_fields(t, None),
            "has_resume": True,
            "resume_label": t("common.next"),
            "fallback": "\n".join([title, *lines, *advice, estimate, t("techcheck.chat.resume")]),
        },
    )
