"""One benchmark run: our bot against the SDK's bare echo bot, on this machine.

    python -m bench.run [--clients 200] [--concurrency 200] [--quick] [--repeat 3]
        [--think-ms 0] [--strict] [--out bench/results/latest.json]

1. starts ``python -m bot`` (SQLite in a temporary directory, a free loopback port), waits for
   ``/healthz``, drives the whole journey with ``bench.load``, stops it and measures the
   stored documents in its SQLite file;
2. starts ``python -m bench.echo_bot`` and drives the same number of turns per client through it;
3. counts storage calls per turn and the peak state size in-process (``bench.inprocess``);
4. prints a table with the targets marked PASS/FAIL and writes ``bench/results/latest.json``.

Everything listens on and talks to 127.0.0.1 only; every wait has a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import aiohttp

from bench.inprocess import describe_steps, measure_inprocess
from bench.load import LoadOptions, run_load
from bench.measure import system_busy_seconds

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "latest.json"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 15.0

RATIO_TARGET = 0.5
P99_TARGET_MS = 250.0
P99_TARGET_CONCURRENCY = 200
STATE_TARGET_BYTES = 8 * 1024
STATE_CALLS_TARGET = 1
OTHER_CPU_WARNING = 0.10


@dataclass(frozen=True)
class Server:
    """How to start one bot and how to tell that it is up."""

    label: str
    command: list[str]
    env: dict[str, str]
    ready_path: str
    ready: Callable[[int], bool]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def base_env(port: int) -> dict[str, str]:
    """The caller's environment without Bot Framework credentials: local mode, loopback."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.lower().startswith("microsoftapp")
    }
    env.update(
        PORT=str(port),
        HOST="127.0.0.1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    return env


def _open_log(path: Path) -> IO[bytes]:
    return path.open("wb")


async def _wait_until_ready(
    process: asyncio.subprocess.Process, url: str, ready: Callable[[int], bool]
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"exited with {process.returncode} before it was ready")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(url) as response:
                    if ready(response.status):
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"not ready within {STARTUP_SECONDS:g}s")


async def _stop(process: asyncio.subprocess.Process) -> int | None:
    """Ctrl+C first (aiohttp then runs the app's cleanup), then terminate, then kill."""
    for stop in (lambda: process.send_signal(signal.SIGINT), process.terminate, process.kill):
        if process.returncode is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
    return process.returncode


async def bench_server(
    server: Server, port: int, workdir: Path, log_path: Path, options: LoadOptions
) -> dict[str, Any]:
    """Start the server, load it, stop it; the load result plus how the server ended."""
    log = _open_log(log_path)
    try:
        process = await asyncio.create_subprocess_exec(
            *server.command,
            cwd=workdir,
            env=server.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            await _wait_until_ready(
                process, f"http://127.0.0.1:{port}{server.ready_path}", server.ready
            )
            result = await run_load(replace(options, bot_pid=process.pid))
        finally:
            exit_code = await _stop(process)
    finally:
        log.close()
    result["server_exit_code"] = exit_code
    return result


def wait_until_quiet(max_seconds: float, threshold: float = OTHER_CPU_WARNING) -> float:
    """Wait (at most ``max_seconds``) until the machine's busy CPU over one second is below
    ``threshold`` of a core; returns the last level measured."""
    deadline = time.monotonic() + max_seconds
    while True:
        before = system_busy_seconds()
        time.sleep(1.0)
        level = system_busy_seconds() - before
        if level < threshold or time.monotonic() >= deadline:
            return level


def stored_documents(database: Path) -> dict[str, Any]:
    """Sizes of the stored JSON bodies per kind (bytes of UTF-8, i.e. ``CAST(body AS BLOB)``)."""
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT kind, partition, length(CAST(body AS BLOB)), length(body) FROM documents"
        ).fetchall()
    finally:
        connection.close()
    kinds: dict[str, list[int]] = {}
    characters: dict[str, int] = {}
    for kind, _partition, size, chars in rows:
        kinds.setdefault(kind, []).append(size)
        characters[kind] = max(characters.get(kind, 0), chars)
    per_kind = {
        kind: {
            "count": len(sizes),
            "mean_bytes": sum(sizes) / len(sizes),
            "max_bytes": max(sizes),
            "max_chars": characters[kind],
        }
        for kind, sizes in sorted(kinds.items())
    }
    conversations = len(kinds.get("state", []))
    per_client = sum(sum(sizes) for kind, sizes in kinds.items() if kind != "stats")
    files = [database, Path(f"{database}-wal")]
    return {
        "per_kind": per_kind,
        "conversations": conversations,
        "bytes_per_client_all_kinds": per_client / conversations if conversations else None,
        "database_file_bytes": sum(p.stat().st_size for p in files if p.exists()),
    }


