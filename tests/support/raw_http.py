"""Requests to ``/api/messages`` exactly as given (any body, method, content type or header),
and the check that a refusal is a clean JSON error."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from tests.support.http_bot import RunningBot, TeamsClient


class Answer:
    """What came back: status, content type, the body as text, the headers."""

    def __init__(self, status: int, content_type: str, text: str, headers: Any) -> None:
        self.status = status
        self.content_type = content_type
        self.text = text
        self.headers = headers

    def json(self) -> Any:
        return json.loads(self.text)


async def send_raw(
    http: aiohttp.ClientSession,
    bot: RunningBot,
    data: Any,
    *,
    method: str = "POST",
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> Answer:
    all_headers = dict(headers or {})
    skip: list[str] = []
    if content_type is None:
        skip.append("Content-Type")
    else:
        all_headers["Content-Type"] = content_type
    async with http.request(
        method,
        bot.url("/api/messages"),
        data=data,
        headers=all_headers,
        skip_auto_headers=skip,
    ) as response:
        return Answer(
            response.status, response.content_type, await response.text(), response.headers
        )


def assert_clean_error(answer: Answer, status: int) -> None:
    """The expected 4xx, as a JSON ``{"error": ...}`` body without a Python trace."""
    assert answer.status == status, (answer.status, answer.text)
    assert "Traceback" not in answer.text
    assert 'File "' not in answer.text
    assert answer.content_type == "application/json", (answer.content_type, answer.text)
    body = answer.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("error"), str)
    assert body["error"]


def activity_body(client: TeamsClient, **overrides: Any) -> dict[str, Any]:
    return {**client.message("Hallo"), **overrides}
