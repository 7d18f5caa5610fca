"""Photos and scans of signed consent forms: fetched from Teams, checked, kept privately.

Where a file may be fetched from, and whether the bot's token goes along, is ``FetchRules``
(``bot/integrations/attachment_sources.py``).

Only JPEG, PNG and PDF are accepted, recognised by their first bytes (not by the name or the
declared type), and only up to a size limit. Where the files live is a separate concern
(``bot/integrations/form_storage.py``): a private local folder in embedded mode, a private
Azure Blob container in production. The consent event keeps only the reference and the SHA-256.

A file is kept until the counsellor has decided on it and ``keep_decided`` more has passed, or
``keep_undecided`` after the upload if nobody decides. Each file has an entry in the store
(``consent_form``), written before the file, which the daily purge reads (``purge_due``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.record import Record, record_key, utc_now
from bot.integrations.attachment_sources import FetchRules
from bot.integrations.form_storage import FormStorage
from bot.integrations.safe_fetch import (
    Destination,
    FetchFailedError,
    FetchRefusedError,
    TooLargeError,
    fetch,
    origin_of,
    parse_url,
)
from bot.storage.documents import ConflictError, DocumentStore

log = logging.getLogger(__name__)

SIGNATURES = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"%PDF-": ("application/pdf", "pdf"),
}
TEAMS_FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
CONSENT_FORM = "consent_form"


class UploadProblem(StrEnum):
    TOO_LARGE = "too_large"
    WRONG_TYPE = "wrong_type"
    UNREADABLE = "unreadable"


class UploadError(Exception):
    def __init__(self, problem: UploadProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class StoredForm:
    ref: str
    sha256: str
    content_type: str
    size: int


@dataclass
class FormFile(Record):
    """An uploaded form's file (kept outside the store) and until when it is kept."""

    client_id: str
    ref: str
    sha256: str
    delete_after: str
    uploaded_at: str = ""
    decided_at: str = ""


def sniff(data: bytes) -> tuple[str, str] | None:
    for signature, kind in SIGNATURES.items():
        if data.startswith(signature):
            return kind
    return None


def client_folder(client_id: str) -> str:
    """Files are grouped per client under a hash, never under the client id itself."""
    return hashlib.sha256(client_id.encode()).hexdigest()[:32]


TokenSource = Callable[[], Awaitable[str | None]]


class ConsentForms:
    def __init__(
        self,
        storage: FormStorage,
        max_bytes: int,
        rules: FetchRules | None = None,
        timeout_seconds: float = 20.0,
        *,
        records: DocumentStore,
        keep_undecided: timedelta = timedelta(days=180),
        keep_decided: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._storage = storage
        self._max_bytes = max_bytes
        self._rules = rules or FetchRules()
        self._timeout = timeout_seconds
        self._records = records
        self._keep_undecided = keep_undecided
        self._keep_decided = keep_decided
        self._clock = clock

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    async def fetch_from_channel(self, url: str, service_url: str, token: TokenSource) -> bytes:
        """A picture pasted into the chat (``contentUrl``), with the bot's token if the URL is
        the channel's; any other URL is refused before a token is even fetched."""
        try:
            target, channel = parse_url(url), parse_url(service_url)
        except FetchRefusedError as error:
            raise UploadError(UploadProblem.UNREADABLE) from error
        if not self._rules.may_carry_token(target, channel):
            log.info("refused a file outside the channel's service URL")
            raise UploadError(UploadProblem.UNREADABLE)
        destination = Destination(
            allows=lambda _: True,
            token=await token(),
            token_origin=origin_of(target),
            trusted_origin=origin_of(channel),
            allow_private_networks=self._rules.local_mode,
        )
        return await self._fetch(url, destination)

    async def fetch_download(self, url: str) -> bytes:
        """A file from Teams' file card (``downloadUrl``): allowed hosts only, no token."""
        destination = Destination(
            allows=self._rules.is_download_host, allow_private_networks=self._rules.local_mode
        )
        return await self._fetch(url, destination)

    async def _fetch(self, url: str, destination: Destination) -> bytes:
        try:
            return await fetch(
                url, destination, max_bytes=self._max_bytes, timeout_seconds=self._timeout
            )
        except TooLargeError as error:
            raise UploadError(UploadProblem.TOO_LARGE) from error
        except FetchRefusedError as error:
            log.info("refused to fetch a file: %s", error)
            raise UploadError(UploadProblem.UNREADABLE) from error
        except FetchFailedError as error:
            raise UploadError(UploadProblem.UNREADABLE) from error

    async def save(self, client_id: str, data: bytes) -> StoredForm:
        if len(data) > self._max_bytes:
            raise UploadError(UploadProblem.TOO_LARGE)
        kind = sniff(data)
        if kind is None:
            raise UploadError(UploadProblem.WRONG_TYPE)
        content_type, extension = kind
        digest = hashlib.sha256(data).hexdigest()
        ref = f"{client_folder(client_id)}/{digest}.{extension}"
        now = self._clock()
        entry = FormFile(
            client_id, ref, digest, (now + self._keep_undecided).isoformat(), now.isoformat()
        )
        # The entry first: a file the purge cannot find would be kept for ever. The same file
        # sent again after a decision is a new upload, waiting for a new decision.
        key = record_key(client_id, digest)
        while True:
            document = await self._records.get(CONSENT_FORM, key, partition=client_id)
            if document is not None and not FormFile.from_body(document.body).decided_at:
                break
            try:
                await self._records.save(
                    CONSENT_FORM, key, entry.to_body(), partition=client_id, read=document
                )
            except ConflictError:
                continue
            break
        await self._storage.put(ref, data, content_type)
        return StoredForm(ref, digest, content_type, len(data))

    async def decided(self, client_id: str, sha256: str) -> None:
        """A counsellor confirmed or rejected the form: it goes ``keep_decided`` from now."""
        key = record_key(client_id, sha256)
        while True:
            document = await self._records.get(CONSENT_FORM, key, partition=client_id)
            if document is None:
                return
            entry = FormFile.from_body(document.body)
            if entry.decided_at:
                return  # the first decision counts (a second click, another counsellor)
            now = self._clock()
            entry.decided_at = now.isoformat()
            entry.delete_after = (now + self._keep_decided).isoformat()
            try:
                await self._records.save(
                    CONSENT_FORM, key, entry.to_body(), partition=client_id, read=document
                )
            except ConflictError:
                continue
            return

    async def entries(self, client_id: str) -> list[FormFile]:
        documents = await self._records.list_partition(CONSENT_FORM, client_id)
        return [FormFile.from_body(document.body) for document in documents]

    async def purge_due(self, now: datetime) -> int:
        """Delete every file whose time is up, then its entry: how many files went."""
        deleted = 0
        for document in await self._records.list_kind(CONSENT_FORM):
            entry = FormFile.from_body(document.body)
            if datetime.fromisoformat(entry.delete_after) > now:
                continue
            if await self._storage.delete(entry.ref):
                deleted += 1
            await self._records.delete(CONSENT_FORM, document.key, partition=document.partition)
        return deleted

    async def delete_for(self, client_id: str) -> int:
        """Every form of the client, and their entries ("Meine Daten löschen")."""
        deleted = await self._storage.delete_folder(client_folder(client_id))
        for document in await self._records.list_partition(CONSENT_FORM, client_id):
            await self._records.delete(CONSENT_FORM, document.key, partition=client_id)
        return deleted
