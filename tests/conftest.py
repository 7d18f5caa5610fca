"""Fixtures shared by all tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.i18n import Translator
from bot.storage import DocumentStore, open_document_store
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


@pytest.fixture
def chat(settings: Settings, store: DocumentStore) -> Chat:
    return Chat(settings, store)
