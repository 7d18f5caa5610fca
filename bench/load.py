"""HTTP load generator: N simulated Teams clients through the whole journey, C at a time.

    python -m bench.load --bot-url http://127.0.0.1:3978/api/messages --clients 200 \\
        --concurrency 50 [--scenario journey|echo] [--bot-pid PID] [--out results.json]

The bot's replies go to an in-process ``LocalConnector`` whose URL is every activity's
``serviceUrl``. Latency is the time from the POST to the HTTP response (the bot answers after
its turn, i.e. after its replies reached the connector). Only loopback bots are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp

from bench.journey import SCRIPTS, JourneyResult, ReplyRouter, SimulatedClient
from bench.measure import ProcessSample, latency_summary, sample_process, system_busy_seconds
from bot.config import is_loopback
from bot.devtools.connector_standin import LocalConnector

CLEAR_CONNECTOR_EVERY = 200  # journeys; the connector keeps every call it accepted


@dataclass(frozen=True)
class LoadOptions:
    """One load phase; ``bot_pid`` (a local process) adds its CPU time and peak memory."""

    bot_url: str
    clients: int
    concurrency: int
    scenario: str = "journey"
    label: str = ""
    storage_label: str = ""
    bot_pid: int | None = None
    warmup: int = 2
    time_limit: float = 900.0
    request_timeout: float = 60.0
    think_ms: float = 0.0


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if not is_loopback(host):
        raise SystemExit(f"refusing to load {url}: only loopback bots (127.0.0.1) are allowed")


async def run_load(options: LoadOptions) -> dict[str, Any]:
    """Warm up, then drive ``clients`` journeys with at most ``concurrency`` in flight."""
    check_loopback(options.bot_url)
    script = SCRIPTS[options.scenario]
    router = ReplyRouter()
    run_id = uuid.uuid4().hex[:8]
    connector = LocalConnector()
    service_url = await connector.start("127.0.0.1")
    connector.add_listener(router)
    limits = aiohttp.TCPConnector(limit=options.concurrency + 4, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=options.request_timeout)
    try:
        async with aiohttp.ClientSession(connector=limits, timeout=timeout) as http:

            def client(seed: str) -> SimulatedClient:
                return SimulatedClient(http, options.bot_url, service_url, router, seed=seed)

            warmups = [
                await client(f"{run_id}:warmup:{n}").run(script, n) for n in range(options.warmup)
            ]
            warmup_failures = [w.failure for w in warmups if not w.ok]
            connector.clear()

            results: list[JourneyResult] = []
            pending = iter(range(options.clients))

            think = think_time(options.think_ms)
            arrivals = random.Random(2)

            async def worker() -> None:
                for index in pending:
                    if think is not None:  # clients arrive spread out, not all at one instant
                        await asyncio.sleep(arrivals.uniform(0, 2 * options.think_ms / 1000))
                    results.append(await client(f"{run_id}:{index}").run(script, index, think))
                    if len(results) % CLEAR_CONNECTOR_EVERY == 0:
                        connector.clear()

            before = sample_process(options.bot_pid) if options.bot_pid else None
            cpu_before = time.process_time()
            busy_before = system_busy_seconds()
            started = time.perf_counter()
            timed_out = False
            workers = [asyncio.create_task(worker()) for _ in range(options.concurrency)]
            try:
                async with asyncio.timeout(options.time_limit):
                    await asyncio.gather(*workers)
            except TimeoutError:
                timed_out = True
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
            wall = time.perf_counter() - started
            loadgen_cpu = time.process_time() - cpu_before
            busy = system_busy_seconds() - busy_before
            after = sample_process(options.bot_pid) if options.bot_pid else None
    finally:
        await connector.stop()
    return summarise(
        options,
        results,
        wall=wall,
        loadgen_cpu=loadgen_cpu,
        busy=busy,
        before=before,
        after=after,
        timed_out=timed_out,
        warmup_failures=warmup_failures,
        turns_per_journey=len(script),
    )


def think_time(mean_ms: float) -> Callable[[], float] | None:
    """Pauses between a client's turns, uniform in ±50 % of the mean; the same every run."""
    if mean_ms <= 0:
        return None
    jitter = random.Random(1)
    mean = mean_ms / 1000
    return lambda: jitter.uniform(0.5 * mean, 1.5 * mean)


