"""Fixtures of the integration tests: the real aiohttp app on a loopback port, a LocalConnector
as the Bot Connector, and a ``TeamsClient`` that posts activities the way Microsoft Teams does
in a personal chat (the helpers themselves are in ``tests/support/http_bot.py``)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.config import Settings, is_loopback
from bot.devtools.connector_standin import LocalConnector
from bot.domain.handoff_events import Notifier
from bot.hosting.service_logging import RouteAccessLogger
from tests.support.bot_process import ProcessBot
from tests.support.channel import APP_ID, IdentityProvider
from tests.support.http_bot import RunningBot, StartBot, TeamsClient
from tests.support.journey import CollectingNotifier, settings_for_tests
from tests.support.network import NetworkSpy


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> NetworkSpy:
    spy = NetworkSpy()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        spy.lookups.append(name)
        if not is_loopback(name):
            raise socket.gaierror(socket.EAI_NONAME, "blocked by the test: no internet")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple):
            spy.connections.append(str(address[0]))
            if not is_loopback(str(address[0])):
                raise ConnectionRefusedError("blocked by the test: no internet")
        real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return spy


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for_tests(tmp_path)


@pytest.fixture
def notifier() -> CollectingNotifier:
    return CollectingNotifier()


@pytest.fixture
async def connector() -> AsyncIterator[LocalConnector]:
    async with LocalConnector() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def process_bot(tmp_path: Path) -> Iterator[ProcessBot]:
    """``python -m bot`` as its own process (SQLite in ``tmp_path``), stopped at the end."""
    bot = ProcessBot(f"sqlite:///{tmp_path / 'bot.db'}", tmp_path / "bot.log")
    bot.start()
    yield bot
    bot.stop()


@pytest.fixture
async def start_bot() -> AsyncIterator[StartBot]:
    """``await start_bot(settings, notifier)`` → a running service; all are stopped at the end."""
    started: list[RunningBot] = []

    async def start(settings: Settings, notifier: Notifier | None = None) -> RunningBot:
        app = create_app(settings, notifier)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server(access_log_class=RouteAccessLogger)
        running = RunningBot(app, server)
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        await running.close()


@pytest.fixture
async def bot(start_bot: StartBot, settings: Settings, notifier: CollectingNotifier) -> RunningBot:
    return await start_bot(settings, notifier)


@pytest.fixture
def client(bot: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector) -> TeamsClient:
    return TeamsClient(http, bot, connector)


# --- with credentials ----------------------------------------------------------------------


@pytest.fixture
def auth_settings(tmp_path: Path) -> Settings:
    return settings_for_tests(
        tmp_path, app_id=APP_ID, app_password="secret", invitation_pepper="a-pepper-for-the-tests"
    )


@pytest.fixture
def identity_provider(monkeypatch: pytest.MonkeyPatch) -> IdentityProvider:
    provider = IdentityProvider()
    monkeypatch.setattr(requests, "get", provider.get)
    return provider
