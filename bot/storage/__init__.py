"""Storage: one small document-store interface, an embedded SQLite implementation, and the
botbuilder ``Storage`` adapter built on it. A Cosmos DB implementation fills the same interface."""

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