def summarise(
    options: LoadOptions,
    results: list[JourneyResult],
    *,
    wall: float,
    loadgen_cpu: float,
    busy: float,
    before: ProcessSample | None,
    after: ProcessSample | None,
    timed_out: bool,
    warmup_failures: list[str | None],
    turns_per_journey: int,
) -> dict[str, Any]:
    """The JSON-ready result of one phase (latencies in ms, sizes in bytes)."""
    ok = [r for r in results if r.ok]
    failed = options.clients - len(ok)  # unfinished journeys (time limit) fail, too
    latencies = [turn.seconds for r in results for turn in r.turns]
    ok_turns = sum(len(r.turns) for r in ok)
    by_step: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for turn in r.turns:
            by_step[turn.step].append(turn.seconds)
    failures: dict[str, int] = defaultdict(int)
    for r in results:
        if not r.ok:
            failures[r.failure or "unknown"] += 1
    if timed_out:
        failures[f"not finished within {options.time_limit:g}s"] += options.clients - len(results)
    bot: dict[str, Any] | None = None
    bot_cpu = 0.0
    if after is not None:
        cpu = bot_cpu = after.cpu_seconds - (before.cpu_seconds if before else 0.0)
        main = after.main_thread_cpu_seconds - (before.main_thread_cpu_seconds if before else 0.0)
        turns = len(latencies)
        bot = {
            "pid": options.bot_pid,
            "cpu_seconds": cpu,
            "cpu_ms_per_turn": 1000 * cpu / turns if turns else None,
            # the event loop's thread; the rest is worker threads (the SDK sends replies with
            # requests in the default executor; aiosqlite runs queries in its own thread)
            "main_thread_cpu_ms_per_turn": 1000 * main / turns if turns else None,
            "other_threads_cpu_ms_per_turn": 1000 * (cpu - main) / turns if turns else None,
            "cpu_utilisation": cpu / wall if wall else None,
            "rss_kb": after.rss_kb,
            "peak_rss_kb": after.peak_rss_kb,
        }
    return {
        "label": options.label or options.scenario,
        "scenario": options.scenario,
        "storage": options.storage_label or None,
        "bot_url": options.bot_url,
        "clients": options.clients,
        "concurrency": options.concurrency,
        "think_ms": options.think_ms,
        "turns_per_journey": turns_per_journey,
        "warmup_journeys": options.warmup,
        "warmup_failures": [f for f in warmup_failures if f],
        "journeys_ok": len(ok),
        "journeys_failed": failed,
        "failures": dict(sorted(failures.items(), key=lambda item: -item[1])[:10]),
        "turns": len(latencies),
        "turns_ok": ok_turns,
        "non_2xx": sum(1 for r in results for t in r.turns if t.status not in (200, 201)),
        "wall_seconds": wall,
        "turns_per_second": ok_turns / wall if wall else 0.0,
        "journeys_per_second": len(ok) / wall if wall else 0.0,
        "latency_ms": latency_summary(latencies),
        "latency_by_step_ms": {step: latency_summary(values) for step, values in by_step.items()},
        "reply_bytes_per_journey": _per_journey(ok, "reply_json_bytes"),
        "reply_wire_bytes_per_journey": _per_journey(ok, "reply_wire_bytes"),
        "reply_activities_per_journey": _per_journey(ok, "reply_activities"),
        "storage_ops_per_turn": None,
        "storage_ops_note": "not visible over HTTP; python -m bench.profile counts them in-process",
        "bot_process": bot,
        "loadgen_cpu_seconds": loadgen_cpu,
        "loadgen_cpu_utilisation": loadgen_cpu / wall if wall else None,
        # Busy CPU of the whole machine that was neither the bot nor this process: other work
        # running at the same time skews the numbers (with no --bot-pid the bot counts here).
        "other_cpu_utilisation": max(0.0, busy - bot_cpu - loadgen_cpu) / wall if wall else None,
    }


def _per_journey(results: list[JourneyResult], name: str) -> dict[str, float] | None:
    values = [getattr(r, name) for r in results]
    if not values:
        return None
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values)}


def describe(result: dict[str, Any]) -> str:
    """A few human-readable lines."""
    lat = result["latency_ms"]
    lines = [
        f"{result['label']}: {result['clients']} clients, concurrency {result['concurrency']}, "
        f"{result['turns_per_journey']} turns each"
        + (f", think time {result['think_ms']:g} ms" if result["think_ms"] else ""),
        f"  journeys ok {result['journeys_ok']}, failed {result['journeys_failed']}"
        + (f"  {result['failures']}" if result["failures"] else ""),
        f"  {result['turns_per_second']:.1f} turns/s over {result['wall_seconds']:.1f}s",
    ]
    if lat.get("count"):
        lines.append(
            f"  latency ms: mean {lat['mean']:.1f}  p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}"
            f"  p99 {lat['p99']:.1f}  max {lat['max']:.1f}"
        )
    if result["reply_bytes_per_journey"]:
        per = result["reply_bytes_per_journey"]
        lines.append(f"  reply bytes per journey: mean {per['mean']:.0f} (compact JSON)")
    bot = result["bot_process"]
    if bot:
        lines.append(
            f"  bot process: {bot['cpu_ms_per_turn']:.2f} CPU ms/turn "
            f"({bot['main_thread_cpu_ms_per_turn']:.2f} in the event loop's thread), "
            f"CPU {100 * bot['cpu_utilisation']:.0f}%, peak RSS {bot['peak_rss_kb'] / 1024:.1f} MiB"
        )
    lines.append(
        f"  load generator CPU {100 * result['loadgen_cpu_utilisation']:.0f}%, "
        f"other processes {100 * result['other_cpu_utilisation']:.0f}% (of one core)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--bot-url", required=True, help="e.g. http://127.0.0.1:3978/api/messages")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--scenario", choices=sorted(SCRIPTS), default="journey")
    parser.add_argument("--storage-label", default="", help="recorded in the results, e.g. sqlite")
    parser.add_argument("--label", default="")
    parser.add_argument("--bot-pid", type=int, help="read CPU and VmHWM of this local process")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured journeys first")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds for the run")
    parser.add_argument("--request-timeout", type=float, default=60.0)
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause of a client between its turns, uniform ±50%% (0: none); clients then"
        " also start at random offsets within twice that",
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.concurrency < 1:
        parser.error("--clients and --concurrency must be at least 1")
    options = LoadOptions(
        bot_url=args.bot_url,
        clients=args.clients,
        concurrency=min(args.concurrency, args.clients),
        scenario=args.scenario,
        label=args.label,
        storage_label=args.storage_label,
        bot_pid=args.bot_pid,
        warmup=args.warmup,
        time_limit=args.time_limit,
        request_timeout=args.request_timeout,
        think_ms=args.think_ms,
    )
    result = asyncio.run(run_load(options))
    print(describe(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["journeys_failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
