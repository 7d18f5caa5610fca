"""What the service writes to its log: no tokens, no personal data, no noise anyone can cause.

* The access log names the *route* a request matched (``GET /techcheck/{token}``), never the
  path itself: paths can carry tokens (the tech-check link). No query string, no referrer (it
  can carry the page's URL), no user agent and no client address (personal data).
* aiohttp logs a full traceback at ERROR for every malformed HTTP request (a bad
  ``Content-Length``, too many headers). Anyone can send those; they become one line at INFO.
* ``LOG_FORMAT=json``: one JSON object per line (``time``, ``level``, ``logger``, ``message``,
  and inside a turn the ``trace_id`` and ``span_id`` of its span), for Log Analytics.
* Libraries that log request URLs or SQL with its parameters at INFO or DEBUG (the Azure SDKs'
  HTTP logging policy: every Cosmos DB item URL, which carries record keys; aiosqlite: every
  statement with its values) are held at WARNING, whatever the service's own level.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import BaseRequest, Request, StreamResponse
from aiohttp.web_protocol import RequestPayloadError
from opentelemetry import trace

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
UNMATCHED = "(no route)"
QUIET_LIBRARIES = ("azure", "aiosqlite", "msal", "urllib3")


class RouteAccessLogger(AbstractAccessLogger):
    """``POST /api/messages 201 116B 3.2ms`` — the route's pattern, not the requested path."""

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %d %dB %.1fms",
            request.method,
            route_of(request),
            response.status,
            response.body_length,
            time * 1000,
        )


def route_of(request: BaseRequest) -> str:
    if not isinstance(request, Request):
        return UNMATCHED
    try:
        resource = request.match_info.route.resource
    except AssertionError:  # a request that could not be parsed never reached the router
        return UNMATCHED
    return resource.canonical if resource is not None else UNMATCHED


#: what a client can cause on its own: an unparsable request or body, a connection it drops
CLIENT_CAUSED = (HttpProcessingError, RequestPayloadError, ConnectionResetError)


class MalformedRequestsInOneLine(logging.Filter):
    """Turns aiohttp's traceback for an unparsable request (or one the client abandoned)
    into one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, CLIENT_CAUSED):
            record.msg = "malformed HTTP request refused (%s %s)"
            record.args = (getattr(error, "code", "-"), type(error).__name__)
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.INFO
            record.levelname = logging.getLevelName(logging.INFO)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record, with the current span's trace and span id."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = format(context.trace_id, "032x")
            entry["span_id"] = format(context.span_id, "016x")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO, log_format: str = "text") -> None:
    """The service's logging; called again with the configured ``LOG_FORMAT`` once the
    settings are read."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    formatter = JsonLines() if log_format == "json" else logging.Formatter(LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    # warns on every Universal Action ("trigger is not a known attribute"): no news
    logging.getLogger("msrest.serialization").setLevel(logging.ERROR)
    quiet_malformed_requests()


def quiet_malformed_requests() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestsInOneLine) for f in server_log.filters):
        server_log.addFilter(MalformedRequestsInOneLine())
