"""botbuilder ``Storage`` on top of a ``DocumentStore``.

Bot state (dialog stack, session) is flattened with jsonpickle — the encoding Microsoft's own
botbuilder storage back ends use — and written with the eTag the state was read with, so a
stale turn is refused instead of overwriting a newer one.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

import jsonpickle
from botbuilder.core import Storage, StoreItem
from botbuilder.core.bot_state import CachedBotState

from bot.storage.documents import DocumentStore

STATE_KIND = "state"
ETAG = "e_tag"
#: enums of ours that state written before bot/ was split into layers holds (issue 9): read
#: as their plain values, which is how state has been written since — it names no class of ours.
#: Once BOT_STATE_TTL_DAYS have passed after that release, no such state is left and this
#: (with ``_plain_enums``) can go.
STORED_ENUMS = frozenset({"bot.techcheck.Outcome"})
_jsonpickle_hash = CachedBotState.compute_hash


def _state_digest(self: CachedBotState, obj: object) -> str:
    """botbuilder flattens the whole state with jsonpickle three times a turn only to see
    whether it changed (about 0.5 ms of a 5 ms turn); a pickle digest answers the same
    question in a fraction of the time. Anything pickle cannot take falls back."""
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return _jsonpickle_hash(self, obj)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


CachedBotState.compute_hash = _state_digest


class DocumentStateStorage(Storage):
    def __init__(self, store: DocumentStore, ttl_seconds: int | None = None) -> None:
        self._store = store
        self._ttl = ttl_seconds

    async def read(self, keys: list[str]) -> dict[str, Any]:
        items: dict[str, Any] = {}
        for key in keys:
            document = await self._store.get(STATE_KIND, key, partition=key)
            if document is None:
                continue
            item = jsonpickle.Unpickler().restore(_plain_enums(document.body))
            _set_etag(item, document.etag)
            items[key] = item
        return items

    async def write(self, changes: dict[str, Any]) -> None:
        for key, item in changes.items():
            etag = _get_etag(item)
            body = jsonpickle.Pickler(make_refs=False).flatten(_without_etag(item))
            if etag in (None, "*"):
                document = await self._store.upsert(
                    STATE_KIND, key, body, partition=key, ttl_seconds=self._ttl
                )
            else:
                document = await self._store.replace(
                    STATE_KIND, key, body, partition=key, etag=etag, ttl_seconds=self._ttl
                )
            _set_etag(item, document.etag)

    async def delete(self, keys: list[str]) -> None:
        for key in keys:
            await self._store.delete(STATE_KIND, key, partition=key)


def _plain_enums(node: Any) -> Any:
    """The stored body with each pickled enum of ours replaced by its value."""
    if isinstance(node, dict):
        reduced = node.get("py/reduce")
        if (
            isinstance(reduced, list)
            and len(reduced) == 2
            and isinstance(reduced[0], dict)
            and reduced[0].get("py/type") in STORED_ENUMS
        ):
            return reduced[1]["py/tuple"][0]
        return {key: _plain_enums(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain_enums(item) for item in node]
    return node


def _get_etag(item: Any) -> str | None:
    if isinstance(item, dict):
        return item.get(ETAG)
    return getattr(item, ETAG, None)


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item[ETAG] = etag
    elif isinstance(item, StoreItem) or hasattr(item, "__dict__"):
        item.e_tag = etag


def _without_etag(item: Any) -> Any:
    if isinstance(item, dict):
        return {name: value for name, value in item.items() if name != ETAG}
    return item
