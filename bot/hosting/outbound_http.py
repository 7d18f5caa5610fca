"""Replies go out over one pooled aiohttp session instead of ``requests`` in a worker thread.

The SDK's connector clients send every reply through msrest's ``requests`` sender in the
default executor and sign each request there (a thread hop and a token lookup per reply).
This pipeline does the same work on the event loop: the same policies, the same signing
rule as the SDK's credentials, and connections kept alive per service URL.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import aiohttp
import yarl
from botframework.connector.aio import ConnectorClient
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, Request, Response
from msrest.pipeline.async_abc import AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http.aiohttp import AioHttpClientResponse

from bot.observability import child_span

# msal hands out a cached token until five minutes before it expires; caching the header a
# little less than that never sends an expired one.
HEADER_SECONDS = 240
_CONNECTOR_WORDS = frozenset(
    {"v3", "conversations", "activities", "members", "pagedmembers", "attachments", "views"}
)

TIMEOUT = aiohttp.ClientTimeout(total=30)


class SharedSession:
    """One aiohttp session for all outbound Bot Connector calls of this process."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _Sender(AsyncHTTPSender):
    def __init__(self, session: SharedSession) -> None:
        self._session = session

    async def __aenter__(self) -> _Sender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None

    def build_context(self) -> None:
        return None

    async def send(self, request: Request, **config: Any) -> Response:
        http = request.http_request
        url = yarl.URL(http.url)
        route = connector_route(url.path)
        with child_span(
            f"connector {http.method} {route}",
            {
                "http.request.method": http.method,
                "url.template": route,
                # the URL with its ids replaced: Application Insights names the call by it
                "url.full": f"{url.scheme}://{url.raw_authority}{route}",
                "server.address": url.host or "",
                "server.port": url.port or 443,
            },
        ) as span:
            raw = await self._session.get().request(
                http.method, http.url, headers=dict(http.headers), data=http.data
            )
            span.set_attribute("http.response.status_code", raw.status)
            response = AioHttpClientResponse(http, raw)
            await response.load_body()
            raw.release()
            return Response(request, response)


def connector_route(path: str) -> str:
    """``/v3/conversations/a:1…/activities/123`` → ``/v3/conversations/{id}/activities/{id}``:
    conversation and activity ids stay out of telemetry."""
    parts = [part if part in _CONNECTOR_WORDS else "{id}" for part in path.split("/") if part]
    return "/" + "/".join(parts)


class _Authorization(AsyncHTTPPolicy):
    """The SDK's credentials decide whether and how to sign (``signed_session``)."""

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials
        self._header: str | None = None
        self._until = 0.0

    async def send(self, request: Request, **kwargs: Any) -> Response:
        header = await self._current()
        if header:
            request.http_request.headers["Authorization"] = header
        else:
            request.http_request.headers.pop("Authorization", None)
        if self.next is None:
            raise RuntimeError("the authorization policy runs only inside a pipeline")
        return await self.next.send(request, **kwargs)

    async def _current(self) -> str | None:
        if self._credentials is None:
            return None
        if time.monotonic() >= self._until:
            signed = SimpleNamespace(headers={})
            # May fetch a token over the network: never on the event loop.
            await asyncio.to_thread(self._credentials.signed_session, signed)
            self._header = signed.headers.get("Authorization")
            self._until = time.monotonic() + HEADER_SECONDS
        return self._header


def use_shared_session(client: ConnectorClient, session: SharedSession) -> ConnectorClient:
    """Rebuild the client's pipeline as msrest builds it, with our signer and sender."""
    config = client.config
    config.pipeline = AsyncPipeline(
        [
            config.user_agent_policy,
            _Authorization(config.credentials),
            RawDeserializer(),
            config.http_logger_policy,
        ],
        _Sender(session),
    )
    return client
