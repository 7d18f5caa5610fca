"""The journey in-process: ``create_app`` on an aiohttp ``TestServer``, a ``LocalConnector``,
and the app's document store wrapped to count reads and writes per turn.

Journeys run one after another, so every storage call belongs to the turn in flight.
``bot="echo"`` runs ``bench/echo_bot.py``'s app the same way (no store to count).
"""

from __future__ import annotations

import asyncio
import cProfile
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.journey import (
    ECHO,
    JOURNEY,
    JourneyResult,
    ReplyRouter,
    SimulatedClient,
    json_size,
    reached_summary,
)
from bot.app import STORE, create_app
from bot.config import Settings
from bot.devtools.connector_standin import LocalConnector
from bot.hosting.state_storage import STATE_KIND
from bot.storage.documents import DocumentStore

READS = ("get", "list_partition")
WRITES = ("create", "replace", "upsert", "delete")
BODY_WRITES = ("create", "replace", "upsert")
JsonDict = dict[str, Any]


class StoreCounter:
    """Counts ``(operation, kind)`` calls on one store and the size of every state written."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.state_bytes_written: list[int] = []
        self.largest_state: JsonDict | None = None

    def wrap(self, store: DocumentStore) -> None:
        for operation in (*READS, *WRITES):
            setattr(store, operation, self._counting(operation, getattr(store, operation)))

    def _counting(
        self, operation: str, original: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def counted(kind: str, *args: Any, **kwargs: Any) -> Any:
            self.counts[(operation, kind)] += 1
            if kind == STATE_KIND and operation in BODY_WRITES:
                body = args[1] if len(args) > 1 else kwargs["body"]
                size = json_size(body)
                if size > max(self.state_bytes_written, default=0):
                    self.largest_state = body
                self.state_bytes_written.append(size)
            return await original(kind, *args, **kwargs)

        return counted


def bench_settings(directory: Path) -> Settings:
    """Local mode, SQLite in ``directory``; otherwise the defaults ``python -m bot`` uses."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        storage_url=f"sqlite:///{directory / 'bench.db'}",
        upload_dir=str(directory / "uploads"),
        app_id="",
        app_password="",
        host="127.0.0.1",
    )


def measure_inprocess(
    journeys: int,
    *,
    warmup: int = 1,
    profiler: cProfile.Profile | None = None,
    bot: str = "ours",
) -> dict[str, Any]:
    """Run ``journeys`` whole journeys (after ``warmup`` unmeasured ones); ``profiler`` is
    enabled for the measured ones only. ``samples`` in the answer holds a large state body, the
    largest reply and the last inbound activity, for spot checks."""
    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as directory:
        return asyncio.run(_run(Path(directory), journeys, warmup, profiler, bot))


async def _run(
    directory: Path, journeys: int, warmup: int, profiler: cProfile.Profile | None, bot: str
) -> dict[str, Any]:
    counter: StoreCounter | None = None
    app: web.Application
    if bot == "echo":
        from bench.echo_bot import APP as app

        script = ECHO
    else:
        app = create_app(bench_settings(directory))
        counter = StoreCounter()
        counter.wrap(app[STORE])
        script = JOURNEY
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    router = ReplyRouter()
    connector = LocalConnector()
    service_url = await connector.start("127.0.0.1")
    connector.add_listener(router)
    bot_url = str(server.make_url("/api/messages"))
    run = _Run(script, counter)
    try:
        async with aiohttp.ClientSession() as http:
            for number in range(warmup):
                client = SimulatedClient(http, bot_url, service_url, router, seed=f"w{number}")
                await client.run(script, number)
            connector.clear()
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            try:
                for number in range(journeys):
                    client = SimulatedClient(http, bot_url, service_url, router, seed=f"m{number}")
                    run.results.append(await run.journey(client, number))
            finally:
                if profiler is not None:
                    profiler.disable()
            wall = time.perf_counter() - started
    finally:
        await connector.stop()
        await server.close()
    return run.summary(wall, bot)


