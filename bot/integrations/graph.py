"""A small async Microsoft Graph client for app-only calls.

The token comes from the service's managed identity or an app registration's secret
(``bot/integrations/graph_tokens.py``). Graph calls share one
``aiohttp`` session, each with its own timeout, and are retried on throttling (429/503,
honouring ``Retry-After``) and on gateway and connection errors (502/504) with exponential
backoff.

Nothing here logs or raises with the token or a request body: meeting requests can carry
data about a client, and errors end up in logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from bot.integrations.graph_errors import GraphError, GraphTimeoutError, error_from_answer
from bot.integrations.graph_tokens import DEFAULT_AUTHORITY_HOST, ClientSecretTokens, TokenSource
from bot.observability import child_span

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"

#: What every Teams meeting of a consultation is set to: nobody but the counsellor skips the
#: lobby or presents, and nothing is recorded or transcribed.
MEETING_SETTINGS: dict[str, Any] = {
    "lobbyBypassSettings": {"scope": "organizer", "isDialInBypassEnabled": False},
    "allowedPresenters": "organizer",
    "allowRecording": False,
    "recordAutomatically": False,
    "allowTranscription": False,
}
#: Statuses that mean "try again": throttling, and gateways that lost the backend.
RETRY_STATUSES = frozenset({429, 502, 503, 504})

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class GraphClient:
    """App-only Microsoft Graph calls for one tenant. Close it when the app stops.

    ``tokens`` are the service's: a managed identity (``IdentityTokens``) or an app
    registration's secret (``with_secret``). ``base_url`` points elsewhere for national clouds
    or tests and must be ``https``. ``ca_file`` adds a CA bundle to trust (a TLS-inspecting
    proxy, or the test stand-in). ``sleep`` waits between attempts; tests pass one that only
    records the delays.
    """

    def __init__(
        self,
        tokens: TokenSource,
        *,
        base_url: str = DEFAULT_GRAPH_URL,
        ca_file: str | None = None,
        timeout: float = 10.0,
        max_attempts: int = 4,
        max_retry_wait: float = 30.0,
        backoff_base: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"base_url must be an https URL, not {base_url!r}")
        if max_attempts < 1 or timeout <= 0:
            raise ValueError("max_attempts must be at least 1 and timeout positive")
        self._tokens = tokens
        self._base_url = base_url.rstrip("/")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._version_path = parts.path.rstrip("/")
        self._ca_file = ca_file
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_retry_wait = max_retry_wait
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def with_secret(
        cls,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        authority_host: str = DEFAULT_AUTHORITY_HOST,
        ca_file: str | None = None,
        timeout: float = 10.0,
        **options: Any,
    ) -> GraphClient:
        """Tokens for an app registration's client secret (msal)."""
        tokens = ClientSecretTokens(
            tenant_id,
            client_id,
            client_secret,
            authority_host=authority_host,
            ca_file=ca_file,
            timeout=timeout,
        )
        return cls(tokens, ca_file=ca_file, timeout=timeout, **options)

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._tokens.close()

    # --- calendar events with a Teams meeting -----------------------------------------------

    async def create_event(
        self,
        user_id: str,
        start: datetime,
        end: datetime,
        subject: str,
        text: str,
        transaction_id: str,
    ) -> dict[str, Any]:
        """An appointment in the calendar of ``user_id`` (an Entra object id) with a Teams
        meeting: private, no attendees, no new times proposed. ``transaction_id`` makes a
        repeated request (after a 502, a 504 or a dropped connection) return the event the
        first one made instead of a second. Returns Graph's event (``id``,
        ``onlineMeeting.joinUrl`` …); needs the application permission Calendars.ReadWrite."""
        body = {
            "subject": subject,
            "body": {"contentType": "text", "content": text},
            "start": _graph_time(start),
            "end": _graph_time(end),
            "isOnlineMeeting": True,
            "onlineMeetingProvider": "teamsForBusiness",
            "sensitivity": "private",
            "showAs": "busy",
            "allowNewTimeProposals": False,
            "responseRequested": False,
            "isReminderOn": True,
            "reminderMinutesBeforeStart": 15,
            "transactionId": transaction_id,
        }
        status, answer = await self._request(
            "POST",
            f"/users/{_segment(user_id)}/events",
            route="/users/{id}/events",
            body=body,
            repeatable=True,  # the transaction id: a second send returns the first event
        )
        join_url = (answer.get("onlineMeeting") or {}).get("joinUrl") if answer else None
        if not isinstance(answer, dict) or not answer.get("id") or not join_url:
            raise GraphError(status, "invalid_response", "event without id or Teams meeting")
        return answer

    async def secure_online_meeting(self, user_id: str, join_url: str) -> dict[str, Any]:
        """The Teams meeting behind ``join_url``, set so that only the organiser presents and
        skips the lobby, and nothing is recorded or transcribed (a calendar event's meeting
        starts with the tenant's defaults). Needs OnlineMeetings.ReadWrite.All."""
        escaped = join_url.replace("'", "''")
        query = quote(f"JoinWebUrl eq '{escaped}'", safe="")
        status, answer = await self._request(
            "GET",
            f"/users/{_segment(user_id)}/onlineMeetings?$filter={query}",
            route="/users/{id}/onlineMeetings?$filter",
            repeatable=True,
        )
        found = answer.get("value") if isinstance(answer, dict) else None
        if not isinstance(found, list) or len(found) != 1 or not found[0].get("id"):
            raise GraphError(status, "invalid_response", "no single meeting for the join URL")
        meeting_id = str(found[0]["id"])
        status, answer = await self._request(
            "PATCH",
            f"/users/{_segment(user_id)}/onlineMeetings/{_segment(meeting_id)}",
            route="/users/{id}/onlineMeetings/{id}",
            body=dict(MEETING_SETTINGS),
            repeatable=True,
        )
        return answer if isinstance(answer, dict) else {"id": meeting_id}

    async def delete_event(self, user_id: str, event_id: str) -> None:
        """Delete the appointment and its meeting; one that is already gone (404) is fine."""
        await self._delete(
            f"/users/{_segment(user_id)}/events/{_segment(event_id)}", "/users/{id}/events/{id}"
        )

    async def check_member_groups(self, user_id: str, group_ids: list[str]) -> set[str]:
        """Which of ``group_ids`` the user belongs to (transitively); needs the application
        permission GroupMember.Read.All."""
        status, answer = await self._request(
            "POST",
            f"/users/{_segment(user_id)}/checkMemberGroups",
            route="/users/{id}/checkMemberGroups",
            body={"groupIds": list(group_ids)},
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("value"), list):
            raise GraphError(status, "invalid_response", "checkMemberGroups without a value list")
        return {str(group).lower() for group in answer["value"]}

    async def delete_online_meeting(self, user_id: str, meeting_id: str) -> None:
        """Delete a meeting made before appointments were calendar events; 404 is fine."""
        await self._delete(
            f"/users/{_segment(user_id)}/onlineMeetings/{_segment(meeting_id)}",
            "/users/{id}/onlineMeetings/{id}",
        )

    async def _delete(self, path: str, route: str) -> None:
        try:
            await self._request("DELETE", path, route=route)
        except GraphError as error:
            if error.status != 404:
                raise

    # --- plumbing --------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        route: str,
        body: dict[str, Any] | None = None,
        repeatable: bool = False,
    ) -> tuple[int, Any]:
        """One Graph call with retries; returns the status and the parsed JSON (or None).

        ``route`` is the path without ids, for logs. ``repeatable``: sending the call again
        has no further effect (a read, a PATCH to fixed values, a create with a transaction
        id), so a timeout is retried too.
        """
        with child_span(
            f"graph {method} {route}",
            {
                "http.request.method": method,
                "url.template": route,
                # ids replaced (Application Insights names the call by the URL)
                "url.full": f"{self._origin}{self._version_path}{route}",
                "server.address": URL(self._base_url).host or "",
            },
        ) as span:
            try:
                status, answer = await self._attempts(method, path, route, body, repeatable)
            except GraphError as error:
                span.set_attribute("graph.error_code", error.code)
                if error.status is not None:
                    span.set_attribute("http.response.status_code", error.status)
                raise
            span.set_attribute("http.response.status_code", status)
            return status, answer

    async def _attempts(
        self,
        method: str,
        path: str,
        route: str,
        body: dict[str, Any] | None,
        repeatable: bool,
    ) -> tuple[int, Any]:
        url = URL(self._base_url + path, encoded=True)
        for attempt in range(1, self._max_attempts + 1):
            token = await self._tokens.token()
            session = self._http()
            try:
                async with session.request(
                    method,
                    url,
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=aiohttp.ClientTimeout(total=self._timeout),
                ) as response:
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
                    request_id = response.headers.get("request-id", "")
                    answer = await _json_or_none(response)
            except TimeoutError:
                # Not retried unless repeatable: the call may have reached Graph, and the bot's
                # turn should not wait several timeouts.
                if repeatable and attempt < min(2, self._max_attempts):
                    log.warning("Graph %s %s: no answer in time; trying once more", method, route)
                    continue
                raise GraphTimeoutError(
                    None, "timeout", f"{method} {route}: no answer in {self._timeout:g} s"
                ) from None
            except aiohttp.ClientSSLError as error:
                # A certificate problem does not go away by retrying.
                raise GraphError(
                    None, "tls_error", f"{method} {route}: {type(error).__name__}"
                ) from error
            except aiohttp.ClientError as error:
                if attempt == self._max_attempts:
                    raise GraphError(
                        None, "connection_error", f"{method} {route}: {type(error).__name__}"
                    ) from error
                delay = self._backoff(attempt)
                log.warning(
                    "Graph %s %s: %s; attempt %d/%d, retrying in %.1f s",
                    method,
                    route,
                    type(error).__name__,
                    attempt,
                    self._max_attempts,
                    delay,
                )
                await self._sleep(delay)
                continue
            if status < 400:
                return status, answer
            failure = error_from_answer(status, answer, request_id)
            if status not in RETRY_STATUSES or attempt == self._max_attempts:
                raise failure
            delay = self._retry_after(retry_after, attempt)
            log.warning(
                "Graph %s %s answered %d %s; attempt %d/%d, retrying in %.1f s",
                method,
                route,
                status,
                failure.code,
                attempt,
                self._max_attempts,
                delay,
            )
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return min(self._backoff_base * 2 ** (attempt - 1), self._max_retry_wait)

    def _retry_after(self, header: str | None, attempt: int) -> float:
        """Graph's ``Retry-After`` (seconds, or an HTTP date), capped; backoff without one."""
        if header:
            seconds: float | None
            try:
                seconds = float(header)
            except ValueError:
                try:
                    seconds = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
                except (TypeError, ValueError):
                    seconds = None
            if seconds is not None and math.isfinite(seconds):
                return min(max(seconds, 0.0), self._max_retry_wait)
        return self._backoff(attempt)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            context = ssl.create_default_context(cafile=self._ca_file) if self._ca_file else True
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                headers={"Accept": "application/json"},
                trust_env=True,  # HTTPS_PROXY, as msal (requests) uses it
            )
        return self._session


def _graph_time(moment: datetime) -> dict[str, str]:
    """Graph's dateTimeTimeZone, in UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("meeting times must be timezone-aware")
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return {"dateTime": naive.isoformat(timespec="seconds"), "timeZone": "UTC"}


def _segment(value: str) -> str:
    if not value:
        raise ValueError("empty id in a Graph path")
    return quote(value, safe="")


async def _json_or_none(response: aiohttp.ClientResponse) -> Any:
    raw = await response.read()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
