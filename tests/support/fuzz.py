"""Building blocks of the seeded fuzz test (``tests/integration/test_fuzz.py``).

Odd JSON values from a ``random.Random``, one fuzz request and the two ways of sending it
(aiohttp's client, or a raw socket for bytes no client would send), a logging handler that
notices every problem record while a request runs, and a tally of failures that reports per
kind how many requests failed and the shortest example — never megabytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import signal
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from types import FrameType, TracebackType
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[2]
PROJECT_PARTS = ("bot", "dialogs", "cards")
EXAMPLE_CHARS = 300
#: after a raw-socket request: time for the server to finish with the connection, so that
#: what it logs is charged to this request and not to the next one
SETTLE_SECONDS = 0.02

# --- odd values ------------------------------------------------------------------------------

HUGE = 100_000  # characters: a huge string that still fits into the 256 KB request limit
ODD_STRINGS = [
    "",
    " ",
    "x",
    "\ud800",  # lone surrogates: json.dumps sends them as \ud800 escapes
    "\udfff",
    "a\ud800b",
    "\x00",
    "a\x00b\x1f\x7f",
    "\r\n\t",
    "\u202e\u200b\ufeff",
    "😀" * 3,
    "١٢٣",
    "%s%n{0}{}",
    "${jndi:ldap://127.0.0.1:9/x}",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "NaN",
    "Infinity",
    "null",
    "true",
    "0",
    "-1",
    "1e309",
    "http://127.0.0.1:9/",
    "a" * 5_000,
]
ODD_NUMBERS = [0, -1, 1, 2**31, 2**63, 2**64 + 1, -(2**63) - 1, 1.5, -0.0, 1e308, 1e-308]


def odd_scalar(rng: Random) -> Any:
    """None, a bool, a number (also NaN and ±Infinity), or an odd / long / huge string."""
    roll = rng.random()
    if roll < 0.10:
        return None
    if roll < 0.18:
        return rng.choice([True, False])
    if roll < 0.35:
        return rng.choice([*ODD_NUMBERS, float("nan"), float("inf"), float("-inf")])
    if roll < 0.38:
        return "x" * HUGE
    if roll < 0.45:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 60)))
    return rng.choice(ODD_STRINGS)


def odd_value(rng: Random, depth: int = 0) -> Any:
    """Any JSON type: a scalar, a list or an object, nested a few levels."""
    roll = rng.random()
    if depth >= 3 or roll < 0.55:
        return odd_scalar(rng)
    if roll < 0.70:
        return [odd_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if roll < 0.75:
        return nested(rng.choice([20, 200]), rng.choice("[{"))
    return {odd_key(rng): odd_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def odd_key(rng: Random) -> str:
    return rng.choice(["", "a", "type", "id", "\ud800", "\x00", "__proto__", "k" * 300, "0"])


#: ids a strict shape check lets through (non-empty strings of at most 1,024 characters)
ODD_STRING_IDS = [
    " ",
    "\n",
    "\x00",
    "id\x01\x1b[31m",
    "a/b/../c",
    "/",
    "\\",
    "%2F%00",
    "a?b#c",
    "..",
    "ä€😀",
    "\u202e\ufeff",
    "a:1;messageid=2",
    "19:abc@thread.tacv2",
    "<at>x</at>",
    "${x}",
    "'\"",
    "CON",
    "x" * 1024,
]


def odd_string_id(rng: Random) -> str:
    return rng.choice(ODD_STRING_IDS)


def odd_id(rng: Random) -> Any:
    """Ids: half of them odd strings that pass a shape check, half of them not (empty, too
    long, a lone surrogate, not a string)."""
    if rng.random() < 0.5:
        return odd_string_id(rng)
    return rng.choice(
        ["", "a" * 10_000, "\ud800", 0, -1, 2**70, 1.5, True, None, [], ["a"], {}, {"id": "a"}]
    )


def nested(levels: int, opener: str = "[") -> Any:
    """A value nested ``levels`` deep (as a Python object, for json.dumps)."""
    value: Any = 1
    for _ in range(levels):
        value = [value] if opener == "[" else {"a": value}
    return value


def nested_bytes(levels: int, opener: str = "[") -> bytes:
    """JSON text nested ``levels`` deep, built without recursion (100,000 levels work too)."""
    if opener == "[":
        return b"[" * levels + b"1" + b"]" * levels
    return b'{"a":' * levels + b"1" + b"}" * levels


def encode(value: Any) -> bytes:
    """JSON as Teams would send it: non-ASCII and lone surrogates as \\u escapes; NaN as is."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode("ascii")


