"""The "tech_result" card in its uses: the result of the tech-check questions (with the ways
forward when help is needed, or ways to save data when a call takes much of it), the link to
the measured check in the browser, and that check's result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity

from bot.domain.tech_assessment import Assessment, Outcome, megabytes
from bot.domain.techcheck_links import LINK_BUDGET_BYTES, IssuedLink
from bot.i18n import Translator
from cards import card_message, numbered
from cards.measured_summary import measured_estimate, measured_lines

#: the most the measurement in the browser may cost, as told to the client
MEASUREMENT_MB = LINK_BUDGET_BYTES // 1_000_000
#: a share of the data volume left → the words for it (``tech.share.*``), up to each bound
SHARE_WORDS = [
    (0.08, "little"),
    (0.15, "tenth"),
    (0.225, "fifth"),
    (0.29, "quarter"),
    (0.42, "third"),
    (0.58, "half"),
    (0.71, "two_thirds"),
    (0.875, "three_quarters"),
    (1.0, "almost_all"),
]
CALL_MINUTES = (30, 60)
STYLES = {"ready": "good", "ready_with_advice": "warning"}


@dataclass(frozen=True)
class ResultQuestion:
    """The choice asked on the result card itself: its catalog key, choices and card id."""

    question: str
    choices: list[str]
    card_id: str
    retry_text: str = ""


def share_key(share: float) -> str:
    """``0.5`` → ``"tech.share.half"``: a share of the data left in everyday words."""
    for bound, name in SHARE_WORDS:
        if share <= bound:
            return f"tech.share.{name}"
    return "tech.share.more"


def data_shares(t: Translator, assessment: Assessment) -> list[str]:
    """ "Ein Gespräch von 60 Minuten braucht etwa die Hälfte Ihres Datenvolumens." — for 30 and
    60 minutes, when the client said how much mobile data is left."""
    lines: list[str] = []
    if not assessment.camera:  # no video: the video figures do not apply
        return lines
    for minutes in CALL_MINUTES:
        share = assessment.share_of_volume(minutes)
        if share is not None:
            lines.append(t("tech.data.share", minutes=minutes, share=t(share_key(share))))
    return lines


def data_estimate(t: Translator, assessment: Assessment) -> str:
    """The data a call needs on this device (and that Teams may take more); empty on Wi-Fi or
    without a camera, where the figures do not matter."""
    if assessment.connection == "wifi" or not assessment.camera:
        return ""
    device = "computer" if assessment.quality == "720p" else "mobile"
    return " ".join(
        [
            t(f"tech.estimate.{device}", mb30=assessment.mb_30_min, mb60=assessment.mb_60_min),
            t("tech.estimate.more"),
            t("tech.estimate.audio", audio60=megabytes("audio", 60)),
        ]
    )


def assessment_card(
    t: Translator,
    assessment: Assessment,
    link_url: str,
    question: ResultQuestion | None = None,
) -> Activity:
    """The tech check's result from the questions: the verdict, the advice that applies, the
    data figures where they matter, the link to the measured check — and, when a choice
    follows, that question on the same card (ways forward first when help is needed)."""
    title = t(f"tech.result.{assessment.outcome}")
    help_needed = assessment.outcome == Outcome.HELP_NEEDED
    keys = assessment.blockers if help_needed else assessment.advice
    advice = [t(key, mb30=assessment.mb_30_min, mb60=assessment.mb_60_min) for key in keys]
    if not help_needed or "tech.advice.volume_too_low" in keys:
        advice += data_shares(t, assessment)
    estimate = "" if help_needed else data_estimate(t, assessment)
    if not (assessment.camera or "tech.advice.camera_mic_unknown" in keys):
        link_url = ""  # nothing to measure without a camera
    fields = {**_plain_card(title, STYLES.get(assessment.outcome, "attention"), advice, estimate)}
    fallback = [title, *advice, estimate]
    if question is not None:
        lead: list[str] = []
        if not help_needed:  # the advice explains the choice: it comes first
            lead, advice = advice, []
        asked = t(question.question)
        labels = [t(f"{question.question}.{choice}") for choice in question.choices]
        fields |= {
            "card": question.card_id,
            "retry": bool(question.retry_text),
            "retry_text": question.retry_text,
            "lead": [{"text": text} for text in lead],
            "has_question": True,
            "question": asked,
            "choices": [
                {"id": choice, "title": label}
                for choice, label in zip(question.choices, labels, strict=True)
            ],
            "advice": [{"text": text} for text in advice],
        }
        fallback = [title, *lead, *advice, estimate, numbered(asked, labels)]
    return card_message(
        t,
        "tech_result",
        {
            **fields,
            **_link_fields(t, link_url),
            "fallback": "\n".join([*filter(None, fallback), *_link_fallback(t, link_url)]),
        },
    )


def _link_fields(t: Translator, link_url: str) -> dict[str, Any]:
    return {
        "has_resume": False,
        "has_link": bool(link_url),
        "link_hint": t("techcheck.chat.hint", mb=MEASUREMENT_MB),
        "link_label": t("techcheck.chat.button"),
        "link_url": link_url,
    }


def _link_fallback(t: Translator, link_url: str) -> list[str]:
    return [t("techcheck.chat.hint", mb=MEASUREMENT_MB), link_url] if link_url else []


def _plain_card(title: str, style: str, paragraphs: list[str], estimate: str) -> dict[str, Any]:
    """The fields of a tech_result card without a question."""
    return {
        "title": title,
        "style": style,
        "card": "",
        "retry": False,
        "retry_text": "",
        "lead": [],
        "has_question": False,
        "question": "",
        "choices": [],
        "advice": [{"text": text} for text in paragraphs],
        "has_estimate": bool(estimate),
        "estimate": estimate,
    }


def link_card(t: Translator, link: IssuedLink, minutes: int) -> Activity:
    """The answer to the typed command: what the check does, and the button."""
    title = t("techcheck.chat.title")
    paragraphs = [t("techcheck.chat.what"), t("techcheck.chat.valid", minutes=minutes)]
    estimate = t("techcheck.chat.privacy")
    return card_message(
        t,
        "tech_result",
        {
            **_plain_card(title, "emphasis", paragraphs, estimate),
            **_link_fields(t, link.url),
            "fallback": "\n".join([title, *paragraphs, *_link_fallback(t, link.url)]),
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
            **_plain_card(title, STYLES.get(outcome, "attention"), [*lines, *advice], estimate),
            **_link_fields(t, ""),
            "has_resume": True,
            "resume_label": t("common.next"),
            "fallback": "\n".join([title, *lines, *advice, estimate, t("techcheck.chat.resume")]),
        },
    )
