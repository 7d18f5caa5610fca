"""Profile the journey in-process and count storage calls per turn.

    python -m bench.profile --turns 300 [--top 25] [--bot ours|echo] [--dump file.pstats]
        [--out profile.json] [--no-spot-checks]

``create_app`` runs on an aiohttp ``TestServer`` with a ``LocalConnector``; whole journeys run
one after another under cProfile (after one unmeasured warm-up journey). The simulated client
and the connector share the process, so asyncio/aiohttp entries include their share; the
bot's own request handling is ``bot/app.py:messages``. cProfile sees only the event loop's
thread: the SDK's reply sends (``requests`` in the default executor) and aiosqlite's queries run
in worker threads and show up as waiting. It also slows call-heavy code most, so the spot checks
at the end time the big items again without the profiler.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import pstats
import sys
import timeit
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.inprocess import describe_steps, measure_inprocess
from bench.journey import JOURNEY

FunctionKey = tuple[str, int, str]

#: Entries worth following per turn, matched on (path suffix, function name).
WATCHED: tuple[tuple[str, str, str], ...] = (
    ("bot/hosting/routes.py", "messages", "bot: whole request (POST /api/messages)"),
    ("bench/echo_bot.py", "messages", "echo bot: whole request (POST /api/messages)"),
    ("bot/hosting/request_checks.py", "read_activity", "  read + validate + deserialize activity"),
    ("bot/hosting/routes.py", "_authenticate", "  authenticate (anonymous, local mode)"),
    ("botbuilder/core/cloud_adapter_base.py", "process_activity", "  adapter.process_activity"),
    ("bot/hosting/activity_handler.py", "on_turn", "    VideoberatungBot.on_turn"),
    ("botbuilder/core/bot_state.py", "load", "      ConversationState.load"),
    ("bot/hosting/state_storage.py", "read", "        DocumentStateStorage.read"),
    ("botbuilder/core/bot_state.py", "save_changes", "      ConversationState.save_changes"),
    ("bot/hosting/state_storage.py", "write", "        DocumentStateStorage.write"),
    ("jsonpickle/unpickler.py", "restore", "        jsonpickle restore"),
    ("jsonpickle/pickler.py", "flatten", "        jsonpickle flatten"),
    ("botbuilder/core/activity_handler.py", "on_turn", "      ActivityHandler.on_turn"),
    ("bot/domain/profiles.py", "update", "        Profiles.update (progress)"),
    ("cards/__init__.py", "render", "        cards.render"),
    ("dialogs/question.py", "recognize_choice", "        recognize_choice (typed)"),
    ("botbuilder/core/turn_context.py", "send_activity", "        TurnContext.send_activity"),
    ("msrest/serialization.py", "body", "          msrest Serializer.body"),
    ("msrest/serialization.py", "deserialize", "          msrest deserialize (incl. inbound)"),
    ("msrest/universal_http/async_requests.py", "send", "          requests send (thread pool)"),
    ("bot/storage/sqlite.py", "get", "  sqlite get (await, incl. thread hop)"),
    ("bot/storage/sqlite.py", "replace", "  sqlite replace"),
    ("botframework/connector/aio/_connector_client_async.py", "__init__", "  new ConnectorClient"),
    ("botframework/connector/auth/_user_token_client_impl.py", "__init__", "  new UserTokenClient"),
    ("msrest/universal_http/requests.py", "<listcomp>", "    ClientRetryPolicy list of codes"),
)

PACKAGES = (
    ("/bot/", "bot"),
    ("/dialogs/", "dialogs"),
    ("/cards/", "cards"),
    ("/bench/", "bench (client side)"),
    ("botbuilder/dialogs", "botbuilder.dialogs"),
    ("botbuilder/", "botbuilder (core, schema, integration)"),
    ("botframework/", "botframework.connector"),
    ("msrest/", "msrest"),
    ("recognizers_text", "recognizers_text"),
    ("jsonpickle/", "jsonpickle"),
    ("aiosqlite/", "aiosqlite"),
    ("aiohttp/", "aiohttp (server and client)"),
    ("yarl/", "aiohttp (server and client)"),
    ("multidict/", "aiohttp (server and client)"),
    ("requests/", "requests/urllib3"),
    ("urllib3/", "requests/urllib3"),
    ("asyncio/", "asyncio"),
    ("json/", "json"),
    ("/copy.py", "copy.deepcopy"),
)


def short(key: FunctionKey) -> str:
    filename, line, name = key
    for marker in ("site-packages/", "/lib/python3.11/", str(Path.cwd()) + "/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({name})" if line else f"{filename}({name})"


def top_cumulative(stats: pstats.Stats, turns: int, count: int) -> list[dict[str, Any]]:
    entries = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    return [
        {
            "function": short(key),
            "calls": nc,
            "tottime_s": tt,
            "cumtime_s": ct,
            "cum_ms_per_turn": 1000 * ct / turns,
        }
        for key, (_cc, nc, tt, ct, _callers) in entries[:count]
    ]


def watched(stats: pstats.Stats, turns: int) -> list[dict[str, Any]]:
    rows = []
    table = stats.stats  # type: ignore[attr-defined]
    for suffix, name, label in WATCHED:
        matches = [
            values
            for (filename, _line, function), values in table.items()
            if function == name and filename.endswith(suffix)
        ]
        if not matches:
            continue
        calls = sum(values[1] for values in matches)
        cumulative = sum(values[3] for values in matches)
        rows.append(
            {
                "label": label,
                "calls_per_turn": calls / turns,
                "cum_ms_per_turn": 1000 * cumulative / turns,
            }
        )
    return rows


def by_package(stats: pstats.Stats, turns: int) -> dict[str, float]:
    """Own time (tottime) per package, ms per turn."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, name), values in stats.stats.items():  # type: ignore[attr-defined]
        group = "other"
        if filename == "~" and "poll" in name:
            group = "idle: event loop waiting (epoll)"
        elif filename == "~":
            group = "builtins/C (isinstance, dict, str, sqlite3 calls …)"
        else:
            for marker, name in PACKAGES:
                if marker in filename:
                    group = name
                    break
        totals[group] += values[2]
    return {
        name: 1000 * seconds / turns
        for name, seconds in sorted(totals.items(), key=lambda item: -item[1])
    }


