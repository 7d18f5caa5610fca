"""HTTP side of the tech check: the page, its two assets and the measurement endpoints.

``GET  /techcheck/{token}``        the page (HTML), or a friendly page saying what is wrong
``GET  /techcheck/static/{name}``  ``app.js`` / ``app.css`` (cached for a year: versioned URL)
``GET  /techcheck/api/ping``       204, for the round trip
``GET  /techcheck/api/down?bytes=N``  N random (incompressible) bytes
``POST /techcheck/api/up``         reads and discards the body, answers how many bytes came
``POST /techcheck/api/result``     the page's observations (JSON, ≤ 4 KB)

The API endpoints take the token in the ``X-Techcheck-Token`` header (kept out of access
logs) and answer errors as JSON through the app's ``json_errors`` middleware. Every byte the
measurement endpoints send or accept counts against the link's budget (``usage.py``), so
they cannot be used as a bandwidth sink. Text responses are gzip-compressed when the browser
accepts it; measurement bytes never are.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError

from bot.config import Settings
from bot.domain.profiles import Profiles
from bot.domain.stats import Metric, Stats
from bot.domain.tech_assessment import expected_quality
from bot.domain.techcheck_links import (
    LinkClaims,
    LinkCodec,
    LinkError,
    LinkProblem,
    public_base_url,
)
from bot.domain.techcheck_links import registered as link_registered
from bot.hosting.message_page import accepted_locale, message_page
from bot.hosting.request_checks import json_body, problem, refuse_encoded_body, too_large
from bot.hosting.shutdown import DRAIN
from bot.hosting.turn_telemetry import TECHCHECK_RUNS
from bot.i18n import (
    DEFAULT_LOCALE,
    FIGURE_PATTERN,
    load_catalog,
    text_direction,
    translator,
)
from bot.techcheck_page.result_delivery import ResultDelivery
from bot.techcheck_page.results import PostedResult, judge_browser, page_config, summarise
from bot.techcheck_page.usage import BudgetExceededError, Direction, Usage, UsageLog

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
TOKEN_HEADER = "X-Techcheck-Token"
#: what one run of the page may spend (the link's budget, 2 MB, allows a second run)
RUN_BUDGET = {"down": 1_000_000, "up": 600_000}
MAX_TRANSFER_BYTES = 1_000_000
MAX_RESULT_BYTES = 4096
CHUNK = 64 * 1024
_PLACEHOLDER = re.compile(r"\{\{([a-z_.]+)\}\}")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    "Cache-Control": "no-store",
}
STATUS_BY_PROBLEM = {
    LinkProblem.INVALID: 403,
    LinkProblem.EXPIRED: 410,
    LinkProblem.UNKNOWN: 410,
    LinkProblem.USED: 410,
}
API_ERRORS = {
    LinkProblem.INVALID: (web.HTTPForbidden, "invalid tech-check token"),
    LinkProblem.EXPIRED: (web.HTTPGone, "this tech-check link has expired"),
    LinkProblem.UNKNOWN: (web.HTTPGone, "this tech-check link is no longer valid"),
    LinkProblem.USED: (web.HTTPGone, "this tech-check link was used already"),
}


@dataclass(frozen=True)
class Asset:
    content_type: str
    body: bytes
    gzipped: bytes
    version: str


def _asset(name: str, content_type: str) -> Asset:
    body = (STATIC / name).read_bytes()
    return Asset(
        content_type,
        body,
        gzip.compress(body, compresslevel=9, mtime=0),
        hashlib.sha256(body).hexdigest()[:12],
    )


@dataclass
class TechcheckPage:
    """Everything the handlers need, built once per app."""

    settings: Settings
    codec: LinkCodec
    profiles: Profiles
    usage: UsageLog
    delivery: ResultDelivery
    stats: Stats
    assets: dict[str, Asset]
    template: str


PAGE = web.AppKey("techcheck_page", TechcheckPage)


def techcheck_page(
    settings: Settings,
    codec: LinkCodec,
    profiles: Profiles,
    usage: UsageLog,
    delivery: ResultDelivery,
    stats: Stats,
) -> TechcheckPage:
    """The page's parts (built once, by the composition root ``bot/app.py``)."""
    return TechcheckPage(
        settings=settings,
        codec=codec,
        profiles=profiles,
        usage=usage,
        delivery=delivery,
        stats=stats,
        assets={
            "app.js": _asset("app.js", "text/javascript; charset=utf-8"),
            "app.css": _asset("app.css", "text/css; charset=utf-8"),
        },
        template=(STATIC / "page.html").read_text(encoding="utf-8"),
    )


def add_techcheck_routes(app: web.Application, parts: TechcheckPage) -> None:
    """Register the page and its API."""
    app[PAGE] = parts
    if public_base_url(parts.settings) is None:
        log.warning("BOT_PUBLIC_URL is not set: the chat offers no link to the measured tech check")
    app.cleanup_ctx.append(_drain_announcements)
    app.router.add_get("/techcheck/static/{name}", static_asset)
    app.router.add_get("/techcheck/api/ping", ping)
    app.router.add_get("/techcheck/api/down", download)
    app.router.add_post("/techcheck/api/up", upload)
    app.router.add_post("/techcheck/api/result", post_result)
    app.router.add_get("/techcheck/{token}", page)


