"""Where uploaded consent forms live: a private folder, or a private Azure Blob container.

Both keep files under ``<hashed client>/<sha256>.<ext>``; deleting a client's folder removes
every form they sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path
from typing import Protocol

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobServiceClient

from bot.storage import StoreUnavailableError
from bot.storage.private_files import ensure_private_folder, write_private_file


class FormStorage(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, ref: str, data: bytes, content_type: str) -> None: ...

    async def get(self, ref: str) -> bytes | None: ...

    async def delete(self, ref: str) -> bool: ...

    async def delete_folder(self, folder: str) -> int: ...


class LocalFormStorage:
    """Embedded mode: files readable by the service user only (folders 0700, files 0600)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    async def open(self) -> None:
        try:
            await asyncio.to_thread(ensure_private_folder, self._root)
        except OSError as error:
            raise StoreUnavailableError(
                f"cannot use the upload folder {self._root} ({error.strerror})"
            ) from error

    async def close(self) -> None:
        return None

    async def put(self, ref: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(write_private_file, self._root / ref, data)

    async def get(self, ref: str) -> bytes | None:
        path = self._root / ref
        return await asyncio.to_thread(path.read_bytes) if path.is_file() else None

    async def delete(self, ref: str) -> bool:
        path = self._root / ref
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        return True

    async def delete_folder(self, folder: str) -> int:
        return await asyncio.to_thread(self._remove, self._root / folder)

    @staticmethod
    def _remove(folder: Path) -> int:
        if not folder.is_dir():
            return 0
        count = sum(1 for _ in folder.iterdir())
        shutil.rmtree(folder)
        return count


class BlobFormStorage:
    """Production: a private container (no anonymous access) in Azure Blob Storage."""

    def __init__(self, service: BlobServiceClient, container: str) -> None:
        self._service = service
        self._container = service.get_container_client(container)

    @classmethod
    def from_connection_string(cls, connection_string: str, container: str) -> BlobFormStorage:
        return cls(BlobServiceClient.from_connection_string(connection_string), container)

    @classmethod
    def from_account_url(cls, account_url: str, container: str) -> BlobFormStorage:
        """Signs in with the service's Entra identity (managed identity in Azure)."""
        from azure.identity.aio import DefaultAzureCredential

        return cls(BlobServiceClient(account_url, credential=DefaultAzureCredential()), container)

    async def open(self) -> None:
        try:
            with contextlib.suppress(ResourceExistsError):
                await self._container.create_container()  # private: no public access level
        except AzureError as error:
            raise StoreUnavailableError(
                f"the consent-form container cannot be used ({type(error).__name__})"
            ) from error

    async def close(self) -> None:
        await self._service.close()

    async def put(self, ref: str, data: bytes, content_type: str) -> None:
        await self._container.upload_blob(
            ref, data, overwrite=True, content_settings=ContentSettings(content_type=content_type)
        )

    async def get(self, ref: str) -> bytes | None:
        blob = self._container.get_blob_client(ref)
        if not await blob.exists():
            return None
        download = await blob.download_blob()
        return await download.readall()

    async def delete(self, ref: str) -> bool:
        try:
            await self._container.delete_blob(ref)
        except ResourceNotFoundError:
            return False
        return True

    async def delete_folder(self, folder: str) -> int:
        names = [
            blob.name async for blob in self._container.list_blobs(name_starts_with=f"{folder}/")
        ]
        for name in names:
            await self._container.delete_blob(name)
        return len(names)
