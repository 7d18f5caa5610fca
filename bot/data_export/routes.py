"""``GET /my-data/{token}``: the client's file, made when the link is opened.

A sealed, unexpired token gets the JSON file as a download; anything else a short page in the
client's language that says what to do — never another client's data, never a trace. The
token never reaches the logs (they name the route, ``/my-data/{token}``)."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from bot.domain.my_data import PATH, MyData
from bot.domain.techcheck_links import LinkError, LinkProblem
from bot.hosting.message_page import accepted_locale, message_page
from bot.i18n import translator
from bot.storage import StoreUnavailableError

log = logging.getLogger(__name__)

MY_DATA = web.AppKey("my_data", MyData)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def add_my_data_routes(app: web.Application, my_data: MyData) -> None:
    app[MY_DATA] = my_data
    app.router.add_get(PATH + "{token}", my_data_file)


async def my_data_file(request: web.Request) -> web.Response:
    my_data = request.app[MY_DATA]
    token = request.match_info["token"]
    try:
        claims = my_data.claims(token)
    except LinkError as error:
        locale = my_data.claimed_locale(token) or accepted_locale(request)
        expired = error.problem == LinkProblem.EXPIRED
        return _page(locale, "expired" if expired else "invalid", 410 if expired else 404)
    try:
        records = await my_data.read(claims.client_id)
    except StoreUnavailableError:
        return _page(claims.locale, "unavailable", 503)
    content = my_data.export(records, claims.locale)
    body = json.dumps(content, ensure_ascii=False, indent=2) + "\n"
    day = records.read_at.date().isoformat()
    log.info("my-data file served")
    return web.Response(
        body=body.encode(),
        headers={
            **HEADERS,
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="my-data-{day}.json"',
        },
    )


def _page(locale: str, reason: str, status: int) -> web.Response:
    t = translator(locale)
    body = message_page(
        t.locale,
        t(f"my_data.link.{reason}.title"),
        [t(f"my_data.link.{reason}.text")],
    )
    return web.Response(
        text=body,
        status=status,
        headers={**HEADERS, "Content-Type": "text/html; charset=utf-8"},
    )
