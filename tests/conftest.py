"""Fixtures shared by all tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.i18n import Translator
from bot.storage import DocumentStore, open_document_store
from tests.support.cosmos_server import CosmosServer, cosmos_server
from tests.support.journey import Chat, settings_for_tests


@pytest.fixture(autouse=True)
def strict_translations() -> Iterator[None]:
    """A text key missing from a catalog fails the test instead of showing the raw key."""
    Translator.strict = True
    yield
    Translator.strict = False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for_tests(tmp_path)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[DocumentStore]:
    document_store = open_document_store(settings.storage_url)
    await document_store.open()
    yield document_store
    await document_store.close()


@pytest.fixture(scope="module")
def cosmos() -> Iterator[CosmosServer]:
    """A local Cosmos DB server (from node_modules) shared by a module's tests; each test
    keeps to a database of its own (``fresh_database_name``)."""
    with cosmos_server() as server:
        yield server


@pytest.fixture
def chat(settings: Settings, store: DocumentStore) -> Chat:
    return Chat(settings, store)
