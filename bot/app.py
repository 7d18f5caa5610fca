"""The aiohttp application: ``POST /api/messages``, ``GET /healthz``, ``GET /readyz``."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from botbuilder.core import BotAdapter, ConversationState
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult
from msrest.serialization import Model

from bot.config import Settings
from bot.domain.card_answers import CardAnswers
from bot.domain.consent import ConsentLog
from bot.domain.consent_forms import ConsentForms
from bot.domain.counsellors import CounsellorDirectory, CounsellorPolicy
from bot.domain.dropouts import Dropouts
from bot.domain.handoff_events import Notifier
from bot.domain.handoff_lifecycle import HandoffLifecycle
from bot.domain.handoffs import Handoffs
from bot.domain.invitations import Invitations
from bot.domain.profiles import Profiles
from bot.domain.reminders import Reminders, ReminderScheduler
from bot.hosting.activity_handler import VideoberatungBot
from bot.hosting.adapter import (
    PooledBotFrameworkAuthentication,
    SigningKeysUnavailableError,
    create_adapter,
)
from bot.hosting.counsellor_notifier import TeamsNotifier
from bot.hosting.counsellor_roles import CounsellorRoles
from bot.hosting.proactive_messages import ProactiveSender
from bot.hosting.reminder_sender import ReminderDelivery
from bot.hosting.request_checks import json_errors, problem, read_activity
from bot.hosting.service_logging import quiet_malformed_requests
from bot.hosting.state_storage import DocumentStateStorage
from bot.hosting.turn_locks import KeyedLocks
from bot.integrations.attachment_sources import FetchRules
from bot.integrations.form_storage import BlobFormStorage, FormStorage, LocalFormStorage
from bot.integrations.graph import GraphClient
from bot.integrations.meetings import ConfiguredLinkProvider, GraphMeetingProvider, MeetingProvider
from bot.storage import DocumentStore, StoreUnavailableError, open_document_store
from bot.techcheck_page.routes import add_techcheck_routes
from dialogs.commands import GlobalCommands
from dialogs.counsellor_desk import CounsellorDesk, DeskServices
from dialogs.journey import JourneyDialog
from dialogs.phone_switch import PhoneSwitchDialog
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


LOCAL_PEPPER = "local-development-only-pepper"  # local mode only; check() demands a real one


@dataclass
class Service:
    """Everything the bot is made of, built once at start-up."""

    bot: VideoberatungBot
    reminders: Reminders
    deliver_reminder: ReminderDelivery
    graph: GraphClient | None
    sender: ProactiveSender
    counsellor_cards: Notifier  # refreshes the counsellors' handoff cards
    #: one turn at a time per conversation — the tech-check result delivery waits its turn too
    turn_locks: KeyedLocks
    conversation_state: ConversationState


SERVICE = web.AppKey("service", Service)


def graph_client(settings: Settings) -> GraphClient | None:
    if not settings.graph_configured:
        return None
    return GraphClient(
        settings.graph_tenant_id,
        settings.graph_client_id,
        settings.graph_client_secret.get_secret_value(),
    )


def meeting_provider(settings: Settings, graph: GraphClient | None) -> MeetingProvider:
    if graph is not None:
        return GraphMeetingProvider(graph)
    return ConfiguredLinkProvider(
        settings.meeting_link_map(), settings.meeting_default_link or None
    )


def build_service(
    settings: Settings,
    store: DocumentStore,
    forms: FormStorage,
    adapter: BotAdapter,
    notifier: Notifier | None = None,
) -> Service:
    handoffs = Handoffs(store)
    directory = CounsellorDirectory(store)
    policy = CounsellorPolicy.from_lists(
        settings.split(settings.counsellor_tenant_ids),
        settings.split(settings.counsellor_object_ids),
        settings.split(settings.counsellor_queue_ids),
        settings.split(settings.counsellor_group_ids),
    )
    graph = graph_client(settings)
    sender = ProactiveSender(adapter, settings.app_id)
    teams_notifier = TeamsNotifier(sender, directory, handoffs, policy)
    notifier = notifier or teams_notifier
    meetings = meeting_provider(settings, graph)
    reminders = Reminders(store)
    invitations = Invitations(
        store,
        settings.invitation_pepper.get_secret_value() or LOCAL_PEPPER,
        bot_app_id=settings.app_id,
        tenant_id=settings.app_tenant_id,
        default_valid_days=settings.invitation_valid_days,
    )
    services = JourneyServices(
        settings=settings,
        consents=ConsentLog(store),
        handoffs=handoffs,
        profiles=Profiles(store),
        dropouts=Dropouts(store),
        forms=ConsentForms(forms, settings.max_upload_bytes, FetchRules.from_settings(settings)),
        notifier=notifier,
        invitations=invitations,
        directory=directory,
        lifecycle=HandoffLifecycle(meetings, reminders, notifier),
        card_answers=CardAnswers(store, ttl_seconds=settings.state_ttl_days * 86400),
    )
    desk = CounsellorDesk(
        DeskServices(
            directory=directory,
            invitations=invitations,
            handoffs=handoffs,
            consents=services.consents,
            meetings=meetings,
            reminders=reminders,
            sender=sender,
            notifier=notifier,
            meeting_minutes=settings.meeting_minutes,
        )
    )
    conversation_state = ConversationState(
        DocumentStateStorage(store, ttl_seconds=settings.state_ttl_days * 86400)
    )
    turn_locks = KeyedLocks()
    bot = VideoberatungBot(
        conversation_state,
        JourneyDialog(services),
        PhoneSwitchDialog(services),
        GlobalCommands(services, conversation_state),
        desk,
        CounsellorRoles(policy, graph),
        default_locale=settings.default_locale,
        locks=turn_locks,
    )
    return Service(
        bot,
        reminders,
        ReminderDelivery(handoffs, directory, sender),
        graph,
        sender,
        notifier,
        turn_locks,
        conversation_state,
    )


def create_app(settings: Settings, notifier: Notifier | None = None) -> web.Application:
    settings.check()
    quiet_malformed_requests()
    app = web.Application(client_max_size=settings.max_request_bytes, middlewares=[json_errors])
    app[SETTINGS] = settings
    app[STORE] = open_document_store(settings.storage_url, settings)
    app[ADAPTER] = create_adapter(settings)
    app[FORMS] = form_storage(settings)
    app[SERVICE] = build_service(settings, app[STORE], app[FORMS], app[ADAPTER], notifier)
    app[BOT] = app[SERVICE].bot
    app.cleanup_ctx.append(_storage_lifecycle)
    app.cleanup_ctx.append(_reminder_lifecycle)
    app.on_cleanup.append(_close_outbound)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    service = app[SERVICE]
    add_techcheck_routes(
        app,
        settings,
        app[STORE],
        app[ADAPTER],
        service.sender,
        service.counsellor_cards,
        service.conversation_state,
        service.turn_locks,
    )
    return app


async def _close_outbound(app: web.Application) -> None:
    authentication = app[ADAPTER].bot_framework_authentication
    if isinstance(authentication, PooledBotFrameworkAuthentication):
        await authentication.session.close()


async def _reminder_lifecycle(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    scheduler = ReminderScheduler(
        service.reminders,
        service.deliver_reminder,
        instance_id=f"{socket.gethostname()}-{os.getpid()}",
        interval_seconds=app[SETTINGS].reminder_interval_seconds,
    )
    scheduler.start()
    yield
    await scheduler.stop()
    if service.graph is not None:
        await service.graph.close()


async def _storage_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Storage must answer before the service listens: ``StoreUnavailableError`` otherwise
    (``python -m bot`` then exits with one line; see ``bot/__main__.py``)."""
    store, forms = app[STORE], app[FORMS]
    await store.open()
    try:
        await store.ping()
        await forms.open()
    except BaseException:
        await store.close()
        raise
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
        body = response.body
        if isinstance(body, Model):  # the activity handler already serialises some bodies
            body = serializer_helper(body)
        return web.json_response(body, status=response.status)
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