def timed(label: str, function: Callable[[], object]) -> dict[str, Any]:
    """Microseconds per call: the best of three ``autorange`` rounds, without the profiler."""
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    best = min(timer.repeat(repeat=3, number=number))
    return {"label": label, "us_per_call": 1e6 * best / number}


def spot_checks(samples: dict[str, Any]) -> list[dict[str, Any]]:
    """Time the costly per-turn operations on real data captured during the run."""
    import jsonpickle
    from botbuilder.core.bot_state import CachedBotState
    from botbuilder.schema import Activity
    from botframework.connector import models
    from msrest import Serializer
    from msrest.universal_http.requests import ClientRetryPolicy

    from bench.journey import json_size

    rows: list[dict[str, Any]] = []
    state = samples.get("state")
    if state:
        restored = jsonpickle.Unpickler().restore(state)
        hasher = CachedBotState()
        size = json_size(state)
        rows += [
            timed(
                f"jsonpickle restore, {size} B state (DocumentStateStorage.read)",
                lambda: jsonpickle.Unpickler().restore(state),
            ),
            timed(
                "jsonpickle flatten of it (DocumentStateStorage.write)",
                lambda: jsonpickle.Pickler(make_refs=False).flatten(restored),
            ),
            timed(
                "CachedBotState.compute_hash of it (SDK, on load and twice on save)",
                lambda: hasher.compute_hash(restored),
            ),
            timed("json.dumps of the flattened state, for scale", lambda: json.dumps(state)),
        ]
    serializer = Serializer({k: v for k, v in vars(models).items() if isinstance(v, type)})
    reply = samples.get("reply")
    if reply:
        outbound = Activity().deserialize(reply)
        rows.append(
            timed(
                f"msrest Serializer.body of the largest reply ({json_size(reply)} B), per send",
                lambda: serializer.body(outbound, "Activity"),
            )
        )
    inbound = samples.get("inbound")
    if inbound:
        rows.append(
            timed(
                "Activity().deserialize of an inbound click (read_activity)",
                lambda: Activity().deserialize(inbound),
            )
        )
    rows.append(timed("msrest ClientRetryPolicy() (per new ConnectorClient)", ClientRetryPolicy))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--turns", type=int, default=300, help="at least this many turns")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--dump", type=Path, help="write the raw pstats file")
    parser.add_argument("--out", type=Path, help="write the summary as JSON")
    parser.add_argument("--bot", choices=["ours", "echo"], default="ours")
    parser.add_argument("--no-spot-checks", dest="spot_checks", action="store_false")
    args = parser.parse_args(argv)
    journeys = max(1, math.ceil(args.turns / len(JOURNEY)))
    profiler = cProfile.Profile()
    summary = measure_inprocess(journeys, warmup=1, profiler=profiler, bot=args.bot)
    samples = summary.pop("samples")
    turns = summary["turns"]
    stats = pstats.Stats(profiler)
    if args.dump:
        stats.dump_stats(args.dump)

    print(f"{args.bot}: {summary['journeys_ok']}/{journeys} journeys ok, {turns} turns one by one,")
    print(f"{summary['ms_per_turn']:.2f} ms wall per turn under the profiler")
    print("(client, connector and bot in one process)\n")
    print("Per journey step (mean over the journeys; ms under the profiler):")
    print(describe_steps(summary))

    print(f"\nTop {args.top} by cumulative time ({turns} turns):")
    top = top_cumulative(stats, turns, args.top)
    print(f"{'calls':>8} {'tottime s':>9} {'cumtime s':>9} {'cum ms/turn':>11}  function")
    for row in top:
        print(
            f"{row['calls']:>8} {row['tottime_s']:>9.3f} {row['cumtime_s']:>9.3f} "
            f"{row['cum_ms_per_turn']:>11.3f}  {row['function']}"
        )

    print("\nThe bot's turn, cumulative ms per turn under the profiler (indented entries are part")
    print("of the one above; a coroutine counts one entry per resumption):")
    followed = watched(stats, turns)
    for row in followed:
        print(f"{row['cum_ms_per_turn']:>8.3f} ms  {row['calls_per_turn']:>6.2f}×  {row['label']}")

    print("\nOwn time by package, ms per turn (whole process):")
    packages = by_package(stats, turns)
    for name, ms in packages.items():
        print(f"{ms:>8.3f} ms  {name}")

    checks: list[dict[str, Any]] = []
    if args.spot_checks:
        print("\nSpot checks without the profiler, µs per call (real data from this run):")
        checks = spot_checks(samples)
        for row in checks:
            print(f"{row['us_per_call']:>10.1f} µs  {row['label']}")

    if summary["journeys_ok"] != journeys:
        print(f"\nFAILED journeys: {summary['failures']}", file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            **summary,
            "top": top,
            "watched": followed,
            "by_package_ms": packages,
            "spot_checks": checks,
        }
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if summary["journeys_ok"] == journeys else 1


if __name__ == "__main__":
    sys.exit(main())
