"""The log of a real ``python -m bot`` process: no path tokens, and one quiet line for
malformed HTTP that anyone can send."""

from __future__ import annotations

import asyncio
import re

import aiohttp

from tests.support.bot_process import ProcessBot

SECRET_PATH_TOKEN = "AbCdEf0123456789-not-to-be-logged_XyZ"
MALFORMED = [
    b"POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(200)) + b"\r\n",
    b"GET /healthz HTTP/1.1\r\nX-Long: " + b"y" * 20_000 + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n",
]


async def send_raw_http(port: int, request: bytes, half_close: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        if half_close:
            writer.write_eof()
        return await asyncio.wait_for(reader.read(4096), 10)
    finally:
        writer.close()


async def test_the_access_log_names_routes_not_paths(process_bot: ProcessBot) -> None:
    async with aiohttp.ClientSession() as http:
        for path in (f"/techcheck/{SECRET_PATH_TOKEN}", f"/nothing/{SECRET_PATH_TOKEN}"):
            async with http.get(process_bot.url(path + "?t=" + SECRET_PATH_TOKEN)) as response:
                assert response.status in (403, 404)
        async with http.get(process_bot.url("/healthz")) as response:
            assert response.status == 200
    process_bot.stop()
    log = process_bot.log.read_text()
    assert SECRET_PATH_TOKEN not in log
    assert "GET /techcheck/{token} 403" in log
    assert "GET (no route) 404" in log
    assert "GET /healthz 200" in log


async def test_malformed_http_is_refused_with_one_line_and_no_traceback(
    process_bot: ProcessBot,
) -> None:
    for request in MALFORMED:
        answer = await send_raw_http(process_bot.port, request)
        assert re.match(rb"HTTP/1\.[01] 4\d\d ", answer), answer[:100]
    process_bot.stop()
    log = process_bot.log.read_text()
    assert "Traceback" not in log
    assert " ERROR " not in log
    assert log.count("malformed HTTP request refused") == len(MALFORMED)


async def test_a_client_that_gives_up_mid_request_leaves_no_traceback(
    process_bot: ProcessBot,
) -> None:
    """``Expect: 100-continue``, then the client closes its side instead of sending the body."""
    request = (
        b"POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: 500\r\n\r\n"
    )
    for _ in range(3):
        await send_raw_http(process_bot.port, request, half_close=True)
    async with aiohttp.ClientSession() as http, http.get(process_bot.url("/healthz")) as answer:
        assert answer.status == 200
    process_bot.stop()
    log = process_bot.log.read_text()
    assert "Traceback" not in log
    assert " ERROR " not in log
