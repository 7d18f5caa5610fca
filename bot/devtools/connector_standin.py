"""Loopback stand-in for the Bot Connector service.

The bot sends every reply by HTTP to the ``serviceUrl`` of the incoming activity. Pointing that
``serviceUrl`` at a :class:`LocalConnector` lets tests and the terminal chat see exactly what the
bot sends, without Microsoft Teams or any network access.

Only the Bot Connector REST routes the bot uses are implemented (``/v3/conversations/...``,
and ``/v3/attachments/{id}/views/original`` for pictures pasted into the chat, which — as in
Teams — are served only to a request with a bearer token); anything else answers 404 like the
real service. Rejected requests are not part of ``calls``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = ["ConnectorCall", "LocalConnector"]

JsonDict = dict[str, Any]
CallListener = Callable[["ConnectorCall"], None]

_CONVERSATIONS = "/v3/conversations"
_ATTACHMENTS = "/v3/attachments"


@dataclass(frozen=True, slots=True)
class ConnectorCall:
    """One request the connector accepted.

    ``kind`` is ``send``, ``reply``, ``update``, ``delete``, ``create_conversation``,
    ``get_member``, ``list_members`` or ``attachment``. ``activity_id`` is the id the connector
    assigned (POST) or the id addressed in the path (PUT/DELETE, the attachment's id for
    ``attachment``); ``reply_to_id`` is set for replies
    (``POST .../activities/{replyToId}``). Header names are lower-cased.
    """

    kind: str
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    reply_to_id: str | None
    body: JsonDict | None
    headers: dict[str, str]


@dataclass(slots=True)
class _Failure:
    status: int
    body: JsonDict
    headers: dict[str, str]
    remaining: int


@dataclass(slots=True)
class _State:
    calls: list[ConnectorCall] = field(default_factory=list)
    members: dict[str, list[JsonDict]] = field(default_factory=dict)
    attachments: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)


def _error(status: int, code: str, message: str) -> web.Response:
    """Error body shaped like the connector's ``ErrorResponse``."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _new_id() -> str:
    return uuid.uuid4().hex


def _summary(body: JsonDict) -> str:
    """Describe an activity for error messages without revealing message text."""
    parts = [str(body.get("type")), f"id={body.get('id')!r}"]
    if isinstance(body.get("text"), str):
        parts.append(f"text={len(body['text'])} chars")
    attachments = body.get("attachments")
    if isinstance(attachments, list) and attachments:
        types = [a.get("contentType") for a in attachments if isinstance(a, dict)]
        parts.append(f"attachments={types}")
    return " ".join(parts)


