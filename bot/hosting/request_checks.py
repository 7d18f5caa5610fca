"""Checks in front of the SDK: bad requests get a clear 4xx, never a 5xx or a trace.

The SDK on its own answers malformed JSON with 500, a missing content type with 404 and a
bearer token in anonymous mode with 500 (it tries to fetch signing keys from the internet).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from bot.config import Settings, is_loopback
from bot.hosting.inbound_activity import ActivityShapeError, check_activity_shape
from bot.hosting.json_body import JsonBodyError, parse_json

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as ``{"error": "..."}``; an unexpected one as a bare 500, no trace."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        default_text = f"{error.status}: {error.reason}"
        message = error.text if error.text and error.text != default_text else error.reason
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return web.json_response({"error": message}, status=error.status, headers=headers)
    except ConnectionError as error:  # the client went away mid-request: nothing of ours failed
        log.info("request abandoned by the client: %s", type(error).__name__)
        return web.json_response({"error": "the request did not arrive in full"}, status=400)
    except Exception as error:
        log.error("request failed: %s", type(error).__name__)
        return web.json_response({"error": "internal error"}, status=500)


def problem(status: type[web.HTTPException], message: str, **details: int) -> web.HTTPException:
    """An HTTP error whose text is the JSON problem's message (``json_errors``); ``details``
    are the arguments some statuses take (413: ``max_size``, ``actual_size``)."""
    return status(text=message, **details)  # type: ignore[arg-type]


async def read_activity(request: web.Request, settings: Settings) -> Activity:
    if request.content_type != "application/json":
        raise problem(web.HTTPUnsupportedMediaType, "Content-Type must be application/json")
    refuse_encoded_body(request)
    limit = settings.max_request_bytes
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit, request.content_length)
    if settings.local_mode and request.headers.get("Authorization", "").strip():
        raise problem(web.HTTPUnauthorized, "this bot runs in local mode and accepts no tokens")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as error:
        raise too_large(limit, limit + 1) from error
    body = json_body(raw)
    if not isinstance(body, dict):
        raise problem(web.HTTPBadRequest, "body must be a JSON object (an activity)")
    try:
        check_activity_shape(body)
    except ActivityShapeError as error:
        raise problem(web.HTTPBadRequest, str(error)) from error
    _check_service_url(body["serviceUrl"], settings)
    try:
        return Activity().deserialize(body)
    except (DeserializationError, TypeError, ValueError, AttributeError) as error:
        raise problem(web.HTTPBadRequest, "body is not a valid activity") from error


def refuse_encoded_body(request: web.Request) -> None:
    """Channels send plain JSON; a compressed (or claimed-compressed) body is refused unread."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise problem(web.HTTPUnsupportedMediaType, "Content-Encoding is not supported")


def json_body(raw: bytes) -> Any:
    """The parsed body; 400 for anything ``bot.hosting.json_body`` refuses."""
    try:
        return parse_json(raw)
    except JsonBodyError as error:
        raise problem(web.HTTPBadRequest, str(error)) from error


def too_large(limit: int, size: int) -> web.HTTPException:
    return problem(
        web.HTTPRequestEntityTooLarge,
        f"request body too large (limit {limit} bytes)",
        max_size=limit,
        actual_size=size,
    )


def _check_service_url(service_url: str, settings: Settings) -> None:
    """Where the replies go: an http(s) URL, and in local mode a loopback one."""
    try:
        parsed = urlparse(service_url)
        hostname, _ = parsed.hostname, parsed.port  # both raise for a malformed authority
    except ValueError as error:
        raise problem(web.HTTPBadRequest, "serviceUrl must be an http(s) URL") from error
    if parsed.scheme not in ("http", "https") or not hostname:
        raise problem(web.HTTPBadRequest, "serviceUrl must be an http(s) URL")
    if settings.local_mode and not is_loopback(hostname):
        # Without credentials nothing proves who sent this; never call out of the machine.
        raise problem(web.HTTPBadRequest, "in local mode serviceUrl must be a loopback address")
