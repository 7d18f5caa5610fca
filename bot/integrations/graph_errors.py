"""What a Graph call can fail with. No message carries a token or a request body."""

from __future__ import annotations

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
