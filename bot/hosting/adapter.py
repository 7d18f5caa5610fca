"""The Bot Framework adapter, with outbound clients reused across turns.

The SDK builds a new ``ConnectorClient`` (and a ``TokenApiClient``) for every turn, and each
build costs milliseconds (msrest's retry policy set-up). Wrapping the authentication object
lets the adapter reuse one client per app id, service URL and audience instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections import OrderedDict
from datetime import datetime, timedelta
from types import SimpleNamespace

import jwt
import requests
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import ActivityTypes
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.auth.jwt_token_extractor import _OpenIdConfig, _OpenIdMetadata
from jwt.algorithms import RSAAlgorithm

from bot.config import Settings
from bot.hosting.outbound_http import SharedSession, use_shared_session
from bot.hosting.turn_telemetry import note_error
from bot.i18n import match_locale, translator
from dialogs.session import SESSION_KEY

log = logging.getLogger(__name__)
MAX_CACHED_CLIENTS = 256
#: the SDK's adapter type, named here so that the composition root needs no SDK import
ChannelAdapter = BotAdapter


class _ClientCache:
    def __init__(self, size: int = MAX_CACHED_CLIENTS) -> None:
        self._clients: OrderedDict[tuple[str, ...], ConnectorClient] = OrderedDict()
        self._size = size

    def get(self, key: tuple[str, ...]) -> ConnectorClient | None:
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
        return client

    def put(self, key: tuple[str, ...], client: ConnectorClient) -> None:
        self._clients[key] = client
        if len(self._clients) > self._size:
            self._clients.popitem(last=False)


class _CachingConnectorFactory(ConnectorFactory):
    def __init__(
        self, inner: ConnectorFactory, app_id: str, cache: _ClientCache, session: SharedSession
    ) -> None:
        self._inner = inner
        self._app_id = app_id
        self._cache = cache
        self._session = session

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self._app_id, service_url, audience or "")
        client = self._cache.get(key)
        if client is None:
            client = use_shared_session(
                await self._inner.create(service_url, audience), self._session
            )
            self._cache.put(key, client)
        return client


class PooledBotFrameworkAuthentication(BotFrameworkAuthentication):
    """Delegates everything; hands out cached outbound clients."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._connectors = _ClientCache()
        self.session = SharedSession()
        self._token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(self, activity, auth_header: str) -> AuthenticateRequestResult:
        if auth_header.strip():
            refuse_unexpected_token(auth_header)
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            app_id = _app_id(result.claims_identity)
            result.connector_factory = _CachingConnectorFactory(
                result.connector_factory, app_id, self._connectors, self.session
            )
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachingConnectorFactory(
            self._inner.create_connector_factory(claims_identity),
            _app_id(claims_identity),
            self._connectors,
            self.session,
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = _app_id(claims_identity)
        client = self._token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[app_id] = client
        return client

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


class TokenRefusedError(PermissionError):
    """The bearer token is refused before any network I/O."""


#: what Microsoft's channels sign with; the SDK verifies with RS256 only, too
ALLOWED_TOKEN_ALGORITHMS = frozenset({"RS256"})
#: who issues the tokens of requests from a channel (Teams, Direct Line) to the bot. The SDK
#: also takes Emulator/Entra-issued tokens, on a path that checks neither the service URL nor
#: the audience — a token meant for something else would make the bot reply (and send its
#: own token) wherever the request's serviceUrl points.
CHANNEL_TOKEN_ISSUERS = frozenset({"https://api.botframework.com"})
MAX_TOKEN_CHARS = 16 * 1024


def refuse_unexpected_token(auth_header: str) -> None:
    """A token that cannot be one of the channel's is refused here, before the SDK would fetch
    Microsoft's signing keys for it (``alg=none`` or HS256 claiming Microsoft's issuer used
    to make the bot call out and answer 503), and before the SDK would accept an Emulator or
    Entra ID token (which it checks far less)."""
    scheme, _, token = auth_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenRefusedError("not a bearer token")
    try:
        unverified = jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise TokenRefusedError("not a JWT") from error
    header, claims = unverified["header"], unverified["payload"]
    if header.get("alg") not in ALLOWED_TOKEN_ALGORITHMS:
        raise TokenRefusedError("signing algorithm not allowed")
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id or len(key_id) > 256:
        raise TokenRefusedError("no key id")
    if claims.get("iss") not in CHANNEL_TOKEN_ISSUERS:
        raise TokenRefusedError("not issued for a channel")


def _app_id(identity: ClaimsIdentity | None) -> str:
    if identity is None:
        return ""
    claims = identity.claims or {}
    return str(claims.get("aud") or claims.get("appid") or claims.get("azp") or "")


class SigningKeysUnavailableError(ConnectionError):
    """Microsoft's token signing keys could not be fetched; tokens cannot be checked now."""


KEY_FETCH_TIMEOUT_SECONDS = 10
KEY_FETCH_RETRY_AFTER = timedelta(seconds=60)


async def _refresh_keys_off_the_event_loop(metadata: _OpenIdMetadata) -> None:
    """Replaces the SDK's refresh, which calls ``requests.get`` without a timeout on the event
    loop (stalling every conversation) and retries on every request after a failure."""
    failed_at = getattr(metadata, "failed_at", None)
    if failed_at is not None and datetime.now() - failed_at < KEY_FETCH_RETRY_AFTER:
        raise SigningKeysUnavailableError("signing keys unavailable; retrying later")
    try:
        metadata.keys = await asyncio.to_thread(_fetch_signing_keys, metadata.url)
    except (requests.RequestException, KeyError, ValueError) as error:
        metadata.failed_at = datetime.now()
        raise SigningKeysUnavailableError("signing keys unavailable") from error
    metadata.failed_at = None
    metadata.last_updated = datetime.now()


def _fetch_signing_keys(url: str) -> list[dict]:
    configuration = requests.get(url, timeout=KEY_FETCH_TIMEOUT_SECONDS)
    configuration.raise_for_status()
    keys = requests.get(configuration.json()["jwks_uri"], timeout=KEY_FETCH_TIMEOUT_SECONDS)
    keys.raise_for_status()
    return keys.json()["keys"]


def _find_key(metadata: _OpenIdMetadata, key_id: str) -> _OpenIdConfig | None:
    """The SDK's lookup raises IndexError for an unknown key id; no key is the answer."""
    for key in metadata.keys or []:
        if key.get("kid") == key_id:
            public_key = RSAAlgorithm.from_jwk(json.dumps(key))
            return _OpenIdConfig(public_key, key.get("endorsements", []))
    return None


_OpenIdMetadata._refresh = _refresh_keys_off_the_event_loop
_OpenIdMetadata._find = _find_key


def create_adapter(settings: Settings) -> CloudAdapter:
    configuration = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password.get_secret_value(),
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    adapter = CloudAdapter(
        PooledBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication(configuration))
    )
    adapter.on_turn_error = on_turn_error
    return adapter


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Log where it failed (never the message or the exception text), apologise kindly.

    Nothing of the failed turn is saved, so the dialog stays where it was.
    """
    activity = context.activity
    note_error(error)
    log.error(
        "turn failed: %s in %s activity %s\n%s",
        type(error).__name__,
        activity.type,
        activity.id,
        "".join(traceback.format_tb(error.__traceback__)),
    )
    if activity.type != ActivityTypes.message:
        return
    session = context.turn_state.get(SESSION_KEY)
    locale = session.locale if session is not None else match_locale(activity.locale)
    try:
        await context.send_activity(translator(locale)("error.apology"))
    except Exception as send_error:  # the connector itself may be what failed
        log.error("could not send the apology: %s", type(send_error).__name__)