class LocalConnector:
    """In-process Bot Connector on a loopback port that records what the bot sends.

    Use ``async with LocalConnector() as connector:`` or ``start()``/``stop()``;
    ``service_url`` is the value to put into the activities' ``serviceUrl``.
    """

    def __init__(self) -> None:
        self._state = _State()
        self._changed = asyncio.Condition()
        self._listeners: list[CallListener] = []
        self._runner: web.AppRunner | None = None
        self._service_url: str | None = None
        self._gate: asyncio.Event | None = None
        self.held = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening and return the service URL, e.g. ``http://127.0.0.1:53817/``.

        The URL ends with a slash like Teams' service URLs; the SDK strips it before joining.
        """
        if self._runner is not None:
            raise RuntimeError("LocalConnector is already running")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        bound_host, bound_port = runner.addresses[0][:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self._runner = runner
        self._service_url = f"http://{shown_host}:{bound_port}/"
        return self._service_url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        self._service_url = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def service_url(self) -> str:
        if self._service_url is None:
            raise RuntimeError("LocalConnector is not running")
        return self._service_url

    # -- configuration ---------------------------------------------------------------------

    def add_member(self, conversation_id: str, member: Mapping[str, Any]) -> None:
        """Register a conversation member (TeamsChannelAccount JSON, needs ``id``)."""
        if not isinstance(member.get("id"), str) or not member["id"]:
            raise ValueError("member needs a non-empty 'id'")
        self._state.members.setdefault(conversation_id, []).append(dict(member))

    def add_attachment(self, data: bytes, content_type: str = "image/png") -> str:
        """Keep a pasted picture; returns its ``contentUrl`` (served with a bearer token only)."""
        attachment_id = f"0-weu-d1-{_new_id()}"
        self._state.attachments[attachment_id] = (data, content_type)
        return f"{self.service_url}{_ATTACHMENTS[1:]}/{attachment_id}/views/original"

    def fail_next(
        self,
        status: int = 403,
        body: Mapping[str, Any] | None = None,
        count: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` requests to known routes with ``status``.

        ``body`` defaults to a connector-style error; ``headers`` can carry e.g. ``Retry-After``.
        Failed requests are not recorded in ``calls``.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        if body is None:
            body = {"error": {"code": f"HTTP{status}", "message": "Failure injected by test"}}
        self._state.failures.append(_Failure(status, dict(body), dict(headers or {}), count))

    def hold(self) -> asyncio.Event:
        """Answer no request from now on until the returned event is set (each is recorded
        first): a slow connector, so that the bot's turn stays in flight. ``held`` counts the
        requests waiting for their answer."""
        gate = self._gate = asyncio.Event()
        return gate

    def add_listener(self, listener: CallListener) -> None:
        """Call ``listener`` synchronously for every accepted request, before it is answered."""
        self._listeners.append(listener)

    def remove_listener(self, listener: CallListener) -> None:
        self._listeners.remove(listener)

    def clear(self) -> None:
        """Forget recorded calls and pending failures (members stay registered)."""
        self._state.calls.clear()
        self._state.failures.clear()

    # -- inspection ------------------------------------------------------------------------

    @property
    def calls(self) -> list[ConnectorCall]:
        return list(self._state.calls)

    def activities(self, conversation_id: str | None = None) -> list[JsonDict]:
        """Bodies of the activities POSTed (sent or replied), in arrival order."""
        return [
            call.body for call in self._activity_calls(conversation_id) if call.body is not None
        ]

    def updates(self, conversation_id: str | None = None) -> list[JsonDict]:
        """Bodies of the activities updated in place (PUT), in arrival order."""
        return [
            call.body
            for call in self._state.calls
            if call.kind == "update"
            and call.body is not None
            and conversation_id in (None, call.conversation_id)
        ]

    async def wait_for_activities(
        self,
        count: int,
        conversation_id: str | None = None,
        timeout: float | None = 10.0,  # noqa: ASYNC109 - a bound, so a test fails instead of hanging
    ) -> list[JsonDict]:
        """Wait until ``count`` activities arrived and return the first ``count`` of them.

        Raises ``TimeoutError`` listing what did arrive (type, id, sizes; never message text).
        """

        def enough() -> bool:
            return len(self._activity_calls(conversation_id)) >= count

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(enough)
        except TimeoutError:
            arrived = [_summary(body) for body in self.activities(conversation_id)]
            raise TimeoutError(
                f"expected {count} activities"
                + (f" in conversation {conversation_id!r}" if conversation_id else "")
                + f" within {timeout}s, got {len(arrived)}: {arrived}"
            ) from None
        return self.activities(conversation_id)[:count]

    def _activity_calls(self, conversation_id: str | None) -> list[ConnectorCall]:
        return [
            call
            for call in self._state.calls
            if call.kind in {"send", "reply"} and conversation_id in (None, call.conversation_id)
        ]

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = _match(request.method, request.path)
        if route is None:
            return _error(404, "NotFound", f"No route for {request.method} {request.path}")
        failure = self._take_failure()
        if failure is not None:
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)

        kind, conversation_id, path_id = route
        headers = {name.lower(): value for name, value in request.headers.items()}

        def call(
            activity_id: str | None = None,
            body: JsonDict | None = None,
            reply_to_id: str | None = None,
        ) -> ConnectorCall:
            return ConnectorCall(
                kind,
                request.method,
                request.path,
                conversation_id,
                activity_id,
                reply_to_id,
                body,
                headers,
            )

        if kind == "get_member":
            member = self._find_member(conversation_id, path_id)
            if member is None:
                return _error(404, "MemberNotFound", "The member was not found")
            await self._record(call())
            return web.json_response(member)
        if kind == "list_members":
            await self._record(call())
            return web.json_response(self._state.members.get(conversation_id or "", []))
        if kind == "delete":
            await self._record(call(path_id))
            return web.Response(status=200)
        if kind == "attachment":
            stored = self._state.attachments.get(path_id or "")
            if stored is None:
                return _error(404, "NotFound", "No such attachment")
            if not headers.get("authorization", "").startswith("Bearer "):
                return _error(401, "Unauthorized", "Attachments are served to the bot only")
            await self._record(call(path_id))
            return web.Response(body=stored[0], content_type=stored[1])

        body = await _read_json_object(request)
        if isinstance(body, web.Response):
            return body
        if kind == "create_conversation":
            return await self._create_conversation(call(body=body), body)
        if not _is_activity(body):
            return _error(400, "BadArgument", "Activity must be a JSON object with a 'type'")
        if kind == "update":
            await self._record(call(path_id, body))
            return web.json_response({"id": path_id})
        activity_id = _new_id()
        await self._record(call(activity_id, body, path_id if kind == "reply" else None))
        return web.json_response({"id": activity_id})

    async def _create_conversation(self, call: ConnectorCall, body: JsonDict) -> web.Response:
        """Answer ``ConversationResourceResponse``; an initial activity lands in the new chat."""
        activity = body.get("activity")
        if activity is not None and not _is_activity(activity):
            return _error(400, "BadArgument", "Activity must be a JSON object with a 'type'")
        conversation_id = f"a:local-{_new_id()}"
        answer: JsonDict = {"id": conversation_id}
        await self._record(replace(call, conversation_id=conversation_id))
        if activity is not None:
            answer["activityId"] = _new_id()
            path = f"{_CONVERSATIONS}/{conversation_id}/activities"
            await self._record(
                replace(
                    call,
                    kind="send",
                    path=path,
                    activity_id=answer["activityId"],
                    body=activity,
                    conversation_id=conversation_id,
                )
            )
        return web.json_response(answer)

    def _take_failure(self) -> _Failure | None:
        if not self._state.failures:
            return None
        failure = self._state.failures[0]
        failure.remaining -= 1
        if failure.remaining == 0:
            self._state.failures.pop(0)
        return failure

    def _find_member(self, conversation_id: str | None, member_id: str | None) -> JsonDict | None:
        for member in self._state.members.get(conversation_id or "", []):
            if member_id in (member.get("id"), member.get("aadObjectId")):
                return member
        return None

    async def _record(self, call: ConnectorCall) -> None:
        async with self._changed:
            self._state.calls.append(call)
            self._changed.notify_all()
        for listener in list(self._listeners):
            listener(call)
        gate = self._gate
        if gate is not None and not gate.is_set():
            self.held += 1
            try:
                await gate.wait()
            finally:
                self.held -= 1


def _match(method: str, path: str) -> tuple[str, str | None, str | None] | None:
    """Map a request to ``(kind, conversation_id, id_in_path)`` or ``None`` for unknown routes."""
    if path == _CONVERSATIONS:
        return ("create_conversation", None, None) if method == "POST" else None
    if method == "GET" and path.startswith(_ATTACHMENTS + "/"):
        match path[len(_ATTACHMENTS) + 1 :].split("/"):
            case [attachment_id, "views", "original"] if attachment_id:
                return "attachment", None, attachment_id
        return None
    if not path.startswith(_CONVERSATIONS + "/"):
        return None
    parts = path[len(_CONVERSATIONS) + 1 :].split("/")
    if any(not part for part in parts):
        return None
    match method, parts:
        case "POST", [conversation_id, "activities"]:
            return "send", conversation_id, None
        case "POST", [conversation_id, "activities", activity_id]:
            return "reply", conversation_id, activity_id
        case "PUT", [conversation_id, "activities", activity_id]:
            return "update", conversation_id, activity_id
        case "DELETE", [conversation_id, "activities", activity_id]:
            return "delete", conversation_id, activity_id
        case "GET", [conversation_id, "members"]:
            return "list_members", conversation_id, None
        case "GET", [conversation_id, "members", member_id]:
            return "get_member", conversation_id, member_id
    return None


async def _read_json_object(request: web.Request) -> JsonDict | web.Response:
    if request.content_type != "application/json":
        return _error(400, "BadArgument", "Content-Type must be application/json")
    try:
        parsed = json.loads(await request.text())
    except ValueError:
        return _error(400, "BadArgument", "Body is not valid JSON")
    if not isinstance(parsed, dict):
        return _error(400, "BadArgument", "Body must be a JSON object")
    return parsed


def _is_activity(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str) and bool(value["type"])
