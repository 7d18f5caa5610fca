"""The Bot Connector's side of authentication, for tests with credentials configured: a
stand-in for Microsoft's identity provider (its signing keys) and channel tokens signed with it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "0b6a3c1e-7d2f-4e5a-9b8c-1f2e3d4c5b6a"


class IdentityProvider:
    """Stands in for login.botframework.com: OpenID metadata and one RSA signing key.

    Installed as ``requests.get``, which the SDK uses to fetch the keys; records each fetch
    and whether it ran on the event loop's thread (where a blocking call stalls every turn).
    """

    METADATA = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    KEYS = "https://login.botframework.com/v1/.well-known/keys"

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "channel-key-1"
        self.fetches: list[tuple[str, bool]] = []

    def get(self, url: str, *args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            on_event_loop = True
        except RuntimeError:
            on_event_loop = False
        self.fetches.append((url, on_event_loop))
        if url == self.METADATA:
            return _FakeResponse({"issuer": "https://api.botframework.com", "jwks_uri": self.KEYS})
        if url == self.KEYS:
            jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
            jwk.update(kid=self.kid, use="sig", endorsements=["msteams"])
            return _FakeResponse({"keys": [jwk]})
        raise requests.ConnectionError(f"no route to {url} in this test")


class _FakeResponse:
    def __init__(self, body: dict[str, Any]) -> None:
        self._body = body

    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict[str, Any]:
        return self._body


def channel_claims(client: Any, **claims: Any) -> dict[str, Any]:
    """What the Bot Connector's token says about a request to this bot."""
    now = int(time.time())
    return {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": client.connector.service_url,
        "nbf": now - 60,
        "exp": now + 3600,
        **claims,
    }


def channel_token(client: Any, key: Any, kid: str, **claims: Any) -> dict[str, str]:
    """An Authorization header as the Bot Connector sends it, signed with ``key``."""
    token = jwt.encode(
        channel_claims(client, **claims), key, algorithm="RS256", headers={"kid": kid}
    )
    return {"Authorization": f"Bearer {token}"}
