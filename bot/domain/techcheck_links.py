"""Signed, short-lived links to the tech-check page, issued in the client's chat.

A link is ``{BOT_PUBLIC_URL}/techcheck/{token}``. The token is opaque: it carries the client
id, a random link id, the expiry and the chat language, encrypted with AES-256-CTR and
authenticated with HMAC-SHA256 (encrypt-then-MAC) under keys derived from
``TECHCHECK_SECRET``. Nobody who sees the URL learns who it belongs to, and nobody can change
or forge one. The token is checked without storage: a forged or altered token never causes a
database read.

What binds a token to the client's conversation is the client's profile: issuing a link
records its id there, together with the conversation reference the result is announced to.
A valid token whose id the profile does not list (a link minted for someone else, or a client
who deleted their data since) is refused. Issuing writes nothing but the profile, which the
tech-check step writes anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.config import Settings
from bot.domain.profiles import ClientProfile, Profiles

TOKEN_VERSION = 1
LOCAL_SECRET = "local-development-only-techcheck-secret"  # local mode only
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_TOKEN_CHARS = 600
#: links kept on a profile; older ones stop working when a newer one is issued
MAX_LINKS_PER_CLIENT = 5
#: what all runs of the page through one link may transfer, up and down together
LINK_BUDGET_BYTES = 2_000_000
PAGE_PATH = "/techcheck/"


class LinkProblem(StrEnum):
    INVALID = "invalid"  # malformed, altered, or signed with another secret
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # validly signed but not (or no longer) issued to this client
    USED = "used"  # the result was sent already


class LinkError(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class LinkClaims:
    client_id: str
    link_id: str
    expires: int  # Unix time, seconds
    locale: str


@dataclass(frozen=True)
class IssuedLink:
    url: str
    claims: LinkClaims


def link_secret(settings: Settings) -> bytes:
    """``TECHCHECK_SECRET``; else derived from the invitation pepper; else (local) a constant."""
    configured = settings.techcheck_secret.get_secret_value()
    if configured:
        return configured.encode()
    pepper = settings.invitation_pepper.get_secret_value()
    if pepper and not settings.local_mode:
        return hmac.digest(pepper.encode(), b"videoberatung/techcheck-link/v1", "sha256")
    return LOCAL_SECRET.encode()


def public_base_url(settings: Settings) -> str | None:
    """Where browsers reach this service; ``None`` when unknown (credentials but no URL)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if not settings.local_mode:
        return None
    host = settings.host  # loopback: check() refuses anything else in local mode
    host = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{host}:{settings.port}"


class LinkCodec:
    """Mints and reads tokens; pure computation, no storage. Each ``purpose`` has keys of its
    own, so a token minted for one kind of link is no token at all for another."""

    def __init__(self, secret: bytes, purpose: str = "techcheck-link") -> None:
        label = purpose.encode()
        self._encryption_key = hmac.digest(secret, label + b"/encryption", "sha256")
        self._mac_key = hmac.digest(secret, label + b"/authentication", "sha256")

    def mint(self, claims: LinkClaims, nonce: bytes | None = None) -> str:
        nonce = nonce or os.urandom(NONCE_BYTES)
        payload = json.dumps(
            {"c": claims.client_id, "i": claims.link_id, "e": claims.expires, "l": claims.locale},
            separators=(",", ":"),
        ).encode()
        body = bytes([TOKEN_VERSION]) + nonce + self._crypt(nonce, payload)
        return _b64encode(body + self._tag(body))

    def read(self, token: str, now: float | None = None) -> LinkClaims:
        """The claims of a genuine, unexpired token; ``LinkError`` otherwise."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise LinkError(LinkProblem.INVALID)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as error:
            raise LinkError(LinkProblem.INVALID) from error
        if _b64encode(raw) != token:  # one spelling per token: no variant passes as the same
            raise LinkError(LinkProblem.INVALID)
        if len(raw) < 1 + NONCE_BYTES + TAG_BYTES + 2 or raw[0] != TOKEN_VERSION:
            raise LinkError(LinkProblem.INVALID)
        body, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(body)):
            raise LinkError(LinkProblem.INVALID)
        nonce = body[1 : 1 + NONCE_BYTES]
        try:
            data = json.loads(self._crypt(nonce, body[1 + NONCE_BYTES :]))
            claims = LinkClaims(str(data["c"]), str(data["i"]), int(data["e"]), str(data["l"]))
            for text in (claims.client_id, claims.link_id, claims.locale):
                text.encode("utf-8")  # lone surrogates: not a token this service minted
        except (ValueError, KeyError, TypeError) as error:  # only with a leaked key
            raise LinkError(LinkProblem.INVALID) from error
        if claims.expires <= (time.time() if now is None else now):
            raise LinkError(LinkProblem.EXPIRED)
        return claims

    def _crypt(self, nonce: bytes, data: bytes) -> bytes:
        """AES-256-CTR; the same operation encrypts and decrypts."""
        counter_block = nonce + bytes(16 - NONCE_BYTES)
        cipher = Cipher(algorithms.AES(self._encryption_key), modes.CTR(counter_block))
        encryptor = cipher.encryptor()
        return encryptor.update(data) + encryptor.finalize()

    def _tag(self, body: bytes) -> bytes:
        return hmac.digest(self._mac_key, body, hashlib.sha256)[:TAG_BYTES]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def codec_for(settings: Settings, purpose: str = "techcheck-link") -> LinkCodec:
    return LinkCodec(link_secret(settings), purpose)


class LinkIssuer:
    """Issues links during a client's turn (the tech-check step, or the typed command)."""

    def __init__(self, settings: Settings, profiles: Profiles, codec: LinkCodec) -> None:
        self._settings = settings
        self._profiles = profiles
        self._codec = codec

    async def issue(
        self,
        reference: dict[str, Any],
        client_id: str,
        locale: str,
        now: float | None = None,
    ) -> IssuedLink | None:
        """A fresh link, registered on the client's profile with ``reference`` (how to tell
        the client's chat about the result); ``None`` if links are off."""
        base = public_base_url(self._settings)
        if base is None:
            return None
        now = time.time() if now is None else now
        claims = LinkClaims(
            client_id=client_id,
            link_id=secrets.token_urlsafe(9),
            expires=int(now) + self._settings.techcheck_link_minutes * 60,
            locale=locale,
        )

        def register(profile: ClientProfile) -> None:
            links = {
                link_id: expires
                for link_id, expires in profile.techcheck.get("links", {}).items()
                if expires > now
            }
            links[claims.link_id] = claims.expires
            newest = sorted(links.items(), key=lambda item: item[1])[-MAX_LINKS_PER_CLIENT:]
            profile.techcheck = {"ref": reference, "links": dict(newest)}

        await self._profiles.update(client_id, register)
        return IssuedLink(f"{base}{PAGE_PATH}{self._codec.mint(claims)}", claims)


def registered(profile: ClientProfile | None, claims: LinkClaims) -> bool:
    """Whether the profile lists this link (deleted data or a foreign link: no)."""
    if profile is None:
        return False
    links: dict[str, int] = profile.techcheck.get("links", {})
    return links.get(claims.link_id) == claims.expires
