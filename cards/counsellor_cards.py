"""The counsellor's cards (handoff, invitation, overview) and the client's appointment card."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from typing import Any

from botbuilder.schema import Activity

import cards
from bot.domain.consent import ConsentStatus
from bot.domain.counsellors import CaseloadEntry
from bot.domain.handoffs import OPEN_HANDOFF_STATUSES, Handoff, HandoffStatus
from bot.domain.interpreters import InterpreterRequest, InterpreterStatus, language_name
from bot.domain.invitations import IssuedInvitation
from bot.domain.local_time import BERLIN, format_local
from bot.domain.time_windows import format_windows
from bot.i18n import Translator
from cards import card_message
from cards.markdown import literal
from cards.measured_summary import measured_brief

STAGE_ORDER = [
    "needs_help",
    "ready",
    "scheduled",
    "in_tech_check",
    "invited",
    "withdrawn",
    "closed",
]


def handoff_card(
    t: Translator, handoff: Handoff, today: date | None = None, event: str = ""
) -> dict[str, Any]:
    """What the counsellor needs to act on a handoff; actions depend on its state."""
    facts = [
        (t("counsellor.fact.purpose"), t(f"counsellor.purpose.{handoff.purpose}")),
        (t("counsellor.fact.topic"), t(f"choice.topic.{handoff.topic}") if handoff.topic else "–"),
        (t("counsellor.fact.type"), t(f"choice.type.{handoff.consultation_type}")),
        (t("counsellor.fact.when"), format_windows(handoff.windows, t)),
    ]
    answered = {name: value for name, value in handoff.tech.items() if name != "measured"}
    if answered:
        facts.append((t("counsellor.fact.tech"), tech_summary(t, answered)))
    measured = handoff.tech.get("measured") or {}
    if measured:
        facts.append((t("counsellor.fact.measured"), measured_brief(t, measured)))
    if handoff.consultation_type == "video":
        consent = t(f"counsellor.consent.{handoff.consent_status}")
        if handoff.receipt_id:
            consent = f"{consent} ({handoff.receipt_id})"
        facts.append((t("counsellor.fact.consent"), consent))
    if handoff.phone:
        facts.append((t("counsellor.fact.phone"), literal(handoff.phone)))
    if handoff.meeting:
        facts.append((t("counsellor.fact.meeting"), meeting_time(t, handoff.meeting)))
    if handoff.phone_offer:
        facts.append(
            (t("counsellor.fact.phone_offer"), t(f"counsellor.phone_offer.{handoff.phone_offer}"))
        )
    facts += language_facts(t, handoff.locale, handoff.interpreter)
    notes = [t(f"counsellor.event.{event}")] if event else []
    notes += [t("counsellor.note.data")] if _low_data(handoff.tech) else []
    if measured.get("outcome") == "help_needed":
        notes.append(t("counsellor.note.measured_help"))
    notes += [
        t(f"counsellor.note.delivery.{status}")
        for status in sorted(set(handoff.delivery.values()))
        if status != "sent"
    ]
    status = t(f"counsellor.status.{handoff.status}")
    title = t(
        f"counsellor.card.title.{handoff.purpose}",
        name=client_name(t, handoff.client_name),
    )
    start = _suggested_start(handoff, today or datetime.now(BERLIN).date())
    is_open = handoff.status in OPEN_HANDOFF_STATUSES
    return cards.render(
        "handoff_notification",
        {
            "client": handoff.client_id,
            "handoff": handoff.handoff_id,
            "style": "good" if handoff.status == HandoffStatus.SCHEDULED else "emphasis",
            "title": title,
            "status_text": status,
            "facts": [{"title": name, "value": value} for name, value in facts],
            "notes": [{"text": note} for note in notes],
            "can_schedule": handoff.status == HandoffStatus.REQUESTED
            and handoff.purpose == "consultation"
            and handoff.consent_status not in (ConsentStatus.WITHDRAWN, ConsentStatus.REJECTED),
            "can_verify": handoff.consent_status == ConsentStatus.PENDING_VERIFICATION and is_open,
            "can_mark_help": handoff.purpose == "tech_help" and not handoff.tech_help_done,
            "can_offer_phone": handoff.status == HandoffStatus.REQUESTED
            and handoff.purpose == "consultation"
            and handoff.consultation_type == "video"
            and not handoff.phone_offer,
            "offer_phone_label": t("counsellor.action.offer_phone"),
            "has_join": bool(handoff.meeting.get("join_url")) and is_open,
            "join_url": handoff.meeting.get("join_url") or "https://teams.microsoft.com",
            "join_label": t("counsellor.action.join"),
            "can_close": is_open,
            "can_arrange_interpreter": is_open
            and (handoff.interpreter or {}).get("status") == InterpreterStatus.REQUESTED,
            "arrange_interpreter_label": t("counsellor.action.interpreter_arranged"),
            "schedule_hint": t("counsellor.schedule.hint"),
            "date_label": t("counsellor.schedule.date"),
            "time_label": t("counsellor.schedule.time"),
            "date_error": t("counsellor.schedule.date_error"),
            "time_error": t("counsellor.schedule.time_error"),
            "default_date": start.date().isoformat(),
            "default_time": start.strftime("%H:%M"),
            "schedule_label": t(f"counsellor.action.schedule.{handoff.consultation_type}"),
            "verify_label": t("counsellor.action.verify"),
            "reject_label": t("counsellor.action.reject"),
            "help_done_label": t("counsellor.action.help_done"),
            "close_label": t("counsellor.action.close"),
            "refresh_label": t("counsellor.action.refresh"),
            "fallback": "\n".join([title, status, *(f"{n}: {v}" for n, v in facts), *notes]),
        },
    )


def language_facts(
    t: Translator, locale: str, interpreter: dict[str, str]
) -> list[tuple[str, str]]:
    """The client's chat language (when it is not the counsellor's) and the interpreter asked
    for — the language in the counsellor's words, or the client's own, escaped."""
    facts = []
    if locale and locale != t.locale:
        facts.append((t("counsellor.fact.language"), language_name(locale, t.locale)))
    request = InterpreterRequest.from_dict(interpreter)
    if request is not None:
        name = (
            t("counsellor.interpreter.written", text=literal(request.written))
            if request.written
            else language_name(request.language, t.locale)
        )
        facts.append(
            (
                t("counsellor.fact.interpreter"),
                t(f"counsellor.interpreter.{request.status}", language=name),
            )
        )
    return facts


def client_name(t: Translator, name: str) -> str:
    """The client's display name (chosen by the client) as literal Markdown text."""
    return literal(name) or t("counsellor.card.unnamed")


