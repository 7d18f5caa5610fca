"""What a Graph call can fail with, and Graph's error answer read as one. No message carries a
token or a request body."""

from __future__ import annotations

from typing import Any

_MESSAGE_LIMIT = 300


class GraphError(Exception):
    """Graph (or the way to it) refused or failed a call.

    ``status`` is the HTTP status, or ``None`` when no answer came (connection error, token
    failure, timeout); ``code`` is Graph's error code (``TooManyRequests``, ``Forbidden`` …)
    or a short local one. The message never contains the token or the request body.
    """

    def __init__(
        self, status: int | None, code: str, message: str, *, request_id: str = ""
    ) -> None:
        self.status = status
        self.code = code
        self.message = message[:_MESSAGE_LIMIT]
        self.request_id = request_id
        where = f" (request-id {request_id})" if request_id else ""
        super().__init__(f"Graph {status or 'no answer'} {code}: {self.message}{where}")


class GraphAuthError(GraphError):
    """No access token: wrong tenant, client id or secret, or the token endpoint is down."""


class GraphTimeoutError(GraphError):
    """Graph did not answer in time. Not retried: a create may have happened anyway."""


def error_from_answer(status: int, answer: Any, request_id: str) -> GraphError:
    """Graph's ``{"error": {"code", "message"}}`` as a GraphError."""
    details = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(details, dict):
        details = {}
    code = str(details.get("code") or f"http_{status}")
    message = str(details.get("message") or "")
    inner = details.get("innerError")
    if not request_id and isinstance(inner, dict):
        request_id = str(inner.get("request-id", ""))
    return GraphError(status, code, message, request_id=request_id)
