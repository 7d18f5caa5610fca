"""Azure Cosmos DB (NoSQL API) storage for production.

Layout: one database (``COSMOS_DATABASE``) with two containers, both partitioned by ``/pk``:

``state``
    botbuilder conversation state (kind ``state``); the partition is the state key. Items carry
    their own ``ttl`` (``BOT_STATE_TTL_DAYS``), so Cosmos DB deletes idle conversations itself.
``records``
    every other kind (profiles, handoffs, consent events, counters); the partition is the client
    (or what the caller names). Items without ``ttl`` never expire. A consent event is never
    rewritten; only its expiry moves later (``extend_expiry``: its retention period runs from
    the last event or appointment it covers), and the same ``ttl`` then removes it.

Both containers have TTL switched on with ``default_ttl=-1`` (an item expires only if it says
so). An item looks like::

    {"id": "<kind>|<urlsafe base64 of key>", "pk": partition, "kind": kind, "key": key,
     "body": {...}, "createdAt": <µs since epoch>, "expiresAt": <epoch s> | null, "ttl": <s>}

Keys contain ``/`` and ``:``, which an id may not, hence the encoding (a key too long for an
id is hashed instead; the key itself is always kept in ``key``). Cosmos DB only *eventually*
removes expired items (and local emulators not at all), so every read path also checks
``expiresAt`` exactly as the SQLite store does: an expired item is invisible, its key is free
for ``create``, and ``purge_expired`` deletes what is left.

Concurrency uses the item's ``_etag``: ``replace`` sends it with ``If-Match``; a stale one is
a ``ConflictError``. The service being unreachable, overloaded or refusing our credentials is a
``StoreUnavailableError`` after a bounded wait (see ``CLIENT_OPTIONS``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError
from azure.cosmos import PartitionKey
from azure.cosmos.aio import ContainerProxy, CosmosClient, DatabaseProxy
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosClientTimeoutError,
    CosmosHttpResponseError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)

from bot.storage.cosmos_config import CosmosConfig
from bot.storage.documents import (
    Clock,
    ConflictError,
    Document,
    DocumentStore,
    JsonObject,
    StoreUnavailableError,
)

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

    from bot.config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

STATE_KIND = "state"
STATE_CONTAINER = "state"
RECORDS_CONTAINER = "records"
CONTAINERS = (STATE_CONTAINER, RECORDS_CONTAINER)
PARTITION_KEY_PATH = "/pk"
#: ids are kept within 255 characters (the conservative Cosmos DB limit); longer ones are hashed
MAX_ID_LENGTH = 255

# Timeouts and retries. A Teams turn must be answered within 15 s, and a turn that cannot reach
# the store should fail fast with an apology rather than hang; a point operation normally takes
# a few milliseconds. Measured with azure-cosmos 4.17.1 against a stopped (refused) and a frozen
# (SIGSTOP) server:
#   refused connection → ServiceRequestError after ~1 s (one retry after the 1 s fixed backoff),
#   frozen server      → ServiceResponseTimeoutError after ~8 s (2 attempts × read_timeout 4 s).
# Throttling (429) is retried by the SDK's own policy with its default number of attempts (9),
# honouring the service's retry-after, but waiting at most 5 s in total (the default is 30 s).
CLIENT_OPTIONS: dict[str, Any] = {
    "connection_timeout": 2,  # s to establish a connection (in-region it takes milliseconds)
    "read_timeout": 4,  # s to wait for an answer on an open connection
    "retry_total": 3,  # at most 3 retries of any kind per request …
    "retry_connect": 2,  # … a refused/reset connection is retried once (measured; 1 s backoff)
    # … and a read timeout once. Also for writes, which is safe here: a repeated create that had
    # landed meets 409 (= "exists", like a repeated submit), a repeated replace meets 412
    # (= ConflictError, and the turn runs again on fresh state).
    "retry_read": 1,
    "retry_backoff_max": 2,  # s, longest single backoff between connection retries
    "retry_throttle_total": 9,  # 429: the SDK default number of attempts …
    "retry_throttle_backoff_max": 5,  # … but at most 5 s of cumulative waiting
}
# The aio client does not enforce its ``timeout`` across its retry policies (measured: 13 s with
# timeout=6), so every store call also runs under a hard asyncio timeout.
OPERATION_TIMEOUT = 10.0
#: opening (creating the database and containers: up to 6 requests) and the startup purge
SLOW_OPERATION_TIMEOUT = 30.0
#: statuses that mean "the service cannot serve us now", not "your request was wrong"
UNAVAILABLE_STATUSES = frozenset({401, 403, 408, 429, 449, 500, 502, 503, 504})

LIVE = "(NOT IS_DEFINED(c.expiresAt) OR IS_NULL(c.expiresAt) OR c.expiresAt > @now)"
LIST_QUERY = f"SELECT * FROM c WHERE c.pk = @pk AND c.kind = @kind AND {LIVE}"
KIND_QUERY = f"SELECT * FROM c WHERE c.kind = @kind AND {LIVE}"
EXPIRED_QUERY = (
    "SELECT c.id, c.pk, c.kind, c._etag FROM c WHERE IS_NUMBER(c.expiresAt) AND c.expiresAt <= @now"
)


class CosmosDocumentStore(DocumentStore):
    def __init__(self, config: CosmosConfig, *, clock: Clock = time.time) -> None:
        self._config = config
        self._clock = clock
        self._client: CosmosClient | None = None
        self._credential: AsyncTokenCredential | None = None
        self._database: DatabaseProxy | None = None
        self._containers: dict[str, ContainerProxy] = {}
        self._ensure_lock = asyncio.Lock()

    @classmethod
    def from_url(
        cls, url: str, settings: Settings, *, clock: Clock = time.time
    ) -> CosmosDocumentStore:
        return cls(CosmosConfig.from_url(url, settings), clock=clock)

    @property
    def config(self) -> CosmosConfig:
        return self._config

    # --- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        if self._client is not None:
            return
        config = self._config
        options: dict[str, Any] = {
            **CLIENT_OPTIONS,
            # One endpoint, no geo-replication to discover (and discovery needs https).
            "enable_endpoint_discovery": False,
            "connection_verify": config.verify_tls,
        }
        if config.local_server:
            options["headers"] = {"x-ms-documentdb-query-enablecrosspartition": "true"}
        credential: str | AsyncTokenCredential
        if config.key is not None:
            credential = config.key
        else:
            from azure.identity.aio import DefaultAzureCredential

            credential = self._credential = DefaultAzureCredential()
        self._client = CosmosClient(config.endpoint, credential=credential, **options)
        try:
            if config.create_if_missing:
                async with self._guard("open", SLOW_OPERATION_TIMEOUT):
                    await self._ensure_containers()
            else:
                database = self._client.get_database_client(config.database)
                self._database = database
                self._containers = {
                    name: database.get_container_client(name) for name in CONTAINERS
                }
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        client, credential = self._client, self._credential
        self._client = self._credential = self._database = None
        self._containers = {}
        if client is not None:
            await client.close()
        if credential is not None:
            await credential.close()

    async def ping(self) -> None:
        database = self._require_database()
        async with self._guard("ping"):
            try:
                await database.read()
            except CosmosResourceNotFoundError as error:
                await self._recreate(error)

    # --- documents -------------------------------------------------------------------------

    async def get(self, kind: str, key: str, *, partition: str) -> Document | None:
        container = self._container(kind)
        async with self._guard("get"):
            item = await _read(container, _item_id(kind, key), partition)
        if item is None or not _live(item, self._clock()):
            return None
        return _document(item)

    async def create(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        item_id = _item_id(kind, key)
        now = self._clock()
        item = _new_item(
            item_id, kind, key, partition, body, ttl_seconds, _creation_order.next(), now
        )
        async with self._guard("create"):
            for _ in range(3):
                try:
                    created = await self._recovering(
                        _container_name(kind), lambda: self._container(kind).create_item(item)
                    )
                    return _document(created)
                except CosmosResourceExistsError as exists:
                    container = self._container(kind)
                    current = await _read(container, item_id, partition)
                    if current is None:
                        continue  # removed since: try again
                    if _live(current, self._clock()) or kind in self.APPEND_ONLY_KINDS:
                        raise ConflictError(f"{kind} already exists") from exists
                    # An expired leftover counts as absent: take its place, unless it changed.
                    try:
                        replaced = await container.replace_item(
                            item_id,
                            item,
                            etag=current["_etag"],
                            match_condition=MatchConditions.IfNotModified,
                        )
                    except (CosmosAccessConditionFailedError, CosmosResourceNotFoundError):
                        continue
                    return _document(replaced)
        raise ConflictError(f"{kind} was created concurrently")

    async def replace(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        etag: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        self.refuse_append_only(kind)
        container = self._container(kind)
        item_id = _item_id(kind, key)
        async with self._guard("replace"):
            # Read first: an expired item must not come back to life, and the replacement keeps
            # the creation time that orders list_partition.
            current = await _read(container, item_id, partition)
            now = self._clock()
            if current is None or not _live(current, now) or current["_etag"] != etag:
                raise ConflictError(f"{kind} changed or vanished since it was read")
            item = _new_item(
                item_id, kind, key, partition, body, ttl_seconds, current.get("createdAt", 0), now
            )
            try:
                replaced = await container.replace_item(
                    item_id, item, etag=etag, match_condition=MatchConditions.IfNotModified
                )
            except (CosmosAccessConditionFailedError, CosmosResourceNotFoundError) as error:
                raise ConflictError(f"{kind} changed or vanished since it was read") from error
        return _document(replaced)

    async def upsert(
        self,
        kind: str,
        key: str,
        body: JsonObject,
        *,
        partition: str,
        ttl_seconds: int | None = None,
    ) -> Document:
        self.refuse_append_only(kind)
        container = self._container(kind)
        item_id = _item_id(kind, key)
        async with self._guard("upsert"):
            current = await _read(container, item_id, partition)
            now = self._clock()
            if current is not None and _live(current, now):
                created_at = current.get("createdAt", 0)  # keeps its place in list_partition
            else:
                created_at = _creation_order.next()
            item = _new_item(item_id, kind, key, partition, body, ttl_seconds, created_at, now)
            written = await self._recovering(
                _container_name(kind), lambda: self._container(kind).upsert_item(item)
            )
        return _document(written)

    async def delete(self, kind: str, key: str, *, partition: str) -> bool:
        self.refuse_append_only(kind)
        container = self._container(kind)
        async with self._guard("delete"):
            try:
                await container.delete_item(_item_id(kind, key), partition_key=partition)
            except CosmosResourceNotFoundError:
                return False
        return True

    async def list_partition(self, kind: str, partition: str) -> list[Document]:
        return [_document(item) for item in await self._partition_items(kind, partition)]

    async def _partition_items(self, kind: str, partition: str) -> list[dict[str, Any]]:
        parameters: list[dict[str, object]] = [
            {"name": "@pk", "value": partition},
            {"name": "@kind", "value": kind},
            {"name": "@now", "value": self._clock()},
        ]

        async def query() -> list[dict[str, Any]]:
            # ``partition_key`` makes this a single-partition query in Cosmos DB; ``c.pk = @pk``
            # keeps it correct where it is ignored (local servers).
            pages = self._container(kind).query_items(
                LIST_QUERY, parameters=parameters, partition_key=partition
            )
            return [item async for item in pages]

        async with self._guard("list"):
            items = await self._recovering(_container_name(kind), query)
        # Sorted here rather than with ORDER BY: partitions are small (one client, one
        # counsellor, one hour of reminders), and a two-field ORDER BY needs a composite index.
        items.sort(key=lambda item: (item.get("createdAt", 0), item["id"]))
        return items

    async def extend_expiry(self, kind: str, partition: str, ttl_seconds: int) -> int:
        container = self._container(kind)
        extended = 0
        for item in await self._partition_items(kind, partition):
            for _ in range(3):  # an item changed meanwhile (another extension): read it again
                now = self._clock()
                until = now + ttl_seconds
                expires_at = item.get("expiresAt")
                if expires_at is not None and expires_at >= until:
                    break
                later = {**item, "expiresAt": until, "ttl": max(1, int(ttl_seconds))}
                async with self._guard("extend"):
                    try:
                        await container.replace_item(
                            item["id"],
                            later,
                            etag=item["_etag"],
                            match_condition=MatchConditions.IfNotModified,
                        )
                    except CosmosAccessConditionFailedError:
                        current = await _read(container, item["id"], partition)
                        if current is None:
                            break
                        item = current
                        continue
                    except CosmosResourceNotFoundError:
                        break
                extended += 1
                break
        return extended

    async def list_kind(self, kind: str) -> list[Document]:
        parameters: list[dict[str, object]] = [
            {"name": "@kind", "value": kind},
            {"name": "@now", "value": self._clock()},
        ]

        async def query() -> list[dict[str, Any]]:
            # no partition key: a cross-partition query, for reports only
            pages = self._container(kind).query_items(KIND_QUERY, parameters=parameters)
            return [item async for item in pages]

        async with self._guard("list", SLOW_OPERATION_TIMEOUT):
            items = await self._recovering(_container_name(kind), query)
        items.sort(key=lambda item: (item.get("createdAt", 0), item["pk"], item["id"]))
        return [_document(item) for item in items]

    async def purge_expired(self) -> int:
        self._require_database()
        parameters = [{"name": "@now", "value": self._clock()}]
        purged = 0
        for name in CONTAINERS:

            async def query(name: str = name) -> list[dict[str, Any]]:
                pages = self._containers[name].query_items(EXPIRED_QUERY, parameters=parameters)
                return [item async for item in pages]

            async with self._guard("purge", SLOW_OPERATION_TIMEOUT):
                expired = await self._recovering(name, query)
            for item in expired:
                async with self._guard("purge"):
                    try:
                        await self._containers[name].delete_item(
                            item["id"],
                            partition_key=item["pk"],
                            etag=item["_etag"],
                            match_condition=MatchConditions.IfNotModified,
                        )
                    except (CosmosResourceNotFoundError, CosmosAccessConditionFailedError):
                        continue  # gone already, or re-created since the query
                purged += 1
        return purged

    # --- helpers ---------------------------------------------------------------------------

    def _require_database(self) -> DatabaseProxy:
        if self._database is None:
            raise StoreUnavailableError("storage is not open")
        return self._database

    def _container(self, kind: str) -> ContainerProxy:
        self._require_database()
        return self._containers[_container_name(kind)]

    async def _ensure_containers(self) -> None:
        """Create the database and containers unless they exist (idempotent, race-safe)."""
        client = self._client
        if client is None:
            raise StoreUnavailableError("storage is not open")
        async with self._ensure_lock:
            for attempt in range(2):
                try:
                    database = await client.create_database_if_not_exists(self._config.database)
                    containers: dict[str, ContainerProxy] = {}
                    for name in CONTAINERS:
                        container, properties = await database.create_container_if_not_exists(
                            name,
                            PartitionKey(path=PARTITION_KEY_PATH),
                            default_ttl=-1,
                            return_properties=True,
                        )
                        if properties.get("defaultTtl") is None:
                            log.warning(
                                "Cosmos DB container %r has TTL switched off: expired documents"
                                " are hidden and removed only by purge_expired",
                                name,
                            )
                        containers[name] = container
                except CosmosResourceExistsError:
                    if attempt:  # another instance created it between our read and create
                        raise
                    continue
                self._database, self._containers = database, containers
                return

    async def _recreate(self, error: CosmosHttpResponseError) -> None:
        """The database or a container is gone: create them again, or report it."""
        if not self._config.create_if_missing:
            raise StoreUnavailableError(
                f"Cosmos DB database {self._config.database!r} or a container is missing"
                " (COSMOS_CREATE_IF_MISSING=false)"
            ) from error
        log.warning(
            "Cosmos DB database %r or a container is missing; creating it again",
            self._config.database,
        )
        await self._ensure_containers()

    async def _recovering(self, container: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run a create, upsert or query. Cosmos DB answers 404 there when the container (or
        the database) is missing: (re)create it and try once more. A 500 leads to the same
        check (local emulators answer 500 for a write into a missing database)."""
        try:
            return await operation()
        except CosmosResourceNotFoundError as error:
            await self._recreate(error)
        except CosmosHttpResponseError as error:
            if error.status_code != 500 or not await self._is_missing(container):
                raise
            await self._recreate(error)
        return await operation()

    async def _is_missing(self, container: str) -> bool:
        try:
            await self._containers[container].read()
        except CosmosResourceNotFoundError:
            return True
        return False

    @asynccontextmanager
    async def _guard(self, what: str, seconds: float | None = None) -> AsyncIterator[None]:
        """Bound the wait and turn "the service is not there" into ``StoreUnavailableError``."""
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT if seconds is None else seconds):
                yield
        except TimeoutError as error:
            raise StoreUnavailableError(f"Cosmos DB did not answer ({what}) in time") from error
        except (
            ServiceRequestError,
            ServiceResponseError,
            CosmosClientTimeoutError,
            aiohttp.ClientError,
            OSError,
        ) as error:
            raise StoreUnavailableError(
                f"Cosmos DB unreachable ({what}): {type(error).__name__}"
            ) from error
        except CosmosHttpResponseError as error:
            if error.status_code in UNAVAILABLE_STATUSES:
                raise StoreUnavailableError(
                    f"Cosmos DB unavailable ({what}): HTTP {error.status_code}"
                ) from error
            raise
        except AzureError as error:  # e.g. the Entra credential cannot get a token
            raise StoreUnavailableError(
                f"Cosmos DB unavailable ({what}): {type(error).__name__}"
            ) from error