def tech_summary(t: Translator, tech: dict[str, Any]) -> str:
    """The tech check in a line; and how the client means to save mobile data, if they said."""
    outcome = t(f"tech.result.{tech.get('outcome', 'ready')}")
    summary = t("counsellor.tech", outcome=outcome, mb60=tech.get("mb_60_min", 0))
    plan = tech.get("data_plan")
    if plan in ("wifi", "audio_only"):
        summary = f"{summary} {t(f'counsellor.data_plan.{plan}')}"
    return summary


def _low_data(tech: dict[str, Any]) -> bool:
    advice = tech.get("advice", [])
    return "tech.advice.volume_too_low" in advice or "tech.advice.volume_warning" in advice


def meeting_time(t: Translator, meeting: dict[str, Any]) -> str:
    return format_local(meeting["start"], t.locale)


def _suggested_start(handoff: Handoff, today: date) -> datetime:
    """The next working day that is in the client's windows, at the start of the window."""
    for offset in range(1, 15):
        day = today + timedelta(days=offset)
        weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day.weekday()]
        for part, hour in (("morning", 9), ("afternoon", 13)):
            if f"{weekday}-{part}" in handoff.windows:
                return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)
    day = today + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, tzinfo=BERLIN)


def appointment_card(t: Translator, handoff: Handoff, mb60: int) -> Activity:
    """The client's card once the counsellor has fixed the appointment."""
    kind = handoff.consultation_type
    facts = [
        (t("appointment.when"), meeting_time(t, handoff.meeting)),
        (t("appointment.topic"), t(f"choice.topic.{handoff.topic}")),
    ]
    notes = [t(f"appointment.note.{kind}")]
    if kind == "video":
        notes += [t("appointment.note.lobby"), t("appointment.note.data", mb60=mb60)]
    title = t(f"appointment.title.{kind}")
    return card_message(
        t,
        "appointment",
        {
            "title": title,
            "facts": [{"title": name, "value": value} for name, value in facts],
            "notes": [{"text": note} for note in notes],
            "has_join": bool(handoff.meeting.get("join_url")),
            "join_url": handoff.meeting.get("join_url", ""),
            "join_label": t("appointment.join"),
            "withdraw_label": t("command.withdraw.label"),
            "fallback": "\n".join([title, *(f"{n}: {v}" for n, v in facts), *notes]),
        },
    )


