"""Consent by photo or scan of the signed paper form, fetched over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from botbuilder.schema import Attachment

from bot.config import Settings
from bot.domain.consent import ConsentLog
from bot.i18n import translator
from bot.storage import DocumentStore
from tests.support.files import PNG, file_server
from tests.support.journey import CLIENT, Chat, reach_consent

EXECUTABLE = b"MZ\x90\x00" + b"\x00" * 200


@pytest.fixture
async def files() -> AsyncIterator[TestServer]:
    """Serves what Teams would serve: a picture, a disguised executable, a huge file."""
    bodies = {
        "form.png": PNG,
        "form-really.exe": EXECUTABLE,
        "huge.png": PNG + b"\x00" * 11 * 1024 * 1024,
    }

    async with file_server(bodies) as server:
        yield server


@pytest.fixture
def chat(settings: Settings, store: DocumentStore, files: TestServer) -> Chat:
    """The files server plays the channel: pasted pictures lie at its service URL."""
    return Chat(settings, store, service_url=str(files.make_url("/")))


def picture(server: TestServer, path: str) -> Attachment:
    return Attachment(content_type="image/png", content_url=str(server.make_url(path)))


async def test_photo_of_signed_form_is_stored_privately_and_awaits_verification(
    chat: Chat, store: DocumentStore, files: TestServer, settings
) -> None:
    await reach_consent(chat)
    await chat.click("Unterschriebenes Formular senden")
    assert chat.said("Bitte senden Sie jetzt das Foto oder den Scan hier im Chat.")
    assert chat.said("Erlaubt sind JPG, PNG oder PDF bis 10 MB.")
    await chat.send(attachments=[picture(files, "/form.png")])
    assert chat.said("Danke! Ihr Formular ist angekommen.")
    assert chat.said("Art: Unterschriebenes Formular (Foto oder Scan)")
    [event] = await ConsentLog(store).events(CLIENT)
    assert event.action == "form_uploaded"
    assert event.form_sha256 == hashlib.sha256(PNG).hexdigest()
    stored = Path(settings.upload_dir) / event.form_ref
    assert stored.read_bytes() == PNG
    assert os.stat(stored).st_mode & 0o777 == 0o600
    assert CLIENT not in event.form_ref  # the folder name is a hash, not the client id
    assert chat.said("Wann passt Ihnen ein Termin?")


async def test_form_sent_directly_on_the_consent_card_is_accepted(
    chat: Chat, store: DocumentStore, files: TestServer
) -> None:
    await reach_consent(chat)
    teams_file = Attachment(
        content_type="application/vnd.microsoft.teams.file.download.info",
        content={"downloadUrl": str(files.make_url("/form.png")), "fileType": "png"},
        name="formular.png",
    )
    await chat.send(attachments=[teams_file])
    assert chat.said("Danke! Ihr Formular ist angekommen.")


REFUSALS = [
    ("/form-really.exe", "wrong_type"),
    ("/huge.png", "too_large"),
    ("/missing.png", "unreadable"),
]


def refusal(problem: str) -> str:
    """What the client is told: the problem, the accepted types and the size limit."""
    text = translator("de")(f"consent.upload.problem.{problem}", mb=10)
    for named in ("JPG, PNG", "PDF", "10 MB"):
        assert named in text
    return text


async def test_wrong_type_and_oversized_files_are_refused_kindly(
    chat: Chat, store: DocumentStore, files: TestServer, settings
) -> None:
    await reach_consent(chat)
    await chat.click("Unterschriebenes Formular senden")
    for path, problem in REFUSALS:
        await chat.send(attachments=[picture(files, path)])
        assert chat.said(refusal(problem))
    assert await ConsentLog(store).events(CLIENT) == []
    assert not any(Path(settings.upload_dir).rglob("*.*"))
    await chat.click("Zurück zur Einwilligung im Chat")
    assert chat.said("Ihr Ja zum Video-Gespräch (Einwilligung)")


@pytest.mark.parametrize(("path", "problem"), REFUSALS)
async def test_a_file_refused_on_the_consent_card_names_types_and_size(
    chat: Chat, store: DocumentStore, files: TestServer, path: str, problem: str
) -> None:
    """Sent straight onto the consent card (no "send a photo" click first): the same answer."""
    await reach_consent(chat)
    await chat.send(attachments=[picture(files, path)])
    assert chat.said(refusal(problem))
    assert await ConsentLog(store).events(CLIENT) == []


async def test_deleting_my_data_removes_the_uploaded_form(
    chat: Chat, store: DocumentStore, files: TestServer, settings
) -> None:
    await reach_consent(chat)
    await chat.send(attachments=[picture(files, "/form.png")])
    assert any(Path(settings.upload_dir).rglob("*.png"))
    await chat.send("Meine Daten löschen")
    await chat.send("ja")
    assert not any(Path(settings.upload_dir).rglob("*.png"))
    [event] = await ConsentLog(store).events(CLIENT)
    assert event.form_sha256 == hashlib.sha256(PNG).hexdigest()