class _Run:
    """Journeys one at a time, with what each turn cost and stored."""

    def __init__(self, script: tuple[Any, ...], counter: StoreCounter | None) -> None:
        self.script = script
        self.counter = counter
        self.per_step: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.results: list[JourneyResult] = []
        self.largest_reply: JsonDict | None = None
        self.inbound: JsonDict | None = None

    async def journey(self, client: SimulatedClient, number: int) -> JourneyResult:
        """Like ``SimulatedClient.run``, with the store calls of each turn noted."""
        result = JourneyResult(number)
        echo = self.script is ECHO
        counts = self.counter.counts if self.counter else Counter()
        written = self.counter.state_bytes_written if self.counter else []
        replies: list[JsonDict] = []
        try:
            for step in self.script:
                before = counts.copy()
                sizes_before = len(written)
                started = time.perf_counter()
                replies = await client.turn(step, result, echo=echo)
                elapsed = time.perf_counter() - started
                sizes = [json_size(reply) for reply in replies]
                for reply, size in zip(replies, sizes, strict=True):
                    if self.largest_reply is None or size > json_size(self.largest_reply):
                        self.largest_reply = reply
                if step.action == "click":
                    self.inbound = client.last_posted
                self.per_step[step.name].append(
                    {
                        "ms": 1000 * elapsed,
                        "calls": dict(counts - before),
                        "state_bytes": written[sizes_before:],
                        "reply_bytes": sum(sizes),
                        "replies": len(replies),
                    }
                )
            result.ok = echo or reached_summary(replies)
            if not result.ok:
                result.failure = "the last turn did not send the summary card"
        except Exception as error:  # a benchmark reports, it does not crash half-way
            result.failure = f"{type(error).__name__}: {error}"
        finally:
            json_bytes, wire_bytes, activities = client.router.forget(client.conversation_id)
            result.reply_json_bytes, result.reply_wire_bytes = json_bytes, wire_bytes
            result.reply_activities = activities
        return result

    def summary(self, wall: float, bot: str) -> dict[str, Any]:
        steps = [
            _step_summary(step.name, self.per_step[step.name])
            for step in self.script
            if self.per_step.get(step.name)
        ]
        results = self.results
        turns = sum(len(r.turns) for r in results)
        ok = [r for r in results if r.ok]
        steady = [s for s in steps if s["step"] != "install"]
        return {
            "bot": bot,
            "journeys": len(results),
            "journeys_ok": len(ok),
            "failures": [r.failure for r in results if not r.ok][:5],
            "turns": turns,
            "wall_seconds": wall,
            "ms_per_turn": 1000 * wall / turns if turns else None,
            "steps": steps,
            "reads_per_turn": _mean(s["reads_total"] for s in steps),
            "writes_per_turn": _mean(s["writes_total"] for s in steps),
            "steady_state_max_state_reads": max((s["state_reads"] for s in steady), default=0),
            "steady_state_max_state_writes": max((s["state_writes"] for s in steady), default=0),
            "steady_state_max_store_calls": max(
                (s["reads_total"] + s["writes_total"] for s in steady), default=0
            ),
            "state_bytes_peak": max((s["state_bytes_max"] for s in steps), default=0),
            "reply_bytes_per_journey": _mean(r.reply_json_bytes for r in ok),
            "samples": {
                "state": self.counter.largest_state if self.counter else None,
                "reply": self.largest_reply,
                "inbound": self.inbound,
            },
        }


def _mean(values: Any) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _step_summary(name: str, samples: list[dict[str, Any]]) -> dict[str, Any]:
    calls: Counter[tuple[str, str]] = Counter()
    for sample in samples:
        calls.update(sample["calls"])
    n = len(samples)
    ordered = sorted(calls.items())
    reads = {f"{op}:{kind}": count / n for (op, kind), count in ordered if op in READS}
    writes = {f"{op}:{kind}": count / n for (op, kind), count in ordered if op in WRITES}
    state = f":{STATE_KIND}"
    return {
        "step": name,
        "samples": n,
        "ms_mean": sum(s["ms"] for s in samples) / n,
        "reads": reads,
        "writes": writes,
        "reads_total": sum(reads.values()),
        "writes_total": sum(writes.values()),
        "state_reads": sum(v for k, v in reads.items() if k.endswith(state)),
        "state_writes": sum(v for k, v in writes.items() if k.endswith(state)),
        "state_bytes_max": max((size for s in samples for size in s["state_bytes"]), default=0),
        "reply_bytes_mean": sum(s["reply_bytes"] for s in samples) / n,
        "replies_mean": sum(s["replies"] for s in samples) / n,
    }


def describe_steps(summary: dict[str, Any]) -> str:
    """A table: wall time, store calls, state size and reply bytes per journey step."""
    lines = [
        f"{'step':<18} {'ms':>6} {'reads':>5} {'writes':>6} {'state r/w':>9} "
        f"{'state B':>7} {'reply B':>7}  calls",
    ]
    for s in summary["steps"]:
        calls = ", ".join(
            f"{name}×{count:g}" for name, count in {**s["reads"], **s["writes"]}.items()
        )
        lines.append(
            f"{s['step']:<18} {s['ms_mean']:>6.1f} {s['reads_total']:>5g} {s['writes_total']:>6g} "
            f"{s['state_reads']:>4g}/{s['state_writes']:<4g} {s['state_bytes_max']:>7} "
            f"{s['reply_bytes_mean']:>7.0f}  {calls}"
        )
    if summary["bot"] == "ours":
        lines.append(
            f"per turn: {summary['reads_per_turn']:.2f} reads, "
            f"{summary['writes_per_turn']:.2f} writes;"
            f" steady-state max {summary['steady_state_max_state_reads']:g} state read(s),"
            f" {summary['steady_state_max_state_writes']:g} state write(s),"
            f" {summary['steady_state_max_store_calls']:g} store calls;"
            f" peak state {summary['state_bytes_peak']} B;"
            f" replies {summary['reply_bytes_per_journey'] or 0:.0f} B per journey"
        )
    return "\n".join(lines)