def phone_offer_card(t: Translator, handoff: Handoff) -> Activity:
    """The client is asked whether a phone call instead of video is fine."""
    question = t("phone_offer.question")
    data = {"handoff": handoff.handoff_id}
    return card_message(
        t,
        "phone_offer",
        {
            "question": question,
            "why": t("phone_offer.why"),
            "accept_label": t("phone_offer.accept"),
            "decline_label": t("phone_offer.decline"),
            "accept": {"command": "accept_phone", **data},
            "decline": {"command": "decline_phone", **data},
            "fallback": f"{question}\n{t('phone_offer.why')}",
        },
    )


def invitation_card(t: Translator, issued: IssuedInvitation) -> Activity:
    facts = [(t("invitation.expires"), format_local(issued.expires_at, t.locale))]
    qr_url = (
        "data:image/png;base64," + base64.b64encode(issued.qr_png).decode() if issued.qr_png else ""
    )
    how = t("invitation.how", code=issued.code)
    return card_message(
        t,
        "invitation",
        {
            "title": t("invitation.title"),
            "code": issued.code,
            "facts": [{"title": name, "value": value} for name, value in facts],
            "has_qr": bool(qr_url),
            "qr_url": qr_url,
            "qr_alt": t("invitation.qr_alt"),
            "how": how,
            "has_link": bool(issued.deep_link),
            "link": issued.deep_link or "https://teams.microsoft.com",
            "link_label": t("invitation.link"),
            "fallback": "\n".join([t("invitation.title"), issued.code, how]),
        },
    )


def overview_card(t: Translator, entries: list[CaseloadEntry]) -> Activity:
    groups: list[dict[str, Any]] = []
    for stage in STAGE_ORDER:
        members = [entry for entry in entries if entry.stage == stage]
        if members:
            groups.append(
                {
                    "heading": f"{t(f'overview.stage.{stage}')} ({len(members)})",
                    "entries": [
                        {
                            "name": client_name(t, entry.client_name),
                            "detail": _overview_detail(t, entry),
                        }
                        for entry in members
                    ],
                }
            )
    lines = [
        f"{group['heading']}: " + ", ".join(e["name"] for e in group["entries"]) for group in groups
    ]
    return card_message(
        t,
        "overview",
        {
            "title": t("overview.title"),
            "empty": not groups,
            "empty_text": t("overview.empty"),
            "groups": groups,
            "fallback": "\n".join([t("overview.title"), *lines]) if lines else t("overview.empty"),
        },
    )


def _overview_detail(t: Translator, entry: CaseloadEntry) -> str:
    parts = [format_local(entry.updated_at, t.locale)]
    if entry.topic:
        parts.append(t(f"choice.topic.{entry.topic}"))
    if entry.notice:
        parts.append(t(f"counsellor.note.delivery.{entry.notice}"))
    parts += [
        f"{name}: {value}" for name, value in language_facts(t, entry.locale, entry.interpreter)
    ]
    return " · ".join(parts)