# --- one request -----------------------------------------------------------------------------


@dataclass
class FuzzRequest:
    """One request; ``label`` is the short description shown in a failure report.

    ``expect`` is the set of statuses the service promises for it (``None``: any status
    below 500). ``raw`` (bytes on the wire) makes it a raw-socket request; ``may_drop``
    allows the server to close such a connection without an answer. Only a request that
    ends too early is half-closed (``eof``): real clients keep the connection open.
    """

    family: str
    kind: str
    label: str
    path: str = "/api/messages"
    method: str = "POST"
    body: bytes | None = None
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    raw: bytes | None = None
    eof: bool = False  # half-close after a raw request (for requests that end too early)
    expect: frozenset[int] | None = None
    may_drop: bool = False

    def describe(self) -> str:
        size = len(self.raw if self.raw is not None else self.body or b"")
        shown = f"{self.method} {self.path} [{self.kind}] {self.label}"
        if self.raw is None:
            extras = []
            if self.content_type != "application/json":
                extras.append(f"Content-Type={self.content_type!r}")
            if self.headers:
                extras.append(f"headers={shorten(repr(self.headers), 120)}")
            if self.chunked:
                extras.append("chunked")
            if extras:
                shown += " " + " ".join(extras)
        return f"{shorten(shown, EXAMPLE_CHARS)} ({size} bytes)"


@dataclass
class Outcome:
    status: int | None  # None: no answer (see ``error``)
    error: str = ""
    body: str = ""  # the start of the answer


def shorten(text: str, limit: int = EXAMPLE_CHARS) -> str:
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    if len(text) <= limit:
        return text
    return f"{text[: limit - 30]}…<{len(text)} chars>"


class EventLoopBlocked(Exception):
    """Raised by ``Watchdog`` inside the code that keeps the event loop busy."""


