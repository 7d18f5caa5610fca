"""Photos and scans of signed consent forms: fetched from Teams, checked, kept privately.

Only JPEG, PNG and PDF are accepted, recognised by their first bytes (not by the name or the
declared type), and only up to a size limit. Files are stored under a folder named by a hash
of the client id, readable by the service user only; the consent event keeps the reference
and the SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import aiohttp

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


class ConsentForms:
    def __init__(self, folder: Path, max_bytes: int, timeout_seconds: float = 20.0) -> None:
        self._folder = folder
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

    def save(self, client_id: str, data: bytes) -> StoredForm:
        if len(data) > self._max_bytes:
            raise UploadError(UploadProblem.TOO_LARGE)
        kind = sniff(data)
        if kind is None:
            raise UploadError(UploadProblem.WRONG_TYPE)
        content_type, extension = kind
        digest = hashlib.sha256(data).hexdigest()
        folder = self._client_folder(client_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{digest}.{extension}"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return StoredForm(f"{folder.name}/{path.name}", digest, content_type, len(data))

    def delete_for(self, client_id: str) -> int:
        folder = self._client_folder(client_id)
        if not folder.exists():
            return 0
        count = sum(1 for _ in folder.iterdir())
        shutil.rmtree(folder)
        return count

    def _client_folder(self, client_id: str) -> Path:
        return self._folder / hashlib.sha256(client_id.encode()).hexdigest()[:32]