class _MonotonicClock:
    """Microseconds since the epoch, strictly increasing within the process (so that documents
    created in a burst keep their order), and exact as a JSON number (< 2**53)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(time.time_ns() // 1000, self._last + 1)
        return self._last


_creation_order = _MonotonicClock()


def _container_name(kind: str) -> str:
    return STATE_CONTAINER if kind == STATE_KIND else RECORDS_CONTAINER


def _item_id(kind: str, key: str) -> str:
    encoded = base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
    item_id = f"{kind}|{encoded}"
    if len(item_id) <= MAX_ID_LENGTH:
        return item_id
    # "~" is not in the urlsafe alphabet, so a hashed id never equals an encoded one.
    return f"{kind}~{hashlib.sha256(key.encode()).hexdigest()}"


def _new_item(
    item_id: str,
    kind: str,
    key: str,
    partition: str,
    body: JsonObject,
    ttl_seconds: int | None,
    created_at: int,
    now: float,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "pk": partition,
        "kind": kind,
        "key": key,
        "body": body,
        "createdAt": created_at,
        "expiresAt": None,
    }
    if ttl_seconds is not None:
        item["expiresAt"] = now + ttl_seconds
        # Cosmos DB wants a whole number ≥ 1; a ttl ≤ 0 is already expired by expiresAt.
        item["ttl"] = max(1, int(ttl_seconds))
    return item


async def _read(container: ContainerProxy, item_id: str, partition: str) -> dict[str, Any] | None:
    try:
        return await container.read_item(item_id, partition_key=partition)
    except CosmosResourceNotFoundError:
        return None


def _live(item: dict[str, Any], now: float) -> bool:
    expires_at = item.get("expiresAt")
    return expires_at is None or expires_at > now


def _document(item: dict[str, Any]) -> Document:
    return Document(
        item["kind"], item["key"], item["pk"], item["body"], item["_etag"], item.get("expiresAt")
    )
