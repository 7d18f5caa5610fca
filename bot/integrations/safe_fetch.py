"""Fetching a URL that someone else chose, without being turned into their tool.

A client decides what URL an attachment carries. Fetching it naively lets them point the bot
at internal services (server-side request forgery) or, when the bot's own token goes along,
collect that token on their own server. Here:

* every hop — the first URL and each redirect — must pass the caller's ``allows`` rule and use
  ``https`` (``http`` only in local mode, or for the channel's own service URL);
* outside local mode a hop may not reach a private, loopback, link-local or otherwise
  non-public address, judged on the address the name *resolves to* (in the resolver, so the
  connection goes to exactly the address that was checked) and on IP literals;
* the one exception is ``trusted_origin``: the channel's own service URL, which the channel's
  signed token vouches for and which the bot posts its replies to anyway;
* a bearer token is sent only to ``token_origin`` — never after a redirect elsewhere;
* at most ``max_bytes`` are read; a redirect chain is at most ``MAX_REDIRECTS`` long.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from ssl import SSLContext
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024

Origin = tuple[str, str, int]


class FetchRefusedError(Exception):
    """The URL (or a redirect) may not be fetched; nothing was sent there."""


class FetchFailedError(Exception):
    """The fetch was allowed but did not deliver (status, network, timeout)."""


class TooLargeError(Exception):
    """The answer is larger than ``max_bytes``."""


def parse_url(text: str) -> URL:
    """``text`` as an absolute URL with a host; ``FetchRefusedError`` for anything else
    (a malformed authority, a port out of range, a host that is no valid IDNA name)."""
    try:
        url = URL(text)
        if not url.is_absolute() or not url.raw_host:
            raise FetchRefusedError("not an absolute URL")
        url.host, url.port  # noqa: B018 - each raises for a malformed host or port
    except (ValueError, UnicodeError, TypeError) as error:
        raise FetchRefusedError("not a valid URL") from error
    return url


def origin_of(url: URL) -> Origin:
    """Scheme, host as connected to (``raw_host``: IDNA, lower case) and port."""
    host = (url.raw_host or "").lower().rstrip(".")
    return (url.scheme.lower(), host, url.port or 0)


def is_public_address(address: str) -> bool:
    """Whether ``address`` is on the public internet (not private, loopback, link-local,
    shared, reserved, multicast or unspecified; IPv4 inside IPv6 judged as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public_address(str(embedded))
        if ip in _NAT64 or int(ip) >> 32 == 0:  # NAT64, or IPv4-compatible (::a.b.c.d)
            return is_public_address(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if any(ip in network for network in _NOT_PUBLIC_IPV6):
            return False
    return ip.is_global and not ip.is_multicast


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: what Python 3.11's ``is_global`` still calls global
_NOT_PUBLIC_IPV6 = (
    ipaddress.ip_network("fec0::/10"),  # site-local (deprecated, still routed internally)
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
)


@dataclass(frozen=True)
class Destination:
    """Where one fetch may go, and what it may carry."""

    allows: Callable[[URL], bool]
    token: str | None = None
    token_origin: Origin | None = None
    trusted_origin: Origin | None = None
    allow_private_networks: bool = False
    is_public: Callable[[str], bool] = field(default=is_public_address)

    def private_ok(self, url: URL) -> bool:
        return self.allow_private_networks or origin_of(url) == self.trusted_origin


class _PublicOnlyResolver(AbstractResolver):
    """Resolves as usual, and refuses names that lead to a non-public address."""

    def __init__(self, destination: Destination, trusted_host: str) -> None:
        self._inner = DefaultResolver()
        self._destination = destination
        self._trusted_host = trusted_host

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        exempt = self._destination.allow_private_networks or (
            host.lower().rstrip(".") == self._trusted_host
        )
        if not exempt and not all(self._destination.is_public(entry["host"]) for entry in found):
            raise OSError(f"{host} resolves to a non-public address")
        return found

    async def close(self) -> None:
        await self._inner.close()


async def fetch(
    url: str,
    destination: Destination,
    *,
    max_bytes: int,
    timeout_seconds: float = 20.0,
    ssl: SSLContext | bool = True,
) -> bytes:
    """The body of ``url`` (after at most ``MAX_REDIRECTS`` checked redirects); ``ssl`` as in
    aiohttp (a context trusting another CA, e.g. a proxy's)."""
    target = _checked(parse_url(url), destination)
    trusted_host = destination.trusted_origin[1] if destination.trusted_origin else ""
    connector = aiohttp.TCPConnector(
        resolver=_PublicOnlyResolver(destination, trusted_host), ssl=ssl
    )
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for _ in range(MAX_REDIRECTS + 1):
            headers = {}
            if destination.token and origin_of(target) == destination.token_origin:
                headers["Authorization"] = f"Bearer {destination.token}"
            try:
                async with session.get(target, headers=headers, allow_redirects=False) as answer:
                    if answer.status in REDIRECTS and "Location" in answer.headers:
                        target = _checked(
                            _redirect(target, answer.headers["Location"]), destination
                        )
                        continue
                    if answer.status != 200:
                        raise FetchFailedError(f"status {answer.status}")
                    return await _read_capped(answer, max_bytes)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                raise FetchFailedError(type(error).__name__) from error
    raise FetchFailedError("too many redirects")


def _redirect(current: URL, location: str) -> URL:
    try:
        joined = current.join(URL(location))
    except (ValueError, UnicodeError, TypeError) as error:
        raise FetchRefusedError("not a valid redirect") from error
    return parse_url(str(joined))


def _checked(url: URL, destination: Destination) -> URL:
    plain_http_ok = destination.private_ok(url)  # local mode, or the channel's own URL
    schemes = {"https", "http"} if plain_http_ok else {"https"}
    host = url.raw_host or ""
    if url.scheme.lower() not in schemes or not host or url.user or url.password:
        raise FetchRefusedError("not an allowed URL")
    if not destination.allows(url):
        raise FetchRefusedError("host not allowed")
    literal = _is_ip_literal(host)
    if literal and not destination.private_ok(url) and not destination.is_public(host):
        raise FetchRefusedError("not a public address")
    return url


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


async def _read_capped(answer: Any, max_bytes: int) -> bytes:
    if (answer.content_length or 0) > max_bytes:
        raise TooLargeError()
    data = bytearray()
    async for chunk in answer.content.iter_chunked(CHUNK):
        data.extend(chunk)
        if len(data) > max_bytes:
            raise TooLargeError()
    return bytes(data)