class Watchdog:
    """``with Watchdog(seconds):`` — if still inside after ``seconds`` (and then every
    second), raise ``EventLoopBlocked`` in whatever code runs on the main thread.

    The service runs on the test's event loop, so a request that keeps the CPU busy (no
    ``await``) stops ``asyncio.timeout`` from ever firing: the test would hang with it. A
    timer signal still interrupts it; ``blocked_at`` says where it was.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.blocked_at: list[str] = []
        self._previous: Any = None

    def __enter__(self) -> Watchdog:
        self._previous = signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds, 1.0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)

    def _fire(self, signum: int, frame: FrameType | None) -> None:
        where = where_from(traceback.extract_stack(frame)) if frame else "?"
        self.blocked_at.append(where)
        raise EventLoopBlocked(f"event loop blocked for {self.seconds:.0f} s at {where}")


async def send(http: aiohttp.ClientSession, base_url: str, request: FuzzRequest) -> Outcome:
    """Send with aiohttp, or with a raw socket; the caller bounds the time."""
    if request.raw is not None:
        outcome = await _send_socket(base_url, request.raw, request.eof)
        await asyncio.sleep(SETTLE_SECONDS)  # the server's log of this connection, if any
        return outcome
    return await _send_client(http, base_url, request)


async def _send_client(http: aiohttp.ClientSession, base_url: str, request: FuzzRequest) -> Outcome:
    headers = dict(request.headers)
    skip = []
    if request.content_type is None:
        skip.append("Content-Type")
    else:
        headers["Content-Type"] = request.content_type
    data: Any = request.body
    if request.chunked and request.body is not None:
        data = _chunks(request.body)  # no length known: aiohttp sends it chunked
    try:
        async with http.request(
            request.method,
            base_url.rstrip("/") + request.path,
            data=data,
            headers=headers,
            skip_auto_headers=skip,
        ) as response:
            text = (await response.read())[:500].decode("utf-8", "replace")
            return Outcome(response.status, body=text)
    except aiohttp.ClientError as error:
        return Outcome(None, error=type(error).__name__)


async def _chunks(data: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


STATUS_LINE = re.compile(rb"^HTTP/\d\.\d (\d{3})")


async def _send_socket(base_url: str, raw: bytes, eof: bool) -> Outcome:
    """Write the bytes (then half-close if ``eof``) and read the first final status line."""
    host, _, port = base_url.split("//", 1)[1].split("/", 1)[0].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        try:
            writer.write(raw)
            await writer.drain()
            if eof and writer.can_write_eof():
                writer.write_eof()
        except ConnectionError as error:  # the server may answer and close early
            first = await reader.read(200)
            return _status_of(first, type(error).__name__)
        answer = await reader.read(65536)
        while answer.startswith(b"HTTP/1.1 1"):  # 100 Continue: the final status follows
            _, _, rest = answer.partition(b"\r\n\r\n")
            answer = rest or await reader.read(65536)
        return _status_of(answer, "")
    except ConnectionError as error:
        return Outcome(None, error=type(error).__name__)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _status_of(answer: bytes, error: str) -> Outcome:
    found = STATUS_LINE.match(answer)
    if not found:
        return Outcome(None, error=error or ("no answer" if not answer else "no status line"))
    return Outcome(int(found.group(1)), body=answer[:300].decode("latin-1"))


def http_request(
    method: str,
    path: str,
    headers: list[tuple[str | bytes, str | bytes]],
    body: bytes = b"",
    *,
    version: bytes = b"HTTP/1.1",
) -> bytes:
    """Bytes of a request with exactly these headers (nothing added)."""
    lines = [method.encode() + b" " + path.encode() + b" " + version]
    for name, value in headers:
        name_bytes = name if isinstance(name, bytes) else name.encode("latin-1")
        value_bytes = value if isinstance(value, bytes) else value.encode("latin-1")
        lines.append(name_bytes + b": " + value_bytes)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# --- watching the log ------------------------------------------------------------------------

FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


@dataclass
class LogProblem:
    """A log record that must not happen; ``key`` groups records with the same cause."""

    key: str
    detail: str


class LogWatch(logging.Handler):
    """On the root logger at DEBUG: every record with a traceback, every ``turn failed`` of
    ``bot.hosting.adapter``, every ERROR. Records are judged as they come and not kept."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.pending: list[LogProblem] = []
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        try:
            message = record.getMessage()
        except Exception as error:  # a broken format string is a problem of its own
            message = f"<unformattable log message: {type(error).__name__}> {record.msg!r}"
        reasons = []
        if record.exc_info and record.exc_info[0] is not None:
            reasons.append("exc_info")
        if "Traceback" in message or FRAME.search(message):
            reasons.append("traceback text")
        if record.name == "bot.hosting.adapter" and "turn failed" in message:
            reasons.append("turn failed")
        if record.levelno >= logging.ERROR:
            reasons.append(record.levelname)
        if not reasons:
            return
        first_line = message.splitlines()[0] if message else ""
        where = ""
        exc_type = ""
        if record.exc_info and record.exc_info[1] is not None:
            exc_type = type(record.exc_info[1]).__name__
            where = where_from(traceback.extract_tb(record.exc_info[2]))
        elif FRAME.search(message):
            frames = [
                traceback.FrameSummary(path, int(line), name)
                for path, line, name in FRAME.findall(message)
            ]
            where = where_from(frames)
        project = record.name.split(".")[0] in PROJECT_PARTS
        # the project logs exception names as arguments: group by the message, ids removed
        summary = first_line if project else str(record.msg).splitlines()[0]
        summary = _stable(re.sub(r"\b\d{6,}\b|\b[0-9a-f]{16,}\b|\bh-\d+", "…", summary))
        key = f"log {record.levelname} {record.name}: {shorten(summary, 120)}"
        if exc_type:
            key += f" [{exc_type}]"
        if where:
            key += f" at {where}"
        detail = f"{'+'.join(reasons)}: {shorten(first_line, 200)}"
        self.pending.append(LogProblem(key, detail))

    def take(self) -> list[LogProblem]:
        taken, self.pending = self.pending, []
        return taken


def _stable(first_line: str) -> str:
    """``turn failed: X in message activity 123…`` without the activity type and id."""
    return re.sub(r" in \S+ activity .*$", "", first_line)


def where_from(frames: list[traceback.FrameSummary]) -> str:
    """The innermost frame of the project (bot/, dialogs/, cards/), else the innermost one."""
    if not frames:
        return ""
    for frame in reversed(frames):
        relative = _relative(frame.filename)
        if relative is not None:
            return f"{relative}:{frame.lineno} {frame.name}"
    last = frames[-1]
    return f"{_short_library_path(last.filename)}:{last.lineno} {last.name}"


