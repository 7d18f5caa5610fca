"""Storage: one small document-store interface, an embedded SQLite implementation and an Azure
Cosmos DB one. It knows no Bot Framework SDK: the botbuilder ``Storage`` adapter built on it is
``bot/hosting/state_storage.py``, at the SDK's edge."""

from bot.storage.documents import (
    ConflictError,
    Document,
    DocumentStore,
    StoreUnavailableError,
)
from bot.storage.factory import open_document_store

__all__ = [
    "ConflictError",
    "Document",
    "DocumentStore",
    "StoreUnavailableError",
    "open_document_store",
]
