"""A small HTML page that says one thing to a client in their language: a link that lapsed,
one that was never valid, a service that is down. Its language and direction are the client's;
every text is escaped."""

from __future__ import annotations

import html

from aiohttp import web

from bot.i18n import match_locale, text_direction


def message_page(locale: str, title: str, paragraphs: list[str], stylesheet: str = "") -> str:
    link = f'<link rel="stylesheet" href="{html.escape(stylesheet)}">\n' if stylesheet else ""
    text = "".join(f"<p>{html.escape(paragraph)}</p>\n" for paragraph in paragraphs)
    return (
        f'<!doctype html>\n<html lang="{locale}" dir="{text_direction(locale)}">\n'
        '<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f'<title>{html.escape(title)}</title>\n<link rel="icon" href="data:,">\n'
        f"{link}</head>\n<body>\n<main>\n<h1>{html.escape(title)}</h1>\n{text}</main>\n"
        "</body>\n</html>\n"
    )


def accepted_locale(request: web.Request) -> str:
    """The browser's first language, if it is one of the chat's (else German)."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0]
    return match_locale(first.strip() or None)
