"""Consent-form storage: the same behaviour in a local folder and in Azure Blob Storage
(Microsoft's Azurite emulator, started by the test)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.blob.aio import BlobServiceClient

from bot.domain.consent_forms import ConsentForms, UploadError, client_folder
from bot.integrations.form_storage import BlobFormStorage, FormStorage, LocalFormStorage
from bot.storage import DocumentStore
from tests.support.azurite import azurite_blob

pytestmark = pytest.mark.node  # Azurite comes from node_modules

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
PDF = b"%PDF-1.7\n" + b"\x02" * 64


@pytest.fixture(scope="module")
def blob_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with azurite_blob(tmp_path_factory.mktemp("azurite")) as connection_string:
        yield connection_string


@pytest.fixture(params=["local", "blob"])
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, blob_connection_string: str
) -> AsyncIterator[FormStorage]:
    if request.param == "local":
        backend: FormStorage = LocalFormStorage(tmp_path / "forms")
    else:
        backend = BlobFormStorage.from_connection_string(
            blob_connection_string,
            f"forms-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:20]}",
        )
    await backend.open()
    await backend.open()  # opening twice is harmless (the container exists)
    yield backend
    await backend.close()


async def test_forms_are_stored_by_hash_and_deleted_per_client(
    storage: FormStorage, store: DocumentStore
) -> None:
    forms = ConsentForms(storage, max_bytes=1024, records=store)
    png = await forms.save("client-a", PNG)
    pdf = await forms.save("client-a", PDF)
    other = await forms.save("client-b", PNG)
    assert png.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (png.content_type, pdf.content_type) == ("image/png", "application/pdf")
    assert png.ref == f"{client_folder('client-a')}/{png.sha256}.png"
    assert "client-a" not in png.ref
    assert await storage.get(png.ref) == PNG
    assert await storage.get(pdf.ref) == PDF

    assert await forms.delete_for("client-a") == 2
    assert await storage.get(png.ref) is None
    assert await storage.get(other.ref) == PNG  # another client's form stays
    assert await forms.entries("client-a") == []
    assert [entry.ref for entry in await forms.entries("client-b")] == [other.ref]
    assert await forms.delete_for("client-a") == 0


async def test_a_form_is_kept_until_its_retention_ends(
    storage: FormStorage, store: DocumentStore
) -> None:
    clock = Clock(datetime(2026, 12, 1, 9, tzinfo=UTC))
    forms = ConsentForms(
        storage,
        max_bytes=1024,
        records=store,
        keep_undecided=timedelta(days=180),
        keep_decided=timedelta(days=30),
        clock=clock,
    )
    decided = await forms.save("client-a", PNG)
    undecided = await forms.save("client-b", PDF)
    clock.now += timedelta(days=10)
    await forms.decided("client-a", decided.sha256)
    clock.now += timedelta(days=5)
    await forms.decided("client-a", decided.sha256)  # a second click keeps the first date
    [entry] = await forms.entries("client-a")
    assert (
        entry.delete_after
        == (datetime(2026, 12, 11, 9, tzinfo=UTC) + timedelta(days=30)).isoformat()
    )

    assert await forms.purge_due(datetime(2027, 1, 10, 8, tzinfo=UTC)) == 0
    assert await storage.get(decided.ref) == PNG
    assert await forms.purge_due(datetime(2027, 1, 10, 9, tzinfo=UTC)) == 1
    assert await storage.get(decided.ref) is None
    assert await forms.entries("client-a") == []
    assert await storage.get(undecided.ref) == PDF  # nobody decided: 180 days after the upload

    assert await forms.purge_due(datetime(2027, 5, 30, 8, tzinfo=UTC)) == 0
    assert await forms.purge_due(datetime(2027, 5, 30, 9, tzinfo=UTC)) == 1
    assert await storage.get(undecided.ref) is None
    assert await forms.entries("client-b") == []
    assert await forms.purge_due(datetime(2028, 1, 1, tzinfo=UTC)) == 0


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_only_real_pictures_and_pdfs_within_the_limit(
    storage: FormStorage, store: DocumentStore
) -> None:
    forms = ConsentForms(storage, max_bytes=100, records=store)
    with pytest.raises(UploadError, match="wrong_type"):
        await forms.save("client-a", b"GIF89a" + b"\x00" * 10)
    with pytest.raises(UploadError, match="too_large"):
        await forms.save("client-a", PNG + b"\x00" * 100)
    assert await forms.delete_for("client-a") == 0


async def test_the_blob_container_is_private(blob_connection_string: str) -> None:
    storage = BlobFormStorage.from_connection_string(blob_connection_string, "private-check")
    await storage.open()
    await storage.close()
    async with BlobServiceClient.from_connection_string(blob_connection_string) as service:
        properties = await service.get_container_client("private-check").get_container_properties()
    assert properties.public_access is None


async def test_the_same_form_sent_again_after_a_decision_waits_for_a_new_one(
    storage: FormStorage, store: DocumentStore
) -> None:
    clock = Clock(datetime(2026, 12, 1, 9, tzinfo=UTC))
    forms = ConsentForms(storage, max_bytes=1024, records=store, clock=clock)
    stored = await forms.save("client-a", PNG)
    await forms.save("client-a", PNG)  # sent twice before anyone decided: one entry, as it was
    [entry] = await forms.entries("client-a")
    assert entry.uploaded_at == datetime(2026, 12, 1, 9, tzinfo=UTC).isoformat()
    await forms.decided("client-a", stored.sha256)
    clock.now += timedelta(days=20)
    await forms.save("client-a", PNG)  # after a rejection, the same photo once more
    [entry] = await forms.entries("client-a")
    assert (entry.decided_at, entry.uploaded_at) == ("", clock.now.isoformat())
    assert entry.delete_after == (clock.now + timedelta(days=180)).isoformat()
    assert await forms.purge_due(datetime(2027, 1, 1, tzinfo=UTC)) == 0  # not the old date
    assert await storage.get(stored.ref) == PNG
