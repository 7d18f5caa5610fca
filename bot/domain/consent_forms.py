"""Photos and scans of signed consent forms: fetched from Teams, checked, kept privately.

Where a file may be fetched from, and whether the bot's token goes along, is ``FetchRules``
(``bot/integrations/attachment_sources.py``).

Only JPEG, PNG and PDF are accepted, recognised by their first bytes (not by the name or the
declared type), and only up to a size limit. Where the files live is a separate concern
(``bot/integrations/form_storage.py``): a private local folder in embedded mode, a private
Azure Blob container in production. The consent event keeps only the reference and the SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

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

log = logging.getLogger(__name__)

SIGNATURES = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"%PDF-": ("application/pdf", "pdf"),
}
TEAMS_FILE_INFO = "application/vnd.microsoft.teams.file.download.info"


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
    ) -> None:
        self._storage = storage
        self._max_bytes = max_bytes
        self._rules = rules or FetchRules()
        self._timeout = timeout_seconds

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
        await self._storage.put(ref, data, content_type)
        return StoredForm(ref, digest, content_type, len(data))

    async def delete_for(self, client_id: str) -> int:
        return await self._storage.delete_folder(client_folder(client_id))