async def _drain_announcements(app: web.Application) -> AsyncIterator[None]:
    """Announcements still being sent finish while the service drains (SIGTERM), within its
    grace period; again at clean-up (nothing left then, or the app stopped another way)."""
    if DRAIN in app:
        app[DRAIN].on_drain(app[PAGE].delivery.drain)
    yield
    await app[PAGE].delivery.drain()


# --- the page ------------------------------------------------------------------------------


async def page(request: web.Request) -> web.Response:
    """The page, or a plain explanation; never an error trace."""
    context = request.app[PAGE]
    try:
        claims = context.codec.read(request.match_info["token"])
        profile = await context.profiles.get(claims.client_id)
        if not link_registered(profile, claims):
            raise LinkError(LinkProblem.UNKNOWN)
        usage = await context.usage.get(claims)
        body = _render_page(context, request, claims, usage.left)
        return _text(request, body, "text/html; charset=utf-8")
    except LinkError as error:
        locale = _claimed_locale(context, request) or accepted_locale(request)
        status = STATUS_BY_PROBLEM[error.problem]
        return _error_page(request, context, locale, error.problem.value, status)
    except Exception as error:
        log.error("tech-check page failed: %s", type(error).__name__)
        return _error_page(request, context, accepted_locale(request), "internal", 500)


