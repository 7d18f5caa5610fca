"""The "my_data" card: what is stored about the client, in plain words, section by section,
each with the day it will be deleted (Art. 15 GDPR). The same as a file is one click away.

What the client once typed (a phone number, their words for a language) and their name are
shown as literals: they are theirs, but they must not become Markdown.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity

from bot.domain.consent import ConsentEvent
from bot.domain.counsellors import CaseloadEntry
from bot.domain.handoffs import Handoff, HandoffStatus
from bot.domain.interpreters import InterpreterRequest
from bot.domain.local_time import format_day, format_minute
from bot.domain.my_data import LINK_MINUTES, ClientRecords, Kept
from bot.domain.profiles import ClientProfile
from bot.domain.time_windows import format_windows
from bot.i18n import Translator, translator
from cards import card_message
from cards.markdown import literal, not_a_list


def my_data_card(
    t: Translator, records: ClientRecords, download_url: str | None, privacy_url: str
) -> Activity:
    sections = _sections(t, records)
    note = (
        t("my_data.file.note", minutes=LINK_MINUTES)
        if download_url
        else t("my_data.file.unavailable")
    )
    intro = t("my_data.intro") if sections else t("my_data.nothing")
    fallback = [t("my_data.title"), intro]
    for section in sections:
        fallback += [section["title"], *(line["text"] for line in section["lines"])]
        fallback.append(section["kept"])
        for line in section["lines"]:  # a line may start with a date: "2. Dez. 2026, …"
            line["text"] = not_a_list(line["text"])
    return card_message(
        t,
        "my_data",
        {
            "title": t("my_data.title"),
            "intro": intro,
            "sections": sections,
            "file_note": note,
            "download_url": download_url or "",
            "download_label": t("my_data.file.download"),
            "privacy_label": t("welcome.privacy"),
            "privacy_url": privacy_url,
            "delete_label": t("command.delete.label"),
            "fallback": "\n".join(line for line in fallback if line),
        },
    )


def _sections(t: Translator, records: ClientRecords) -> list[dict[str, Any]]:
    sections = []
    if records.profile is not None:
        sections.append(
            _section(t, "profile", _profile_lines(t, records.profile.record), [records.profile])
        )
    if records.consents:
        lines = [_consent_line(t, kept.record) for kept in records.consents]
        sections.append(_section(t, "consent", lines, records.consents))
    if records.handoffs:
        lines = [line for kept in records.handoffs for line in _request_lines(t, kept.record)]
        sections.append(_section(t, "requests", lines, records.handoffs))
    if records.forms:
        lines = [
            t("my_data.forms.line", time=format_minute(entry.uploaded_at, t.locale))
            for entry in records.forms
            if entry.uploaded_at
        ]
        latest = max(entry.delete_after for entry in records.forms)
        sections.append(
            {
                "title": t("my_data.forms.title"),
                "lines": [{"text": line} for line in lines],
                "kept": t("my_data.forms.kept", date=format_day(latest, t.locale)),
            }
        )
    if records.overview:
        lines = [_overview_line(t, kept.record) for kept in records.overview]
        sections.append(_section(t, "overview", lines, records.overview))
    if records.failed_codes:
        sections.append(
            {
                "title": t("my_data.codes.title"),
                "lines": [{"text": t("my_data.codes.line", count=records.failed_codes)}],
                "kept": t("my_data.codes.kept"),
            }
        )
    return sections


def _section(t: Translator, name: str, lines: list[str], kept: list[Kept]) -> dict[str, Any]:
    """A section with the last day anything in it is kept."""
    dates = [entry.until for entry in kept if entry.until is not None]
    return {
        "title": t(f"my_data.{name}.title"),
        "lines": [{"text": line} for line in lines],
        "kept": t("my_data.kept", date=format_day(max(dates), t.locale)) if dates else "",
    }


def _profile_lines(t: Translator, profile: ClientProfile) -> list[str]:
    lines = [t("my_data.profile.language", language=translator(profile.locale)("language.name"))]
    if profile.topic:
        lines.append(t("my_data.profile.topic", topic=t(f"choice.topic.{profile.topic}")))
    if profile.consultation_type:
        way = t(f"choice.type.{profile.consultation_type}")
        lines.append(t("my_data.profile.way", way=way))
    outcome = profile.tech.get("outcome")
    if outcome:
        lines.append(t("my_data.profile.tech", outcome=t(f"techcheck.outcome.{outcome}")))
    if profile.windows:
        lines.append(t("my_data.profile.times", times=format_windows(profile.windows, t)))
    if profile.linked_at:
        lines.append(t("my_data.profile.invited", date=format_day(profile.linked_at, t.locale)))
    elif profile.counsellor_id:
        lines.append(t("my_data.profile.invited_before"))
    return lines


def _consent_line(t: Translator, event: ConsentEvent) -> str:
    return t(
        "my_data.consent.line",
        time=format_minute(event.at, t.locale),
        what=t(f"my_data.consent.{event.action}"),
        receipt=event.receipt_id,
    )


def _request_lines(t: Translator, handoff: Handoff) -> list[str]:
    what = (
        t("my_data.requests.tech_help")
        if handoff.purpose == "tech_help"
        else t(f"choice.type.{handoff.consultation_type}")
    )
    status = handoff.status
    if status == HandoffStatus.SCHEDULED and handoff.meeting.get("start"):
        state = t(
            "my_data.status.scheduled", time=format_minute(handoff.meeting["start"], t.locale)
        )
    else:
        state = t(f"my_data.status.{status}")
    lines = [
        t(
            "my_data.requests.line",
            time=format_minute(handoff.created_at, t.locale),
            what=what,
            state=state,
        )
    ]
    if handoff.phone:
        lines.append(t("my_data.requests.phone", phone=literal(handoff.phone)))
    interpreter = InterpreterRequest.from_dict(handoff.interpreter)
    if interpreter is not None:
        language = literal(interpreter.name(t.locale))
        lines.append(t("my_data.requests.interpreter", language=language))
    return lines


def _overview_line(t: Translator, entry: CaseloadEntry) -> str:
    return t("my_data.overview.line", name=literal(entry.client_name))
