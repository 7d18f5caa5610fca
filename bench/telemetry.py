"""What exporting telemetry costs a turn: our bot under the same load with telemetry off,
exported to Application Insights (the Azure Monitor distro) and exported over OTLP.

    python -m bench.telemetry [--clients 150] [--concurrency 20] [--rounds 3]

Both exporters send to a loopback sink in this process (it answers like the real services
and counts what arrives), so the bot's CPU includes building, batching, serialising and
posting every span and metric. The modes alternate within each round; the table shows the
median CPU per turn of each mode and its overhead against "off" (target: under 5 % with the
default sampling, at most five traced turns a second; "every turn" traces all of them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.load import LoadOptions
from bench.run import Server, base_env, bench_server, free_port

OVERHEAD_TARGET = 0.05
INSTRUMENTATION_KEY = "5a9f1c3e-7b2d-4e8f-9a1c-3d5e7f9b1c2d"


class Sink:
    """Accepts the Azure Monitor exporter's and the OTLP exporter's posts on loopback."""

    def __init__(self) -> None:
        self.posts = 0
        self.bytes = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v2.1/track", self._track)
        app.router.add_post("/v1/{signal}", self._otlp)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _track(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.posts += 1
        self.bytes += len(body)
        return web.json_response({"itemsReceived": 1, "itemsAccepted": 1, "errors": []})

    async def _otlp(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.posts += 1
        self.bytes += len(body)
        return web.Response(body=b"", content_type="application/x-protobuf")


MODES = ("off", "azure-monitor", "otlp")
EVERY_TURN = "azure-monitor, every turn"


def mode_env(mode: str, sink: Sink) -> dict[str, str]:
    origin = f"http://127.0.0.1:{sink.port}"
    if mode == EVERY_TURN:
        return {**mode_env("azure-monitor", sink), "OTEL_TRACES_SAMPLER": "always_on"}
    if mode == "azure-monitor":
        return {
            "APPLICATIONINSIGHTS_CONNECTION_STRING": (
                f"InstrumentationKey={INSTRUMENTATION_KEY};IngestionEndpoint={origin}"
            ),
            "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        }
    if mode == "otlp":
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": origin}
    return {}


async def one_phase(mode: str, clients: int, concurrency: int, sink: Sink) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as directory:
        workdir = Path(directory)
        port = free_port()
        env = base_env(port)
        env.update(
            BOT_STORAGE=f"sqlite:///{workdir / 'bot.db'}",
            BOT_UPLOAD_DIR=str(workdir / "uploads"),
            **mode_env(mode, sink),
        )
        for name in (
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_TRACES_SAMPLER",
        ):
            if name not in mode_env(mode, sink):
                env.pop(name, None)
        server = Server(mode, [sys.executable, "-m", "bot"], env, "/healthz", lambda s: s == 200)
        options = LoadOptions(
            bot_url=f"http://127.0.0.1:{port}/api/messages",
            clients=clients,
            concurrency=concurrency,
            label=mode,
        )
        posts_before = sink.posts
        result = await bench_server(server, port, workdir, workdir / "bot.log", options)
        result["sink_posts"] = sink.posts - posts_before
        return result


async def run(clients: int, concurrency: int, rounds: int, every_turn: bool) -> dict[str, Any]:
    sink = Sink()
    await sink.start()
    samples: dict[str, list[float]] = {
        mode: [] for mode in (*MODES, EVERY_TURN) if mode in MODES or every_turn
    }
    posts: dict[str, int] = dict.fromkeys(samples, 0)
    try:
        for number in range(1, rounds + 1):
            for mode in samples:
                print(f"round {number}/{rounds}: {mode} …", flush=True)
                result = await one_phase(mode, clients, concurrency, sink)
                if result["journeys_failed"]:
                    raise SystemExit(f"{mode}: {result['journeys_failed']} journeys failed")
                samples[mode].append(result["bot_process"]["cpu_ms_per_turn"])
                posts[mode] += result["sink_posts"]
    finally:
        await sink.stop()
    off = statistics.median(samples["off"])
    modes = {
        mode: {
            "cpu_ms_per_turn_median": statistics.median(values),
            "cpu_ms_per_turn": values,
            "overhead": statistics.median(values) / off - 1,
            "posts_received": posts[mode],
        }
        for mode, values in samples.items()
    }
    return {"clients": clients, "concurrency": concurrency, "rounds": rounds, "modes": modes}


def table(report: dict[str, Any]) -> str:
    lines = ["mode                       CPU ms/turn (median)   overhead   posts to the sink"]
    for mode, values in report["modes"].items():
        overhead = "" if mode == "off" else f"{values['overhead']:+.1%}"
        verdict = (
            "" if mode == "off" else (" PASS" if values["overhead"] < OVERHEAD_TARGET else " FAIL")
        )
        lines.append(
            f"{mode:<26} {values['cpu_ms_per_turn_median']:>10.2f}"
            f"            {overhead:>7}{verdict:<5} {values['posts_received']:>6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.telemetry", description=__doc__)
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--every-turn", action="store_true", help="also trace every turn (OTEL_TRACES_SAMPLER)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/telemetry.json"))
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.clients, args.concurrency, args.rounds, args.every_turn))
    print(table(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
