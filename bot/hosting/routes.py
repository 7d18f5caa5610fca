"""The bot's HTTP endpoints: ``POST /api/messages``, ``GET /healthz``, ``GET /readyz``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult
from msrest.serialization import Model

from bot.config import Settings
from bot.hosting.activity_handler import VideoberatungBot
from bot.hosting.adapter import PooledBotFrameworkAuthentication, SigningKeysUnavailableError
from bot.hosting.request_checks import problem, read_activity
from bot.hosting.shutdown import DRAIN
from bot.hosting.turn_telemetry import activity_label, turn_span
from bot.storage import DocumentStore, StoreUnavailableError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotEndpoint:
    """What the endpoints need, built once by the composition root (``bot/app.py``)."""

    settings: Settings
    adapter: CloudAdapter
    bot: VideoberatungBot
    store: DocumentStore  # asked by the readiness probe


ENDPOINT = web.AppKey("bot_endpoint", BotEndpoint)


def add_bot_routes(app: web.Application, endpoint: BotEndpoint) -> None:
    app[ENDPOINT] = endpoint
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.on_cleanup.append(_close_outbound)


async def messages(request: web.Request) -> web.Response:
    endpoint = request.app[ENDPOINT]
    with turn_span() as turn:
        activity = await read_activity(request, endpoint.settings)
        turn.activity_type = activity_label(activity.type)
        authentication = await _authenticate(
            endpoint.adapter, activity, request.headers.get("Authorization", "")
        )
        response = await endpoint.adapter.process_activity(
            authentication, activity, endpoint.bot.on_turn
        )
        if response is None:
            turn.status = 201
            return web.Response(status=201)
        turn.status = response.status
        body = response.body
        if isinstance(body, Model):  # the activity handler already serialises some bodies
            body = serializer_helper(body)
        return web.json_response(body, status=response.status)


async def _authenticate(
    adapter: CloudAdapter, activity: Activity, auth_header: str
) -> AuthenticateRequestResult:
    """Check the token first, on its own, so that a bad one is a 401 and never a turn."""
    try:
        return await adapter.bot_framework_authentication.authenticate_request(
            activity, auth_header
        )
    except SigningKeysUnavailableError as error:
        raise problem(web.HTTPServiceUnavailable, "cannot verify tokens right now") from error
    except Exception as error:  # the SDK signals bad tokens with many exception types
        log.info("token refused: %s", type(error).__name__)
        raise problem(web.HTTPUnauthorized, "missing or invalid token") from error


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[DRAIN].draining:
        return web.json_response({"status": "shutting down"}, status=503)
    try:
        await request.app[ENDPOINT].store.ping()
    except StoreUnavailableError:
        return web.json_response({"status": "storage unavailable"}, status=503)
    return web.json_response({"status": "ready"})


async def _close_outbound(app: web.Application) -> None:
    authentication = app[ENDPOINT].adapter.bot_framework_authentication
    if isinstance(authentication, PooledBotFrameworkAuthentication):
        await authentication.session.close()