def git_revision() -> dict[str, Any]:
    """Which code was measured (read-only git calls)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    changed = git("status", "--porcelain", "--", "bot", "dialogs", "cards")
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_bot_changes": changed}


def verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a "}[passed]


def evaluate(ours: dict[str, Any], echo: dict[str, Any], inproc: dict[str, Any]) -> dict[str, Any]:
    """Ratios against the echo bot and the four targets."""
    mean_ratio = ours["latency_ms"]["mean"] / echo["latency_ms"]["mean"]
    p50_ratio = ours["latency_ms"]["p50"] / echo["latency_ms"]["p50"]
    cpu_ratio = None
    if ours["bot_process"] and echo["bot_process"]:
        cpu_ratio = ours["bot_process"]["cpu_ms_per_turn"] / echo["bot_process"]["cpu_ms_per_turn"]
    p99 = ours["latency_ms"]["p99"]
    at_target_load = ours["concurrency"] >= P99_TARGET_CONCURRENCY
    stored_state = ours["stored"]["per_kind"].get("state", {}).get("max_bytes", 0)
    peak_state = max(stored_state, inproc["state_bytes_peak"])
    valid = (
        ours["journeys_failed"] == 0
        and echo["journeys_failed"] == 0
        and inproc["journeys_ok"] == inproc["journeys"]
    )
    targets = [
        {
            "target": f"mean turn latency ≤ {RATIO_TARGET} × echo bot",
            "value": f"{mean_ratio:.2f} ({ours['latency_ms']['mean']:.1f} / "
            f"{echo['latency_ms']['mean']:.1f} ms)",
            "passed": mean_ratio <= RATIO_TARGET,
        },
        {
            "target": f"p50 turn latency ≤ {RATIO_TARGET} × echo bot",
            "value": f"{p50_ratio:.2f} ({ours['latency_ms']['p50']:.1f} / "
            f"{echo['latency_ms']['p50']:.1f} ms)",
            "passed": p50_ratio <= RATIO_TARGET,
        },
        {
            "target": f"p99 < {P99_TARGET_MS:g} ms at {P99_TARGET_CONCURRENCY} concurrent",
            "value": f"{p99:.1f} ms at {ours['concurrency']} concurrent"
            + (f", think time {ours['think_ms']:g} ms" if ours["think_ms"] else ""),
            "passed": (p99 < P99_TARGET_MS) if at_target_load else None,
        },
        {
            "target": f"state ≤ {STATE_TARGET_BYTES // 1024} KB per conversation",
            "value": f"{peak_state} B max (stored after the journey {stored_state} B, "
            f"peak during it {inproc['state_bytes_peak']} B)",
            "passed": peak_state <= STATE_TARGET_BYTES,
        },
        {
            "target": "≤ 1 state read and ≤ 1 state write per steady-state turn",
            "value": f"{inproc['steady_state_max_state_reads']:g} read(s), "
            f"{inproc['steady_state_max_state_writes']:g} write(s) at most",
            "passed": inproc["steady_state_max_state_reads"] <= STATE_CALLS_TARGET
            and inproc["steady_state_max_state_writes"] <= STATE_CALLS_TARGET,
        },
    ]
    return {
        "valid": valid,
        "mean_latency_ratio": mean_ratio,
        "p50_latency_ratio": p50_ratio,
        "cpu_per_turn_ratio": cpu_ratio,
        "targets": targets,
    }


def table(report: dict[str, Any]) -> str:
    ours, echo = report["ours"], report["echo"]
    inproc, comparison = report["inprocess"], report["comparison"]

    def row(name: str, left: str, right: str = "", ratio: str = "") -> str:
        return f"  {name:<30} {left:>16} {right:>16} {ratio:>8}"

    def lat(result: dict[str, Any], key: str) -> str:
        return f"{result['latency_ms'][key]:.1f}"

    def cpu(result: dict[str, Any]) -> str:
        bot = result["bot_process"]
        return f"{bot['cpu_ms_per_turn']:.2f}" if bot else "?"

    def thread(result: dict[str, Any], key: str) -> str:
        bot = result["bot_process"]
        return f"{bot[key]:.2f}" if bot else "?"

    def peak(result: dict[str, Any]) -> str:
        bot = result["bot_process"]
        return f"{bot['peak_rss_kb'] / 1024:.1f}" if bot else "?"

    cpu_ratio = comparison["cpu_per_turn_ratio"]
    lines = [
        f"Benchmark {report['date']}  ({report['machine']['cpus']} CPUs, "
        f"Python {report['machine']['python']}, commit {report['git']['commit']}, "
        f"load average before {report['machine']['loadavg_before'][0]:.2f})",
        f"{ours['clients']} clients, concurrency {ours['concurrency']}, "
        f"{ours['turns_per_journey']} turns per client, "
        + (f"think time {ours['think_ms']:g} ms ±50 %" if ours["think_ms"] else "back to back"),
        "",
        row("", "ours (sqlite)", "echo bot", "ratio"),
        row(
            "journeys ok / failed",
            f"{ours['journeys_ok']} / {ours['journeys_failed']}",
            f"{echo['journeys_ok']} / {echo['journeys_failed']}",
        ),
        row(
            "turns per second", f"{ours['turns_per_second']:.1f}", f"{echo['turns_per_second']:.1f}"
        ),
        row(
            "turn latency mean ms",
            lat(ours, "mean"),
            lat(echo, "mean"),
            f"{comparison['mean_latency_ratio']:.2f}",
        ),
        row(
            "turn latency p50 ms",
            lat(ours, "p50"),
            lat(echo, "p50"),
            f"{comparison['p50_latency_ratio']:.2f}",
        ),
        row("turn latency p95 ms", lat(ours, "p95"), lat(echo, "p95")),
        row("turn latency p99 ms", lat(ours, "p99"), lat(echo, "p99")),
        row("turn latency max ms", lat(ours, "max"), lat(echo, "max")),
        row(
            "bot CPU ms per turn",
            cpu(ours),
            cpu(echo),
            f"{cpu_ratio:.2f}" if cpu_ratio is not None else "",
        ),
        row(
            "  of which event-loop thread",
            thread(ours, "main_thread_cpu_ms_per_turn"),
            thread(echo, "main_thread_cpu_ms_per_turn"),
        ),
        row(
            "  of which worker threads",
            thread(ours, "other_threads_cpu_ms_per_turn"),
            thread(echo, "other_threads_cpu_ms_per_turn"),
        ),
        row("bot peak memory MiB (VmHWM)", peak(ours), peak(echo)),
        row(
            "reply bytes per journey",
            f"{ours['reply_bytes_per_journey']['mean']:.0f}"
            if ours["reply_bytes_per_journey"]
            else "?",
            f"{echo['reply_bytes_per_journey']['mean']:.0f}"
            if echo["reply_bytes_per_journey"]
            else "?",
        ),
        row(
            "load generator CPU (of a core)",
            f"{100 * ours['loadgen_cpu_utilisation']:.0f}%",
            f"{100 * echo['loadgen_cpu_utilisation']:.0f}%",
        ),
        row(
            "bot CPU (of a core)",
            f"{100 * ours['bot_process']['cpu_utilisation']:.0f}%" if ours["bot_process"] else "?",
            f"{100 * echo['bot_process']['cpu_utilisation']:.0f}%" if echo["bot_process"] else "?",
        ),
        row(
            "other processes' CPU",
            f"{100 * ours['other_cpu_utilisation']:.0f}%",
            f"{100 * echo['other_cpu_utilisation']:.0f}%",
        ),
        "",
        "Stored documents after the run (SQLite, bytes of JSON):",
    ]
    for kind, stats in ours["stored"]["per_kind"].items():
        lines.append(
            f"  {kind:<14} {stats['count']:>6} docs   mean {stats['mean_bytes']:>7.0f} B"
            f"   max {stats['max_bytes']:>6} B"
        )
    lines.append(
        f"  all kinds per client: {ours['stored']['bytes_per_client_all_kinds']:.0f} B"
        if ours["stored"]["bytes_per_client_all_kinds"]
        else "  no state stored"
    )
    lines += [
        "",
        "Storage calls per turn (in-process, one journey at a time):",
        describe_steps(inproc),
    ]
    if len(report["rounds"]) > 1:
        lines += ["", f"Rounds (the table shows round {report['median_round']}, the median):"]
        for number, r in enumerate(report["rounds"], start=1):
            cpu_ratio_text = f"{r['cpu_per_turn_ratio']:.2f}" if r["cpu_per_turn_ratio"] else "?"
            lines.append(
                f"  {number}: ratio mean {r['mean_latency_ratio']:.2f}, "
                f"p50 {r['p50_latency_ratio']:.2f}, CPU {cpu_ratio_text}; "
                f"ours p99 {r['ours_p99_ms']:.0f} ms; other CPU "
                f"{100 * r['other_cpu'][0]:.0f}% / {100 * r['other_cpu'][1]:.0f}%"
            )
    lines += ["", "Targets:"]
    for target in comparison["targets"]:
        lines.append(f"  [{verdict(target['passed'])}] {target['target']}: {target['value']}")
    if not comparison["valid"]:
        lines.append("  INVALID RUN: some journeys failed; see 'failures' in the JSON")
    busiest = max(ours["other_cpu_utilisation"] or 0, echo["other_cpu_utilisation"] or 0)
    if busiest > OTHER_CPU_WARNING:
        lines.append(
            f"  WARNING: other processes used up to {100 * busiest:.0f}% of a core during the"
            " run; the numbers are skewed. Run again on a quiet machine."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--clients", type=int, help="simulated clients (default 200, quick 40)")
    parser.add_argument("--concurrency", type=int, help="in flight (default 200, quick 20)")
    parser.add_argument("--quick", action="store_true", help="a short run to check the setup")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured journeys per bot")
    parser.add_argument("--inprocess-journeys", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds per load phase")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause of each client between turns, uniform ±50%% (default 0: back to back);"
        " clients then also start at random offsets within twice that",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of (our bot, echo bot); the round with the median mean-latency ratio"
        " is reported (use 3 or 5 on a machine shared with other work)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="before each bot, wait up to this many seconds for other CPU use to stop",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    clients = args.clients or (40 if args.quick else 200)
    concurrency = min(args.concurrency or (20 if args.quick else 200), clients)
    revision = git_revision()  # what the bot processes below will load
    load_before = os.getloadavg()

    rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for number in range(1, args.repeat + 1):
        if args.repeat > 1:
            print(f"round {number} of {args.repeat}", flush=True)
        pair = one_round(clients, concurrency, args)
        if pair is None:
            return 2
        rounds.append(pair)
    ratios = [ours["latency_ms"]["mean"] / echo["latency_ms"]["mean"] for ours, echo in rounds]
    median = sorted(range(len(rounds)), key=ratios.__getitem__)[len(rounds) // 2]
    ours, echo = rounds[median]

    print("counting storage calls in-process …", flush=True)
    inproc = measure_inprocess(args.inprocess_journeys)
    inproc.pop("samples", None)
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "git": revision,
        "options": {
            "clients": clients,
            "concurrency": concurrency,
            "quick": args.quick,
            "think_ms": args.think_ms,
        },
        "ours": ours,
        "echo": echo,
        "inprocess": inproc,
        "rounds": [_round_summary(o, e) for o, e in rounds],
        "median_round": median + 1,
    }
    report["comparison"] = evaluate(ours, echo, inproc)
    report["comparison"]["valid"] &= all(not any(r["journeys_failed"]) for r in report["rounds"])
    print()
    print(table(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten to {args.out}")
    if not report["comparison"]["valid"]:
        return 2
    failed = any(t["passed"] is False for t in report["comparison"]["targets"])
    return 1 if args.strict and failed else 0


def one_round(
    clients: int, concurrency: int, args: Any
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Our bot (fresh SQLite file), then the echo bot; ``None`` if one did not start."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as directory:
        workdir = Path(directory)
        database = workdir / "bot.db"
        port = free_port()
        env = base_env(port)
        env.update(BOT_STORAGE=f"sqlite:///{database}", BOT_UPLOAD_DIR=str(workdir / "uploads"))
        ours_server = Server(
            "our bot", [sys.executable, "-m", "bot"], env, "/healthz", lambda status: status == 200
        )
        quiet_before = wait_until_quiet(args.quiet_wait)
        print(f"starting our bot on 127.0.0.1:{port} (SQLite in {workdir}) …", flush=True)
        ours = _phase(ours_server, port, workdir, "journey", clients, concurrency, args)
        if ours is None:
            return None
        ours["stored"] = stored_documents(database)
        ours["busy_cores_before"] = quiet_before

        port = free_port()
        echo_server = Server(
            "echo bot",
            [sys.executable, "-m", "bench.echo_bot"],
            base_env(port),
            "/api/messages",
            lambda status: status < 500,  # GET answers 405: the server is up
        )
        quiet_before = wait_until_quiet(args.quiet_wait)
        print(f"starting the SDK echo bot on 127.0.0.1:{port} …", flush=True)
        echo = _phase(echo_server, port, workdir, "echo", clients, concurrency, args)
        if echo is None:
            return None
        echo["busy_cores_before"] = quiet_before
    return ours, echo


def _round_summary(ours: dict[str, Any], echo: dict[str, Any]) -> dict[str, Any]:
    cpu = None
    if ours["bot_process"] and echo["bot_process"]:
        cpu = ours["bot_process"]["cpu_ms_per_turn"] / echo["bot_process"]["cpu_ms_per_turn"]
    return {
        "mean_latency_ratio": ours["latency_ms"]["mean"] / echo["latency_ms"]["mean"],
        "p50_latency_ratio": ours["latency_ms"]["p50"] / echo["latency_ms"]["p50"],
        "cpu_per_turn_ratio": cpu,
        "ours_mean_ms": ours["latency_ms"]["mean"],
        "ours_p99_ms": ours["latency_ms"]["p99"],
        "echo_mean_ms": echo["latency_ms"]["mean"],
        "ours_turns_per_second": ours["turns_per_second"],
        "other_cpu": [ours["other_cpu_utilisation"], echo["other_cpu_utilisation"]],
        "journeys_failed": [ours["journeys_failed"], echo["journeys_failed"]],
    }


def _phase(
    server: Server,
    port: int,
    workdir: Path,
    scenario: str,
    clients: int,
    concurrency: int,
    args: Any,
) -> dict[str, Any] | None:
    """Start, load and stop one bot; ``None`` (after saying why) if it did not come up."""
    log = workdir / f"{scenario}.log"
    options = LoadOptions(
        bot_url=f"http://127.0.0.1:{port}/api/messages",
        clients=clients,
        concurrency=concurrency,
        scenario=scenario,
        label="ours" if scenario == "journey" else "echo bot",
        storage_label="sqlite" if scenario == "journey" else "",
        warmup=args.warmup,
        time_limit=args.time_limit,
        think_ms=args.think_ms,
    )
    try:
        result = asyncio.run(bench_server(server, port, workdir, log, options))
    except RuntimeError as error:
        print(f"{server.label} did not start: {error}", file=sys.stderr)
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-20:]
            print("\n".join(tail), file=sys.stderr)
        return None
    result["server_log_errors"] = _count_errors(log)
    print(f"  done: {result['journeys_ok']} ok, {result['journeys_failed']} failed", flush=True)
    return result


def _count_errors(log: Path) -> int:
    """Lines the server logged at ERROR (ours) or tracebacks (the echo bot)."""
    if not log.exists():
        return 0
    text = log.read_text(errors="replace")
    return sum(" ERROR " in line or line.startswith("Traceback") for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
