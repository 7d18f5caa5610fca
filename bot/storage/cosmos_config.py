"""Where Cosmos DB is and how to reach it, read from ``BOT_STORAGE`` and the ``COSMOS_*``
settings — without importing the Azure SDK, so that choosing a back end stays cheap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.config import ConfigurationError, is_loopback

if TYPE_CHECKING:
    from bot.config import Settings

SCHEMES = frozenset({"cosmos", "cosmos+https", "cosmos+http"})

#: The Cosmos DB Emulator's published account key (documented by Microsoft, not a secret). Used
#: only for a plain-http loopback endpoint when no key is configured.
EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)


@dataclass(frozen=True, slots=True)
class CosmosConfig:
    endpoint: str
    database: str
    key: str | None = None  # None: Entra ID (DefaultAzureCredential)
    create_if_missing: bool = True
    verify_tls: bool = True
    #: local servers only: works around a point read of a missing item answering 500
    local_server: bool = False

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> CosmosConfig:
        """``cosmos://`` (endpoint from ``COSMOS_ENDPOINT``), ``cosmos://host[:port]`` (https),
        ``cosmos+https://host[:port]``, ``cosmos+http://127.0.0.1:8081`` (a local emulator);
        an optional path names the database (``cosmos+http://127.0.0.1:8081/testdb``)."""
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ConfigurationError(f"BOT_STORAGE={url!r} is not a cosmos:// URL")
        if parts.username or parts.password:
            raise ConfigurationError(
                "BOT_STORAGE must not contain credentials; put the account key in COSMOS_KEY."
            )
        if parts.query or parts.fragment:
            raise ConfigurationError(f"BOT_STORAGE={url!r}: query strings are not supported")
        if parts.netloc:
            scheme = "http" if parts.scheme == "cosmos+http" else "https"
            endpoint = f"{scheme}://{parts.netloc}/"
        elif parts.scheme != "cosmos":
            raise ConfigurationError(f"BOT_STORAGE={url!r} needs a host (and port)")
        elif settings.cosmos_endpoint.strip():
            endpoint = settings.cosmos_endpoint.strip()
        else:
            raise ConfigurationError(
                "BOT_STORAGE=cosmos:// needs COSMOS_ENDPOINT "
                "(https://<account>.documents.azure.com:443/)."
            )
        database = parts.path.strip("/") or settings.cosmos_database
        if any(char in database for char in "/\\?#"):
            raise ConfigurationError(f"Cosmos DB database name {database!r} is not valid")

        endpoint_parts = urlsplit(endpoint)
        host = endpoint_parts.hostname or ""
        if endpoint_parts.scheme not in ("http", "https") or not host:
            raise ConfigurationError(f"Cosmos DB endpoint {endpoint!r} is not an http(s) URL")
        plain_http = endpoint_parts.scheme == "http"
        if plain_http and not is_loopback(host) and not settings.cosmos_allow_insecure:
            raise ConfigurationError(
                f"Cosmos DB endpoint {endpoint!r} uses plain http to a host that is not loopback;"
                " use https (or COSMOS_ALLOW_INSECURE=true for a test emulator)."
            )
        key = settings.cosmos_key.get_secret_value().strip() or None
        if key is None and plain_http:
            if not is_loopback(host):
                raise ConfigurationError("A plain-http Cosmos DB endpoint needs COSMOS_KEY.")
            key = EMULATOR_KEY  # Entra tokens are never sent over plain http
        return cls(
            endpoint=endpoint,
            database=database,
            key=key,
            create_if_missing=settings.cosmos_create_if_missing,
            verify_tls=not (plain_http or settings.cosmos_allow_insecure),
            local_server=plain_http or settings.cosmos_allow_insecure,
        )
