"""``python -m bot playground``: the bot service and Microsoft's Agents Playground together.

The Playground (``@microsoft/m365agentsplayground`` from the repo's ``node_modules``) is a
Teams-like web chat that renders the bot's Adaptive Cards. This module starts the bot, waits
until it answers ``/healthz``, starts the Playground pointed at it and stops both again on
Ctrl-C or SIGTERM — or as soon as one of them exits. The bot runs in local mode (loopback
only, no credentials) because the Playground sends no tokens. The helpers are also used by
the browser tests in ``tests/e2e``.

Everything listens on loopback only. The bot gets ``HOST=127.0.0.1``; the Playground's CLI
has no host option and would bind its port on all interfaces, so node preloads
``playground_loopback.cjs`` (next to this file) into it, which moves every TCP listen to
``127.0.0.1``. ``NODE_OPTIONS`` carries the preload into any node process it starts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

__all__ = [
    "DEFAULT_BOT_PORT",
    "DEFAULT_PLAYGROUND_PORT",
    "LOOPBACK_PRELOAD",
    "PLAYGROUND_CLI",
    "PlaygroundError",
    "bot_url",
    "local_mode_env",
    "main",
    "start_bot",
    "start_playground",
    "stop_process",
    "wait_for_http",
    "wait_for_playground_port",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_CLI = REPO_ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
LOOPBACK_PRELOAD = Path(__file__).resolve().parent / "playground_loopback.cjs"
DEFAULT_BOT_PORT = 3978
DEFAULT_PLAYGROUND_PORT = 56150
DEFAULT_LOG_FILE = REPO_ROOT / "devTools" / "m365agentsplayground.log"

_LISTENING = re.compile(r"Listening on (\d+)")
_POLL_SECONDS = 0.2
_POSIX = os.name == "posix"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

Output = IO[Any] | int | None


class PlaygroundError(RuntimeError):
    """A child process did not start or stopped; the message says which and why."""


def _new_group() -> dict[str, Any]:
    """Popen options that put the child in its own process group.

    Ctrl-C in the terminal then reaches only this launcher, which stops the children in
    order, instead of all processes at once.
    """
    if _POSIX:
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


def local_mode_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) with the Bot Framework credentials blanked.

    The Playground sends no tokens, so the bot must run in local mode; environment variables
    win over a ``.env`` file, so credentials kept there are ignored, too.
    """
    return {
        **(os.environ if base is None else base),
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "MicrosoftAppType": "MultiTenant",
        "MicrosoftAppTenantId": "",
    }


def bot_url(port: int) -> str:
    """The messaging endpoint of the bot started by :func:`start_bot`."""
    return f"http://127.0.0.1:{port}/api/messages"


def start_bot(
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    stdout: Output = None,
    stderr: Output = None,
) -> subprocess.Popen[bytes]:
    """Start ``python -m bot`` on ``127.0.0.1:port`` (``env`` defaults to ``os.environ``)."""
    child_env = dict(os.environ if env is None else env)
    child_env["PORT"] = str(port)
    child_env["HOST"] = "127.0.0.1"
    return subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=REPO_ROOT,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        **_new_group(),
    )


def _node_options_with_preload(node_options: str | None) -> str:
    """``NODE_OPTIONS`` plus ``--require`` of :data:`LOOPBACK_PRELOAD`, quoted for node."""
    quoted = str(LOOPBACK_PRELOAD).replace("\\", "\\\\").replace('"', '\\"')
    preload = f'--require "{quoted}"'
    return f"{node_options} {preload}" if node_options else preload


def start_playground(
    bot_port: int,
    port: int,
    log_file: Path,
    *,
    cwd: Path = REPO_ROOT,
    stderr: Output = None,
) -> subprocess.Popen[str]:
    """Start the Agents Playground on ``port``, talking to the bot on ``bot_port``.

    It listens on ``127.0.0.1`` only (see :data:`LOOPBACK_PRELOAD`). Its own log goes to
    ``log_file``. Stdout is a pipe: read the port it really listens on with
    :func:`wait_for_playground_port` (it silently picks another one if ``port`` is busy).
    """
    node = shutil.which("node")
    if node is None:
        raise PlaygroundError("Node.js ('node') is not on the PATH; the Playground needs it.")
    if not PLAYGROUND_CLI.is_file():
        raise PlaygroundError(
            f"{PLAYGROUND_CLI} is missing: run `npm ci` in {REPO_ROOT} to install it."
        )
    if not LOOPBACK_PRELOAD.is_file():  # never start it listening on all interfaces
        raise PlaygroundError(
            f"{LOOPBACK_PRELOAD} is missing; it keeps the Playground on loopback."
        )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["TEAMSAPPTESTER_BROWSER"] = "none"  # we print the URL; opening a browser fails headless
    env["M365_AGENTS_PLAYGROUND_LOGFILE"] = str(log_file)
    env["NODE_OPTIONS"] = _node_options_with_preload(env.get("NODE_OPTIONS"))
    command = [
        node,
        "--require",  # also in NODE_OPTIONS, for node processes the Playground might start
        str(LOOPBACK_PRELOAD),
        str(PLAYGROUND_CLI),
        "--app-endpoint",
        bot_url(bot_port),
        "--channel-id",
        "msteams",
        "--disable-telemetry",
        "--port",
        str(port),
    ]
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        **_new_group(),
    )


