"""The composition root: builds every part of the bot once and wires them into the web app.

Nothing else constructs repositories, senders or the session store; the layers below receive
what they need from here (``docs/architecture.md``). This module imports no Bot Framework SDK:
the SDK's parts are built by ``bot/hosting``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.config import Settings
from bot.data_export.routes import add_my_data_routes
from bot.domain.card_answers import CardAnswers
from bot.domain.consent import ConsentLog
from bot.domain.consent_forms import ConsentForms
from bot.domain.counsellors import CounsellorDirectory, CounsellorPolicy
from bot.domain.handoff_events import Notifier
from bot.domain.handoff_lifecycle import HandoffLifecycle
from bot.domain.handoffs import Handoffs
from bot.domain.invitations import Invitations
from bot.domain.my_data import MyData
from bot.domain.periodic import Periodic
from bot.domain.profiles import Profiles
from bot.domain.reminders import Reminders, ReminderScheduler
from bot.domain.retention import RetentionPolicy, RetentionSweep
from bot.domain.stats import Stats
from bot.domain.techcheck_links import LinkIssuer, codec_for
from bot.hosting.activity_handler import VideoberatungBot
from bot.hosting.adapter import ChannelAdapter, create_adapter
from bot.hosting.counsellor_notifier import CounsellorNotifier
from bot.hosting.counsellor_roles import CounsellorRoles
from bot.hosting.proactive_messages import ProactiveSender
from bot.hosting.reminder_sender import ReminderSender
from bot.hosting.request_checks import json_errors
from bot.hosting.routes import BotEndpoint, add_bot_routes
from bot.hosting.service_logging import quiet_malformed_requests
from bot.hosting.session_store import SessionStore
from bot.hosting.shutdown import DRAIN, Drain
from bot.hosting.turn_locks import KeyedLocks
from bot.integrations.attachment_sources import FetchRules
from bot.integrations.form_storage import BlobFormStorage, FormStorage, LocalFormStorage
from bot.integrations.graph import GraphClient
from bot.integrations.graph_tokens import IdentityTokens
from bot.integrations.meetings import ConfiguredLinkProvider, GraphMeetingProvider, MeetingProvider
from bot.storage import DocumentStore, open_document_store
from bot.storage.traced import TracedStore
from bot.techcheck_page.result_delivery import ResultDelivery
from bot.techcheck_page.routes import TechcheckPage, add_techcheck_routes, techcheck_page
from bot.techcheck_page.usage import UsageLog
from dialogs.commands import GlobalCommands
from dialogs.counsellor_desk import CounsellorDesk, DeskServices
from dialogs.early_answers import EarlyAnswers
from dialogs.interpreter import InterpreterDialog
from dialogs.journey import JourneyDialog
from dialogs.phone_switch import PhoneSwitchDialog
from dialogs.services import JourneyServices
from dialogs.stats_desk import StatsDesk

log = logging.getLogger(__name__)

LOCAL_PEPPER = "local-development-only-pepper"  # local mode only; check() demands a real one


@dataclass
class Service:
    """Everything the bot is made of, built once at start-up."""

    bot: VideoberatungBot
    reminders: Reminders
    reminder_sender: ReminderSender
    graph: GraphClient | None
    techcheck: TechcheckPage
    retention: RetentionSweep
    my_data: MyData


SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", DocumentStore)
ADAPTER = web.AppKey("adapter", ChannelAdapter)
FORMS = web.AppKey("forms", FormStorage)
SERVICE = web.AppKey("service", Service)


def form_storage(settings: Settings) -> FormStorage:
    connection_string = settings.blob_connection_string.get_secret_value()
    if connection_string:
        return BlobFormStorage.from_connection_string(connection_string, settings.blob_container)
    if settings.blob_account_url:
        return BlobFormStorage.from_account_url(settings.blob_account_url, settings.blob_container)
    return LocalFormStorage(Path(settings.upload_dir))


def graph_client(settings: Settings) -> GraphClient | None:
    if not settings.graph_configured:
        return None
    if settings.graph_use_managed_identity:
        return GraphClient(IdentityTokens(settings.graph_client_id))
    return GraphClient.with_secret(
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
    adapter: ChannelAdapter,
    notifier: Notifier | None = None,
) -> Service:
    """Every part, once. ``notifier`` replaces the Teams notifier (tests record events)."""
    retention = RetentionPolicy.from_settings(settings)
    state_ttl_seconds = int(retention.state.total_seconds())
    codec = codec_for(settings)  # signs the tech-check links the chat issues and the page reads
    handoffs = Handoffs(store, retention.handoff)
    profiles = Profiles(store, retention.profile)
    directory = CounsellorDirectory(store, retention.profile)
    my_data = MyData(store, settings)
    stats = Stats(store)
    consent_forms = ConsentForms(
        forms,
        settings.max_upload_bytes,
        FetchRules.from_settings(settings),
        records=store,
        keep_undecided=retention.handoff,
        keep_decided=retention.form,
    )
    policy = CounsellorPolicy.from_lists(
        settings.split(settings.counsellor_tenant_ids),
        settings.split(settings.counsellor_object_ids),
        settings.split(settings.counsellor_queue_ids),
        settings.split(settings.counsellor_group_ids),
        settings.split(settings.stats_object_ids),
        settings.split(settings.stats_group_ids),
    )
    graph = graph_client(settings)
    sender = ProactiveSender(adapter, settings.app_id)
    notifier = notifier or CounsellorNotifier(sender, directory, handoffs, policy)
    meetings = meeting_provider(settings, graph)
    reminders = Reminders(store)
    sessions = SessionStore(store, adapter, KeyedLocks(), ttl_seconds=state_ttl_seconds)
    invitations = Invitations(
        store,
        settings.invitation_pepper.get_secret_value() or LOCAL_PEPPER,
        bot_app_id=settings.app_id,
        tenant_id=settings.app_tenant_id,
        default_valid_days=settings.invitation_valid_days,
    )
    services = JourneyServices(
        settings=settings,
        consents=ConsentLog(store, retention.consent),
        handoffs=handoffs,
        profiles=profiles,
        stats=stats,
        forms=consent_forms,
        notifier=notifier,
        invitations=invitations,
        directory=directory,
        lifecycle=HandoffLifecycle(meetings, reminders, notifier),
        card_answers=CardAnswers(store, ttl_seconds=state_ttl_seconds),
        links=LinkIssuer(settings, profiles, codec),
        my_data=my_data,
    )
    desk = CounsellorDesk(
        DeskServices(
            directory=directory,
            invitations=invitations,
            handoffs=handoffs,
            consents=services.consents,
            forms=consent_forms,
            stats=stats,
            meetings=meetings,
            reminders=reminders,
            sender=sender,
            notifier=notifier,
            meeting_minutes=settings.meeting_minutes,
        )
    )
    bot = VideoberatungBot(
        sessions,
        JourneyDialog(services),
        [PhoneSwitchDialog(services), InterpreterDialog(services)],
        GlobalCommands(services, sessions.state),
        EarlyAnswers(services),
        desk,
        StatsDesk(stats),
        CounsellorRoles(policy, graph),
        default_locale=settings.default_locale,
    )
    delivery = ResultDelivery(profiles, handoffs, sessions, sender, notifier)
    return Service(
        bot=bot,
        reminders=reminders,
        reminder_sender=ReminderSender(handoffs, directory, sender),
        graph=graph,
        techcheck=techcheck_page(settings, codec, profiles, UsageLog(store), delivery, stats),
        retention=RetentionSweep(store, consent_forms, retention),
        my_data=my_data,
    )


def create_app(settings: Settings, notifier: Notifier | None = None) -> web.Application:
    settings.check()
    quiet_malformed_requests()
    drain = Drain()
    app = web.Application(
        client_max_size=settings.max_request_bytes, middlewares=[drain.middleware, json_errors]
    )
    app[DRAIN] = drain
    app[SETTINGS] = settings
    app[STORE] = TracedStore(open_document_store(settings.storage_url, settings))
    adapter = create_adapter(settings)
    app[ADAPTER] = adapter
    app[FORMS] = form_storage(settings)
    service = build_service(settings, app[STORE], app[FORMS], adapter, notifier)
    app[SERVICE] = service
    app.cleanup_ctx.append(_storage_lifecycle)
    app.cleanup_ctx.append(_retention_lifecycle)
    app.cleanup_ctx.append(_reminder_lifecycle)
    add_bot_routes(app, BotEndpoint(settings, adapter, service.bot, app[STORE]))
    add_techcheck_routes(app, service.techcheck)
    add_my_data_routes(app, service.my_data)
    return app


def instance_id() -> str:
    """This process among the replicas (reminder claims, telemetry's service.instance.id)."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _job_grace(app: web.Application) -> float:
    """How long a background job may finish its run on SIGTERM: within the grace period."""
    return app[SETTINGS].shutdown_grace_seconds * 0.8


async def _retention_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """The purge runs at start and then every ``RETENTION_PURGE_HOURS``, on every instance."""
    purge = Periodic(
        "retention", app[SERVICE].retention.run_once, app[SETTINGS].retention_purge_hours * 3600
    )
    purge.start()
    app[DRAIN].on_drain(lambda: purge.stop(_job_grace(app)))
    yield
    await purge.stop()


async def _reminder_lifecycle(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    scheduler = ReminderScheduler(
        service.reminders,
        service.reminder_sender,
        instance_id=instance_id(),
        interval_seconds=app[SETTINGS].reminder_interval_seconds,
    )
    scheduler.start()
    app[DRAIN].on_drain(lambda: scheduler.stop(_job_grace(app)))
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
    log.info("storage open")
    yield
    await forms.close()
    await store.close()
