"""Stopping without losing a turn (SIGTERM from Azure Container Apps, Kubernetes, systemd).

On the signal the service turns ``/readyz`` to 503 and stops the background jobs (a reminder
being sent is sent and recorded first). For ``SHUTDOWN_DEREGISTER_SECONDS`` it still serves
what arrives — the platform takes the replica out of its load balancer at about the same time
as it sends SIGTERM, not before — then it refuses new requests with 503 and ``Retry-After``
and lets the requests in flight finish; all within ``SHUTDOWN_GRACE_SECONDS``. Then the
listener closes, storage is closed, and the process exits 0. ``/healthz`` stays 200
throughout: the process is alive, it is only leaving.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)

PROBES = frozenset({"/healthz", "/readyz"})
RETRY_AFTER_SECONDS = 5

Job = Callable[[], Awaitable[object]]


class Drain:
    """The service's state on the way out: draining or not, and what is still in flight."""

    def __init__(self) -> None:
        self.draining = False  # not ready (readiness 503)
        self.refusing = False  # new requests get 503
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_drain: list[Job] = []

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def on_drain(self, stop: Job) -> None:
        """``stop`` runs when draining starts, beside the requests in flight: a background
        job's own ``stop``, bounded by less than the grace period; calling it again at clean-up
        must do nothing."""
        self._on_drain.append(stop)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PROBES:
            return await handler(request)
        if self.refusing:
            return web.json_response(
                {"error": "the service is shutting down; try again"},
                status=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"},
            )
        self._in_flight += 1
        self._idle.clear()
        try:
            return await handler(request)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def drain(self, grace_seconds: float, deregister_seconds: float = 0.0) -> bool:
        """Not ready at once; new requests refused after ``deregister_seconds``; the jobs
        stopped and what is in flight finished — ``False`` if the grace period ran out first."""
        self.draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        jobs = [asyncio.ensure_future(stop()) for stop in self._on_drain]
        await asyncio.sleep(min(deregister_seconds, grace_seconds))
        self.refusing = True
        log.info("refusing new requests; %d in flight", self._in_flight)
        waiting = [asyncio.ensure_future(self._idle.wait()), *jobs]
        _done, pending = await asyncio.wait(waiting, timeout=max(deadline - loop.time(), 0))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        return not pending


DRAIN = web.AppKey("drain", Drain)


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    grace_seconds: float,
    deregister_seconds: float = 0.0,
    access_log_class: type[AbstractAccessLogger],
) -> None:
    """Listen until SIGTERM or SIGINT, then drain (see the module) and clean up.

    Start-up errors (storage that does not answer) propagate before anything listens. A signal
    during start-up is kept: the service then stops as soon as it has started, without
    listening.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    runner = web.AppRunner(
        app, handle_signals=False, access_log_class=access_log_class, shutdown_timeout=1.0
    )
    try:
        await runner.setup()
        if stop.is_set():
            log.info("stopped during start-up")
            return
        await web.TCPSite(runner, host, port).start()
        log.info("listening on %s:%s", host, port)
        await stop.wait()
        drain = app[DRAIN]
        log.info("stopping: not ready, %d request(s) in flight", drain.in_flight)
        if await drain.drain(grace_seconds, deregister_seconds):
            log.info("drained: every request in flight finished")
        else:
            log.warning(
                "grace period of %gs ran out; %d request(s) cut off", grace_seconds, drain.in_flight
            )
    finally:
        await runner.cleanup()
    log.info("stopped")
