"""Fetching URLs a client chose: public addresses only (judged on what a name resolves to and
on every redirect), allowed hosts only, the token only to its own origin, a size cap.

The servers are real HTTPS servers on loopback. Where a test needs "a public server", the
address judgement is told that 127.0.0.1 is public and 127.0.0.2 is the internal network;
the default judgement is tested on its own."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from yarl import URL

from bot.integrations.safe_fetch import (
    MAX_REDIRECTS,
    Destination,
    FetchFailedError,
    FetchRefusedError,
    TooLargeError,
    fetch,
    is_public_address,
    origin_of,
)
from tests.support.graph_standin import TlsFiles, make_tls

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "127.0.0.2",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2001:db8::1",
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "fec0::1",  # site-local
        "64:ff9b:1::a00:1",  # local-use NAT64
        "ff02::1",
        "not-an-address",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address", ["20.190.160.1", "52.112.0.1", "8.8.8.8", "2603:1000::1", "::ffff:52.112.0.1"]
)
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


# --- real HTTPS servers --------------------------------------------------------------------


@dataclass
class Site:
    """An HTTPS server that records what reached it."""

    host: str
    port: int = 0
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization)
    redirect_to: str = ""
    body: bytes = PNG

    def url(self, path: str = "/form.png", host: str | None = None) -> str:
        return f"https://{host or self.host}:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("Authorization", "")))
        if request.path.startswith("/redirect") and self.redirect_to:
            raise web.HTTPFound(self.redirect_to)
        if request.path.startswith("/loop"):
            raise web.HTTPFound(f"/loop{len(self.seen)}")
        return web.Response(body=self.body, content_type="image/png")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("tls"), ips=("127.0.0.1", "127.0.0.2", "::1"))


@pytest.fixture
def client_ssl(tls: TlsFiles) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls.ca_file))


@pytest.fixture
async def sites(tls: TlsFiles) -> AsyncIterator[Callable[[str], Site]]:
    runners: list[web.AppRunner] = []
    made: list[Site] = []

    def make(host: str) -> Site:
        site = Site(host)
        made.append(site)
        return site

    async def start(site: Site) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", site.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        tcp = web.TCPSite(runner, site.host, 0, ssl_context=tls.server_context())
        await tcp.start()
        site.port = runner.addresses[0][1]
        runners.append(runner)

    class Factory:
        async def __call__(self, host: str) -> Site:
            site = make(host)
            await start(site)
            return site

    yield Factory()  # type: ignore[misc]
    for runner in runners:
        await runner.cleanup()


def only_first_loopback_is_public(address: str) -> bool:
    """Pretend 127.0.0.1 is the internet and everything else (127.0.0.2, ::1) is internal."""
    return address == "127.0.0.1"


def anywhere(_: URL) -> bool:
    return True


async def test_a_private_ip_literal_is_refused_without_a_request(
    sites, client_ssl: ssl.SSLContext
) -> None:
    internal = await sites("127.0.0.1")
    with pytest.raises(FetchRefusedError):
        await fetch(internal.url(), Destination(allows=anywhere), max_bytes=1000, ssl=client_ssl)
    assert internal.seen == []


async def test_a_name_is_judged_by_the_address_it_resolves_to(
    sites, client_ssl: ssl.SSLContext
) -> None:
    internal = await sites("127.0.0.1")
    with pytest.raises(FetchFailedError):  # "localhost" resolves to a loopback address
        await fetch(
            internal.url(host="localhost"),
            Destination(allows=anywhere),
            max_bytes=1000,
            ssl=client_ssl,
        )
    assert internal.seen == []
    # the positive control: the same name, judged public, is fetched
    public = Destination(allows=anywhere, is_public=lambda address: True)
    got = await fetch(internal.url(host="localhost"), public, max_bytes=1000, ssl=client_ssl)
    assert got == PNG


async def test_a_redirect_to_an_internal_address_is_refused(
    sites, client_ssl: ssl.SSLContext
) -> None:
    public, internal = await sites("127.0.0.1"), await sites("127.0.0.2")
    public.redirect_to = internal.url("/admin")
    destination = Destination(allows=anywhere, is_public=only_first_loopback_is_public)
    with pytest.raises(FetchRefusedError):
        await fetch(public.url("/redirect"), destination, max_bytes=1000, ssl=client_ssl)
    assert [path for path, _ in public.seen] == ["/redirect"]
    assert internal.seen == []


async def test_a_redirect_to_plain_http_is_refused(sites, client_ssl: ssl.SSLContext) -> None:
    public = await sites("127.0.0.1")
    public.redirect_to = f"http://127.0.0.1:{public.port}/form.png"
    destination = Destination(allows=anywhere, is_public=only_first_loopback_is_public)
    with pytest.raises(FetchRefusedError):
        await fetch(public.url("/redirect"), destination, max_bytes=1000, ssl=client_ssl)
    assert [path for path, _ in public.seen] == ["/redirect"]


async def test_every_hop_must_be_an_allowed_host(sites, client_ssl: ssl.SSLContext) -> None:
    allowed, other = await sites("127.0.0.1"), await sites("127.0.0.1")
    allowed.redirect_to = other.url()
    destination = Destination(
        allows=lambda url: url.port == allowed.port, is_public=only_first_loopback_is_public
    )
    with pytest.raises(FetchRefusedError):
        await fetch(allowed.url("/redirect"), destination, max_bytes=1000, ssl=client_ssl)
    assert other.seen == []


async def test_the_token_goes_to_its_origin_only_never_after_a_redirect(
    sites, client_ssl: ssl.SSLContext
) -> None:
    channel, elsewhere = await sites("127.0.0.1"), await sites("127.0.0.1")
    channel.redirect_to = elsewhere.url()
    destination = Destination(
        allows=anywhere,
        token="the-bots-token",
        token_origin=origin_of(URL(channel.url())),
        is_public=only_first_loopback_is_public,
    )
    got = await fetch(channel.url("/redirect"), destination, max_bytes=1000, ssl=client_ssl)
    assert got == PNG
    assert channel.seen == [("/redirect", "Bearer the-bots-token")]
    assert elsewhere.seen == [("/form.png", "")]


async def test_answers_over_the_limit_are_refused(sites, client_ssl: ssl.SSLContext) -> None:
    public = await sites("127.0.0.1")
    public.body = PNG * 100
    destination = Destination(allows=anywhere, is_public=only_first_loopback_is_public)
    with pytest.raises(TooLargeError):
        await fetch(public.url(), destination, max_bytes=len(PNG), ssl=client_ssl)


async def test_redirect_chains_are_bounded(sites, client_ssl: ssl.SSLContext) -> None:
    public = await sites("127.0.0.1")
    destination = Destination(allows=anywhere, is_public=only_first_loopback_is_public)
    with pytest.raises(FetchFailedError, match="too many redirects"):
        await fetch(public.url("/loop"), destination, max_bytes=1000, ssl=client_ssl)
    assert len(public.seen) == MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1:70/",
        "https://user:password@127.0.0.1/x",
        "/relative/path",
        "https:///no-host",
    ],
)
async def test_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(FetchRefusedError):
        await fetch(url, Destination(allows=anywhere, is_public=lambda _: True), max_bytes=10)


async def test_the_channels_own_origin_may_be_private_and_plain_http() -> None:
    """The service URL the channel's token vouches for (a loopback connector in tests)."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(body=PNG)

    app = web.Application()
    app.router.add_get("/v3/attachments/{id}/views/original", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        channel = URL(f"http://127.0.0.1:{port}/")
        url = f"http://127.0.0.1:{port}/v3/attachments/a1/views/original"
        destination = Destination(
            allows=anywhere,
            token="t",
            token_origin=origin_of(channel),
            trusted_origin=origin_of(channel),
        )
        assert await fetch(url, destination, max_bytes=1000) == PNG
        assert seen == ["Bearer t"]
        # another port on the same machine is another origin: refused
        with pytest.raises(FetchRefusedError):
            await fetch(f"http://127.0.0.1:{port + 1}/x", destination, max_bytes=1000)
    finally:
        await runner.cleanup()
