"""The video meeting of a counsellor handoff: create it, cancel it.

Two providers: ``GraphMeetingProvider`` puts each consultation into the counsellor's calendar
as an appointment with a Teams meeting, through Microsoft Graph; ``ConfiguredLinkProvider``
(the default when Graph is not configured) hands out each counsellor's personal Teams meeting
room link from the configuration.

Meeting subjects are visible to everyone who has the link and stay in Teams, so they carry
the topic only — never a name, customer number or other personal data (``meeting_subject``);
the appointment's text is a fixed one from the catalog.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol
from urllib.parse import urlsplit

from bot.integrations.graph import GraphClient, GraphError

SUBJECT_PREFIX = "Videoberatung Jobcenter"
#: meeting ids of calendar appointments (older ones are ids of online meetings alone)
EVENT_PREFIX = "event:"
#: the namespace of the appointments' Graph transaction ids
TRANSACTION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:videoberatung-bot:appointment")
_SUBJECT_LIMIT = 80
# Letters, spaces and harmless punctuation; digits (customer numbers, dates, phone numbers),
# "@" and the like are dropped.
_SUBJECT_UNSAFE = re.compile(r"[^\w\s.,()/&'’–-]|[\d_]")


class MeetingError(Exception):
    """No meeting could be created or cancelled; the handoff goes on without a link."""


class MeetingUnavailableError(MeetingError):
    """No meeting link is configured for this counsellor, and there is no default."""


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    join_url: str
    start: datetime
    end: datetime
    provider: str  # "graph" | "configured_link" | "appointment" (no online meeting)

    def as_record(self, timezone: tzinfo) -> dict[str, str]:
        """For ``Handoff.meeting`` (stored as JSON): id, join_url, and start/end in ISO 8601
        in ``timezone`` (the job centre's local time, as the cards show it)."""
        return {
            "id": self.meeting_id,
            "join_url": self.join_url,
            "start": self.start.astimezone(timezone).isoformat(),
            "end": self.end.astimezone(timezone).isoformat(),
            "provider": self.provider,
        }


class MeetingProvider(Protocol):
    async def create(
        self,
        counsellor_object_id: str,
        start: datetime,
        end: datetime,
        subject: str,
        *,
        key: str,
        text: str,
    ) -> Meeting:
        """A meeting organised by the counsellor (Entra object id) for ``start``–``end``.
        ``key`` names what it is for (the handoff): asking again for the same key and times
        gives the same meeting. ``text`` is what the counsellor's calendar shows with it."""
        ...

    async def cancel(self, counsellor_object_id: str, meeting_id: str) -> None:
        """Cancel a meeting made by ``create``; one that is already gone is fine."""
        ...


def meeting_subject(topic_label: str) -> str:
    """``"Bewerbungsunterlagen"`` → ``"Videoberatung Jobcenter – Bewerbungsunterlagen"``.

    ``topic_label`` is the catalog label of the topic; callers never pass names. Digits and
    unusual characters are dropped anyway, so a slip cannot put a customer number in it.
    """
    label = " ".join(_SUBJECT_UNSAFE.sub(" ", topic_label).split()).strip(" -–")
    if not label:
        return SUBJECT_PREFIX
    subject = f"{SUBJECT_PREFIX} – {label}"
    return subject if len(subject) <= _SUBJECT_LIMIT else subject[:_SUBJECT_LIMIT].rstrip()


class GraphMeetingProvider:
    """An appointment with a Teams meeting in the counsellor's calendar, through Graph.

    The appointment is created with a transaction id made from ``key`` and the times, so a
    request Graph received but did not answer (502, 504, a dropped connection) and that is
    sent again makes no second one. Its meeting then gets the lobby, presenter and recording
    settings; if that fails, the appointment is deleted again. Needs the application
    permissions Calendars.ReadWrite and OnlineMeetings.ReadWrite.All, and a Teams application
    access policy that covers the counsellors. Does not close ``graph``.
    """

    name = "graph"

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    async def create(
        self,
        counsellor_object_id: str,
        start: datetime,
        end: datetime,
        subject: str,
        *,
        key: str,
        text: str,
    ) -> Meeting:
        _check_times(start, end)
        transaction = uuid.uuid5(
            TRANSACTION_NAMESPACE,
            f"{key}|{start.astimezone(UTC).isoformat()}|{end.astimezone(UTC).isoformat()}",
        )
        try:
            event = await self._graph.create_event(
                counsellor_object_id, start, end, subject, text, str(transaction)
            )
        except GraphError as error:
            raise MeetingError(f"the appointment could not be created: {error}") from error
        join_url = str(event["onlineMeeting"]["joinUrl"])
        try:
            await self._graph.secure_online_meeting(counsellor_object_id, join_url)
        except GraphError as error:
            with contextlib.suppress(GraphError):
                await self._graph.delete_event(counsellor_object_id, str(event["id"]))
            raise MeetingError(f"the meeting's settings could not be set: {error}") from error
        return Meeting(
            meeting_id=f"{EVENT_PREFIX}{event['id']}",
            join_url=join_url,
            start=start,
            end=end,
            provider=self.name,
        )

    async def cancel(self, counsellor_object_id: str, meeting_id: str) -> None:
        try:
            if meeting_id.startswith(EVENT_PREFIX):
                event_id = meeting_id.removeprefix(EVENT_PREFIX)
                await self._graph.delete_event(counsellor_object_id, event_id)
            else:  # made before appointments were calendar events
                await self._graph.delete_online_meeting(counsellor_object_id, meeting_id)
        except GraphError as error:
            raise MeetingError(f"the appointment could not be cancelled: {error}") from error


class ConfiguredLinkProvider:
    """Each counsellor's personal Teams meeting room, from the configuration.

    ``links`` maps counsellor Entra object ids to their meeting links; ``default_link`` is
    used for counsellors without one. The same room serves every consultation, so the
    meeting id is derived from counsellor and times (the same request gives the same id)
    and cancelling does nothing.
    """

    name = "configured_link"

    def __init__(self, links: Mapping[str, str], default_link: str | None = None) -> None:
        self._links = {_object_id(key): _checked_link(link) for key, link in links.items()}
        self._default = _checked_link(default_link) if default_link else None

    async def create(
        self,
        counsellor_object_id: str,
        start: datetime,
        end: datetime,
        subject: str,
        *,
        key: str = "",
        text: str = "",
    ) -> Meeting:
        """The counsellor's room; ``key`` and ``text`` have no place to go."""
        _check_times(start, end)
        counsellor = _object_id(counsellor_object_id)
        link = self._links.get(counsellor) or self._default
        if not link:
            raise MeetingUnavailableError(
                f"No Teams meeting link for counsellor {counsellor} and no default link "
                "(set MEETING_LINKS or MEETING_DEFAULT_LINK, or configure Graph)."
            )
        key = f"{counsellor}|{start.astimezone(UTC).isoformat()}|{end.astimezone(UTC).isoformat()}"
        meeting_id = f"link-{hashlib.sha256(key.encode()).hexdigest()[:32]}"
        return Meeting(meeting_id, link, start, end, self.name)

    async def cancel(self, counsellor_object_id: str, meeting_id: str) -> None:
        """The personal room stays; there is nothing to cancel."""


def _check_times(start: datetime, end: datetime) -> None:
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("meeting times must be timezone-aware")
    if not start < end:
        raise ValueError("a meeting must end after it starts")


def _object_id(value: str) -> str:
    # Entra object ids are GUIDs; Teams and the admin centre print them in either case.
    return value.strip().lower()


def _checked_link(link: str) -> str:
    link = link.strip()
    parts = urlsplit(link)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"a meeting link must be an https URL, not {link!r}")
    return link
