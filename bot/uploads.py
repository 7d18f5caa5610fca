"""Photos and scans of signed consent forms: fetched from Teams, checked, kept privately.

Only JPEG, PNG and PDF are accepted, recognised by their first bytes (not by the name or the
declared type), and only up to a size limit. Where the files live is a separate concern
(``bot/form_storage.py``): a private local folder in embedded mode, a private Azure Blob
container in production. The consent event keeps only the reference and the SHA-256.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

import aiohttp

from bot.form_storage import FormStorage

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


class ConsentForms:
    def __init__(self, storage: FormStorage, max_bytes: int, timeout_seconds: float = 20.0) -> None:
        self._storage = storage
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    async def fetch(self, url: str, access_token: str | None = None) -> bytes:
        """Download with a hard size cap; the first bytes past the cap abort the transfer."""
        if not url.lower().startswith(("https://", "http://")):
            raise UploadError(UploadProblem.UNREADABLE)
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.get(url, headers=headers, max_redirects=3) as response,
            ):
                if response.status != 200:
                    raise UploadError(UploadProblem.UNREADABLE)
                if (response.content_length or 0) > self._max_bytes:
                    raise UploadError(UploadProblem.TOO_LARGE)
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data.extend(chunk)
                    if len(data) > self._max_bytes:
                        raise UploadError(UploadProblem.TOO_LARGE)
                return bytes(data)
        except (aiohttp.ClientError, TimeoutError) as error:
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
