"""A loopback web server with a few files: what Teams' file card or attachment URLs point at."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@asynccontextmanager
async def file_server(bodies: Mapping[str, bytes]) -> AsyncIterator[TestServer]:
    """``GET /{name}`` answers ``bodies[name]`` (as image/png, whatever it is), else 404."""

    async def serve(request: web.Request) -> web.Response:
        body = bodies.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="image/png")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()
