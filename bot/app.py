"""The aiohttp application: ``POST /api/messages``, ``GET /healthz``, ``GET /readyz``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from botbuilder.core import ConversationState
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from bot.adapter import SigningKeysUnavailableError, create_adapter
from bot.config import Settings
from bot.form_storage import BlobFormStorage, FormStorage, LocalFormStorage
from bot.handler import VideoberatungBot
from bot.notify import LogNotifier, Notifier
from bot.records import ConsentLog, Dropouts, Handoffs, Profiles
from bot.request_checks import json_errors, problem, read_activity
from bot.storage import DocumentStore, StoreUnavailableError, open_document_store
from bot.storage.bot_state import DocumentStateStorage
from bot.uploads import ConsentForms
from dialogs.commands import GlobalCommands
from dialogs.journey import JourneyDialog
from dialogs.services import JourneyServices

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", DocumentStore)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", VideoberatungBot)
FORMS = web.AppKey("forms", FormStorage)


def form_storage(settings: Settings) -> FormStorage:
    connection_string = settings.blob_connection_string.get_secret_value()
    if connection_string:
        return BlobFormStorage.from_connection_string(connection_string, settings.blob_container)
    if settings.blob_account_url:
        return BlobFormStorage.from_account_url(settings.blob_account_url, settings.blob_container)
    return LocalFormStorage(Path(settings.upload_dir))


def build_bot(
    settings: Settings, store: DocumentStore, forms: FormStorage, notifier: Notifier
) -> VideoberatungBot:
    services = JourneyServices(
        settings=settings,
        consents=ConsentLog(store),
        handoffs=Handoffs(store),
        profiles=Profiles(store),
        dropouts=Dropouts(store),
        forms=ConsentForms(forms, settings.max_upload_bytes),
        notifier=notifier,
    )
    conversation_state = ConversationState(
        DocumentStateStorage(store, ttl_seconds=settings.state_ttl_days * 86400)
    )
    return VideoberatungBot(
        conversation_state,
        JourneyDialog(services),
        GlobalCommands(services, conversation_state),
        default_locale=settings.default_locale,
    )


def create_app(settings: Settings, notifier: Notifier | None = None) -> web.Application:
    settings.check()
    app = web.Application(client_max_size=settings.max_request_bytes, middlewares=[json_errors])
    app[SETTINGS] = settings
    app[STORE] = open_document_store(settings.storage_url)
    app[ADAPTER] = create_adapter(settings)
    app[FORMS] = form_storage(settings)
    app[BOT] = build_bot(settings, app[STORE], app[FORMS], notifier or LogNotifier())
    app.cleanup_ctx.append(_storage_lifecycle)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def _storage_lifecycle(app: web.Application) -> AsyncIterator[None]:
    store, forms = app[STORE], app[FORMS]
    await store.open()
    await forms.open()
    purged = await store.purge_expired()
    log.info("storage open (%d expired documents purged)", purged)
    yield
    await forms.close()
    await store.close()


async def messages(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    activity = await read_activity(request, settings)
    adapter = request.app[ADAPTER]
    authentication = await _authenticate(
        adapter, activity, request.headers.get("Authorization", "")
    )
    response = await adapter.process_activity(authentication, activity, request.app[BOT].on_turn)
    if response is not None:
        return web.json_response(serializer_helper(response.body), status=response.status)
    return web.Response(status=201)


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
    try:
        await request.app[STORE].ping()
    except StoreUnavailableError:
        return web.json_response({"status": "storage unavailable"}, status=503)
    return web.json_response({"status": "ready"})
