"""A job that runs in the background every so often: the reminder scheduler, the daily purge.

One run at a time; a failed run is logged by the kind of error (never its text, which may hold
data) and the next one comes as planned. ``stop`` lets a run in progress finish within a grace
period — so that, say, a reminder is not cut off between sending and recording it — and wakes
a sleeping loop at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Periodic:
    def __init__(
        self,
        name: str,
        run_once: Callable[[], Awaitable[object]],
        interval_seconds: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._name = name
        self._run_once = run_once
        self._interval = interval_seconds
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._sleeping = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def stopping(self) -> bool:
        """A run should end early (``stop`` was called)."""
        return self._stopping

    def start(self) -> None:
        """Run every ``interval_seconds`` in a background task, the first run now (idempotent)."""
        if self.running:
            return
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run_forever(), name=self._name)

    async def stop(self, grace_seconds: float = 30.0) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self._sleeping:
            task.cancel()
        _done, pending = await asyncio.wait({task}, timeout=grace_seconds)
        if pending:
            task.cancel()
            await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.error("%s loop ended with %s", self._name, type(task.exception()).__name__)

    async def _run_forever(self) -> None:
        while not self._stopping:
            try:
                await self._run_once()
            except Exception as error:  # keep running; the store may be back next time
                log.error("%s run failed: %s", self._name, type(error).__name__)
            if self._stopping:
                break
            self._sleeping = True
            try:
                await self._sleep(self._interval)
            finally:
                self._sleeping = False