def _render_page(
    context: TechcheckPage, request: web.Request, claims: LinkClaims, budget_left: int
) -> str:
    t = translator(claims.locale)
    user_agent = request.headers.get("User-Agent", "")
    browser = judge_browser(user_agent)
    down = min(RUN_BUDGET["down"], budget_left * 5 // 8)
    config = {
        **page_config(),
        "lang": t.locale,
        "dir": text_direction(t.locale),
        "figurePattern": FIGURE_PATTERN,
        "token": request.match_info["token"],
        "texts": page_texts(t.locale),
        "browser": browser,
        "deviceQuality": expected_quality("smartphone" if browser["mobile"] else "computer"),
        "budget": {"down": down, "up": min(RUN_BUDGET["up"], budget_left - down)},
    }
    values = {
        "lang": t.locale,
        "dir": text_direction(t.locale),
        "css": f"/techcheck/static/app.css?v={context.assets['app.css'].version}",
        "js": f"/techcheck/static/app.js?v={context.assets['app.js'].version}",
        # JSON inside <script>: "<" escaped so that no text can end the element
        "config": json.dumps(config, ensure_ascii=False).replace("<", "\\u003c"),
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        return html.escape(t(f"techcheck.{name}"))

    return _PLACEHOLDER.sub(fill, context.template)


def page_texts(locale: str) -> dict[str, str]:
    """The catalog texts the page's script shows (``techcheck.page|advice|estimate.*``)."""
    t = translator(locale)
    texts = {}
    for key in load_catalog(DEFAULT_LOCALE):
        if key.startswith("techcheck.page."):
            texts[key.removeprefix("techcheck.page.")] = t.plain(key)
        elif key.startswith(("techcheck.advice.", "techcheck.estimate.")):
            texts[key.removeprefix("techcheck.")] = t.plain(key)
    return texts


def _error_page(
    request: web.Request, context: TechcheckPage, locale: str, reason: str, status: int
) -> web.Response:
    t = translator(locale)
    css = f"/techcheck/static/app.css?v={context.assets['app.css'].version}"
    paragraphs = [t(f"techcheck.error.{reason}.text"), t("techcheck.error.what_to_do")]
    body = message_page(t.locale, t(f"techcheck.error.{reason}.title"), paragraphs, css)
    return _text(request, body, "text/html; charset=utf-8", status=status)


def _claimed_locale(context: TechcheckPage, request: web.Request) -> str | None:
    """The chat language from the token, even an expired one (it is still authentic)."""
    try:
        return context.codec.read(request.match_info["token"], now=0).locale
    except LinkError:
        return None


def _accepts_gzip(request: web.Request) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def _text(request: web.Request, body: str, content_type: str, status: int = 200) -> web.Response:
    data = body.encode()
    headers = {**SECURITY_HEADERS, "Content-Type": content_type, "Vary": "Accept-Encoding"}
    if _accepts_gzip(request):
        data = gzip.compress(data, compresslevel=9, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=data, status=status, headers=headers)


async def static_asset(request: web.Request) -> web.Response:
    asset = request.app[PAGE].assets.get(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound(text="no such file")
    headers = {
        "Content-Type": asset.content_type,
        "Cache-Control": "public, max-age=31536000, immutable",
        "ETag": f'"{asset.version}"',
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return web.Response(status=304, headers=headers)
    body = asset.body
    if _accepts_gzip(request):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers=headers)


# --- the API -------------------------------------------------------------------------------

API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _claims(request: web.Request) -> LinkClaims:
    token = request.headers.get(TOKEN_HEADER, "")
    if not token:
        raise problem(web.HTTPUnauthorized, f"the {TOKEN_HEADER} header is missing")
    try:
        return request.app[PAGE].codec.read(token)
    except LinkError as error:
        raise _api_error(error) from error


def _api_error(error: LinkError) -> web.HTTPException:
    status, message = API_ERRORS[error.problem]
    return problem(status, message)


async def _reserve(
    request: web.Request, claims: LinkClaims, direction: Direction, size: int
) -> Usage:
    context = request.app[PAGE]
    if not link_registered(await context.profiles.get(claims.client_id), claims):
        raise _api_error(LinkError(LinkProblem.UNKNOWN))
    try:
        return await context.usage.reserve(claims, direction, size)
    except LinkError as error:
        raise _api_error(error) from error
    except BudgetExceededError as error:
        raise problem(
            web.HTTPTooManyRequests, "the data budget of this tech-check link is used up"
        ) from error


async def ping(request: web.Request) -> web.Response:
    """Checks the signature and expiry only, so that no storage read adds to the round trip."""
    _claims(request)
    return web.Response(status=204, headers=API_HEADERS)


async def download(request: web.Request) -> web.StreamResponse:
    """``bytes`` random bytes: incompressible, so no proxy can make the link look faster."""
    claims = _claims(request)
    try:
        size = int(request.query.get("bytes", ""))
    except ValueError as error:
        raise problem(web.HTTPBadRequest, "bytes must be a whole number") from error
    if not 1 <= size <= MAX_TRANSFER_BYTES:
        raise problem(web.HTTPBadRequest, f"bytes must be between 1 and {MAX_TRANSFER_BYTES}")
    await _reserve(request, claims, Direction.DOWN, size)
    response = web.StreamResponse(
        headers={
            **API_HEADERS,
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "identity",
        }
    )
    response.content_length = size
    await response.prepare(request)
    left = size
    while left > 0:
        chunk = min(CHUNK, left)
        await response.write(os.urandom(chunk))
        left -= chunk
    await response.write_eof()
    return response


async def upload(request: web.Request) -> web.Response:
    """Reads and discards the body; the size must be declared and fit the budget (an encoded
    body is refused: what it would unpack to is not what was declared)."""
    claims = _claims(request)
    refuse_encoded_body(request)
    size = request.content_length
    if size is None:
        raise problem(web.HTTPLengthRequired, "Content-Length is required")
    if size > MAX_TRANSFER_BYTES:
        raise too_large(MAX_TRANSFER_BYTES, size)
    await _reserve(request, claims, Direction.UP, size)
    received = 0
    async for chunk in request.content.iter_chunked(CHUNK):
        received += len(chunk)
    return web.json_response({"bytes": received}, headers=API_HEADERS)


async def post_result(request: web.Request) -> web.Response:
    """Validate, store once, answer; the chat hears about it right after."""
    context = request.app[PAGE]
    claims = _claims(request)
    posted = await _read_result(request)
    profile = await context.profiles.get(claims.client_id)
    if not link_registered(profile, claims):
        raise _api_error(LinkError(LinkProblem.UNKNOWN))
    try:
        usage = await context.usage.finish(claims)
    except LinkError as error:
        raise _api_error(error) from error
    served = (usage.down, usage.up)
    measured = summarise(posted, request.headers.get("User-Agent", ""), served)
    try:
        handoffs = await context.delivery.store(claims, measured)
    except Exception:
        await context.usage.reopen(claims)  # let the client send it again
        raise
    await context.stats.count(Metric.MEASURED_CHECKS)  # once: the link is used up now
    TECHCHECK_RUNS.add(1, {"outcome": str(measured["outcome"])})
    reference = profile.techcheck.get("ref", {}) if profile else {}
    context.delivery.announce(claims, reference, measured, handoffs)
    return web.json_response(
        {"outcome": measured["outcome"], "advice": measured["advice"]}, headers=API_HEADERS
    )


async def _read_result(request: web.Request) -> PostedResult:
    if request.content_type != "application/json":
        raise problem(web.HTTPUnsupportedMediaType, "Content-Type must be application/json")
    refuse_encoded_body(request)
    if request.content_length is not None and request.content_length > MAX_RESULT_BYTES:
        raise too_large(MAX_RESULT_BYTES, request.content_length)
    raw = b""
    async for chunk in request.content.iter_chunked(CHUNK):
        raw += chunk
        if len(raw) > MAX_RESULT_BYTES:
            raise too_large(MAX_RESULT_BYTES, len(raw))
    data = json_body(raw)
    try:
        return PostedResult.model_validate(data)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in item["loc"]) for item in error.errors()})
        raise problem(
            web.HTTPBadRequest, "result is not valid: " + ", ".join(fields[:10])
        ) from error