def _relative(filename: str) -> str | None:
    try:
        relative = Path(filename).resolve().relative_to(REPO)
    except ValueError:
        return None
    return str(relative) if relative.parts and relative.parts[0] in PROJECT_PARTS else None


def _short_library_path(filename: str) -> str:
    marker = "site-packages/"
    return filename.split(marker, 1)[1] if marker in filename else filename


@dataclass
class TurnErrors:
    """Wraps the adapter's ``on_turn_error`` (which logs only the exception type) to keep
    the exception text and where it was raised, for the report; then calls the original."""

    original: Callable[..., Any]
    pending: list[str] = field(default_factory=list)

    async def __call__(self, context: Any, error: Exception) -> None:
        where = where_from(traceback.extract_tb(error.__traceback__))
        self.pending.append(f"{type(error).__name__}({shorten(str(error), 160)}) at {where}")
        await self.original(context, error)

    def take(self) -> list[str]:
        taken, self.pending = self.pending, []
        return taken


class RootLogging:
    """``with RootLogging(handler, quiet):`` the root logger at DEBUG with ``handler``
    attached; the ``quiet`` handlers (pytest's own) see only WARNING and above meanwhile,
    so that a failure report does not carry thousands of DEBUG lines."""

    def __init__(self, handler: logging.Handler, quiet: list[logging.Handler]) -> None:
        self.handler = handler
        self.quiet = {quiet_handler: quiet_handler.level for quiet_handler in quiet}
        self.saved_level = logging.NOTSET

    def __enter__(self) -> RootLogging:
        root = logging.getLogger()
        self.saved_level = root.level
        for quiet_handler in self.quiet:
            quiet_handler.setLevel(max(quiet_handler.level, logging.WARNING))
        root.setLevel(logging.DEBUG)
        root.addHandler(self.handler)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.saved_level)
        for quiet_handler, level in self.quiet.items():
            quiet_handler.setLevel(level)


def pytest_log_handlers(config: Any) -> list[logging.Handler]:
    """The handlers of pytest's logging plugin (captured log of the report, caplog)."""
    plugin = config.pluginmanager.get_plugin("logging-plugin")
    found = [getattr(plugin, name, None) for name in ("report_handler", "caplog_handler")]
    return [handler for handler in found if isinstance(handler, logging.Handler)]


# --- the tally -------------------------------------------------------------------------------


@dataclass
class FailureGroup:
    count: int = 0
    example: str = ""
    detail: str = ""
    first_index: int = -1


@dataclass
class Failures:
    """Failed requests grouped by kind; per kind the count and the shortest example."""

    groups: dict[str, FailureGroup] = field(default_factory=dict)
    requests: int = 0
    failed_requests: int = 0
    seen: Counter[tuple[str, int | None]] = field(default_factory=Counter)

    def count(self, family: str, status: int | None) -> None:
        self.requests += 1
        self.seen[family, status] += 1

    def statuses(self) -> str:
        """Per family, how often each status came (``None``: no answer)."""
        families = sorted({family for family, _ in self.seen})
        lines = []
        for family in families:
            counts = sorted(
                ((status, n) for (name, status), n in self.seen.items() if name == family),
                key=lambda item: (item[0] is None, item[0] or 0),
            )
            lines.append(f"  {family}: " + ", ".join(f"{status}×{n}" for status, n in counts))
        return "\n".join(lines)

    def add(self, key: str, index: int, request: FuzzRequest | str, detail: str = "") -> None:
        group = self.groups.setdefault(key, FailureGroup())
        group.count += 1
        example = request if isinstance(request, str) else request.describe()
        example = f"#{index} {example}" if index >= 0 else example
        if not group.example or len(example) < len(group.example):
            group.example, group.detail = example, shorten(detail, 400)
        if group.first_index < 0:
            group.first_index = index

    def report(self, seed: int) -> str:
        lines = [
            f"{self.failed_requests} of {self.requests} fuzz requests failed "
            f"(seed {seed}), {len(self.groups)} kinds:"
        ]
        for key, group in sorted(self.groups.items(), key=lambda item: -item[1].count):
            lines.append(f"- {group.count}× {key}")
            lines.append(f"    e.g. {group.example}")
            if group.detail:
                lines.append(f"    {group.detail}")
        return "\n".join(lines)