def wait_for_playground_port(process: subprocess.Popen[str], timeout: float) -> int:
    """The port from the Playground's ``Listening on N`` line; its stdout is drained after."""
    assert process.stdout is not None, "start the Playground with start_playground()"
    stdout = process.stdout
    found: queue.Queue[int | None] = queue.Queue()

    def pump() -> None:
        reported = False
        for line in stdout:  # keep reading so that the pipe never fills up
            match = _LISTENING.search(line)
            if match and not reported:
                reported = True
                found.put(int(match.group(1)))
        found.put(None)

    threading.Thread(target=pump, name="playground-stdout", daemon=True).start()
    try:
        port = found.get(timeout=timeout)
    except queue.Empty:
        raise PlaygroundError(f"the Playground did not start within {timeout:.0f} s") from None
    if port is None:
        raise PlaygroundError(f"the Playground exited with code {process.wait()}")
    return port


def wait_for_http(
    url: str, timeout: float, *, process: subprocess.Popen[Any] | None = None
) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` exits meanwhile."""
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while True:
        if process is not None and process.poll() is not None:
            raise PlaygroundError(f"{url}: the process exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last_error = f"HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            last_error = str(getattr(error, "reason", error))
        if time.monotonic() >= deadline:
            raise PlaygroundError(f"{url} did not answer within {timeout:.0f} s ({last_error})")
        time.sleep(_POLL_SECONDS)


def stop_process(process: subprocess.Popen[Any], timeout: float = 10) -> int:
    """Stop ``process`` (and its process group): SIGTERM, then SIGKILL after ``timeout`` s."""
    if process.poll() is None:
        _signal(process, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL if _POSIX else signal.SIGTERM)
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


def _signal(process: subprocess.Popen[Any], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        if _POSIX:
            os.killpg(process.pid, signum)  # the child leads its own group (start_new_session)
        elif signum == signal.SIGTERM:
            process.terminate()
        else:
            process.kill()


class _Stop(Exception):
    """SIGTERM arrived."""


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM meanwhile, so that a second one cannot cut the cleanup short."""
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _port_in_use(port: int) -> bool:
    """Something already listens on ``127.0.0.1:port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _run(bot_port: int, playground_port: int, log_file: Path) -> int:
    children: list[tuple[str, subprocess.Popen[Any]]] = []
    try:
        children.append(("bot", start_bot(bot_port, local_mode_env())))
        bot = children[-1][1]
        wait_for_http(f"http://127.0.0.1:{bot_port}/healthz", 30, process=bot)
        children.append(("Playground", start_playground(bot_port, playground_port, log_file)))
        playground = children[-1][1]
        port = wait_for_playground_port(playground, 60)
        wait_for_http(f"http://127.0.0.1:{port}/", 30, process=playground)
        chat_option = "" if bot_port == DEFAULT_BOT_PORT else f" --bot-url {bot_url(bot_port)}"
        if port != playground_port:
            print(f"Port {playground_port} was busy; the Playground took port {port}.")
        print(
            f"\nOpen http://127.0.0.1:{port} in your browser to chat with the bot.\n"
            f"  Prefer a terminal chat? Run `python -m bot chat{chat_option}` in another\n"
            "  terminal; it talks to the same bot.\n"
            f"  Playground log: {log_file}\n"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )
        while True:
            for name, child in children:
                if child.poll() is not None:
                    print(f"The {name} exited with code {child.returncode}; stopping.")
                    return 1
            time.sleep(_POLL_SECONDS)
    except PlaygroundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("\nStopping …")
        return 0
    finally:
        with _uninterrupted():
            for _, child in reversed(children):
                stop_process(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot and the Agents Playground until Ctrl-C; non-zero if a child failed."""
    parser = argparse.ArgumentParser(
        prog="python -m bot playground",
        description="Run the bot together with Microsoft's Agents Playground (a Teams-like "
        "web chat) for local testing.",
    )
    parser.add_argument(
        "--bot-port", type=int, default=DEFAULT_BOT_PORT, help="port of the bot service"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PLAYGROUND_PORT, help="port of the Playground"
    )
    parser.add_argument(
        "--log-file", type=Path, default=DEFAULT_LOG_FILE, help="the Playground's log file"
    )
    args = parser.parse_args(argv)
    if not PLAYGROUND_CLI.is_file():
        print(
            f"The Agents Playground is not installed ({PLAYGROUND_CLI} is missing).\n"
            f"Run `npm ci` in {REPO_ROOT} first.",
            file=sys.stderr,
        )
        return 2
    if shutil.which("node") is None:
        print("Node.js ('node') is not on the PATH; the Playground needs it.", file=sys.stderr)
        return 2
    if _port_in_use(args.bot_port):
        print(
            f"Port {args.bot_port} is in use (is the bot already running?). "
            "Stop it or choose another one with --bot-port.",
            file=sys.stderr,
        )
        return 2
    with _sigterm_raises():
        return _run(args.bot_port, args.port, args.log_file)
