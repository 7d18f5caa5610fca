"""``python -m bot playground`` listens on loopback only.

The bot runs unauthenticated in local mode and the Agents Playground relays to it, so a
socket of either on another interface would let anyone on the network chat through them.
The Playground's CLI has no host option and binds ``*:PORT``;
``bot/devtools/playground_loopback.cjs`` (preloaded into node) keeps it on ``127.0.0.1``. The
test runs the command as a user would, lists the listening TCP sockets of its whole process
tree and tries the machine's other addresses.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from bot.devtools.playground import PLAYGROUND_CLI, REPO_ROOT, local_mode_env

pytestmark = pytest.mark.node

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
_OPEN_LINE = re.compile(r"Open http://127\.0\.0\.1:(\d+)")


def _free_port() -> int:
    """A port that was free a moment ago (on all interfaces, as the Playground binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


@dataclass
class Launcher:
    process: subprocess.Popen[bytes]
    bot_port: int
    playground_port: int
    output: Path

    def tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]


def _wait_until_ready(process: subprocess.Popen[bytes], output: Path) -> int:
    """The Playground port from the launcher's "Open http://127.0.0.1:N" line."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        match = _OPEN_LINE.search(output.read_text(encoding="utf-8", errors="replace"))
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    text = output.read_text(encoding="utf-8", errors="replace")
    pytest.fail(f"`python -m bot playground` did not get ready (exit {process.poll()}):\n{text}")


def _stop(process: subprocess.Popen[bytes], started: dict[int, psutil.Process]) -> None:
    """SIGTERM to the launcher's group (it stops its children), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # The bot and the Playground lead process groups of their own; kill any survivor by pid
    # (is_running() also checks the start time, so a reused pid is left alone).
    for child in started.values():
        with contextlib.suppress(psutil.Error):
            if child.is_running():
                child.kill()


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """The command, started once for both tests (each start takes a few seconds)."""
    tmp_path = tmp_path_factory.mktemp("playground")
    if shutil.which("node") is None or not PLAYGROUND_CLI.is_file():
        pytest.fail("needs Node.js and the Agents Playground — run `make setup`")
    bot_port, playground_port = _free_port(), _free_port()
    while playground_port == bot_port:
        playground_port = _free_port()
    env = {
        **local_mode_env(),
        "BOT_STORAGE": f"sqlite:///{tmp_path / 'bot.db'}",
        "BOT_UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    output = tmp_path / "launcher.log"
    command = [
        sys.executable,
        "-m",
        "bot",
        "playground",
        "--bot-port",
        str(bot_port),
        "--port",
        str(playground_port),
        "--log-file",
        str(tmp_path / "playground.log"),
    ]
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started: dict[int, psutil.Process] = {}
    try:
        port = _wait_until_ready(process, output)
        running = Launcher(process, bot_port, port, output)
        started.update((child.pid, child) for child in running.tree()[1:])
        yield running
    finally:
        with contextlib.suppress(psutil.Error):
            started.update(
                (child.pid, child) for child in psutil.Process(process.pid).children(True)
            )
        _stop(process, started)


def _listening(processes: list[psutil.Process]) -> dict[tuple[str, int], str]:
    """(address, port) of every listening TCP socket of ``processes`` -> process name."""
    found: dict[tuple[str, int], str] = {}
    for process in processes:
        name = f"{process.name()} ({process.pid})"
        for connection in process.net_connections(kind="inet"):
            if connection.type == socket.SOCK_STREAM and connection.status == psutil.CONN_LISTEN:
                found[(connection.laddr.ip, connection.laddr.port)] = name
    return found


def _is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback


def _other_local_addresses() -> list[tuple[socket.AddressFamily, str]]:
    """This machine's addresses that are not loopback (IPv6 link-local left out: it needs a
    scope id)."""
    addresses = []
    for interface in psutil.net_if_addrs().values():
        for entry in interface:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(entry.address.split("%", 1)[0])
            if not address.is_loopback and not address.is_link_local:
                addresses.append((entry.family, str(address)))
    return addresses


def _connects(family: socket.AddressFamily, address: str, port: int) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect((address, port))
        except OSError:
            return False
        return True


def test_every_listening_socket_of_the_playground_command_is_loopback(
    launcher: Launcher,
) -> None:
    listening = _listening(launcher.tree())
    ports = {port for _, port in listening}
    assert {launcher.bot_port, launcher.playground_port} <= ports, listening
    exposed = {
        f"{address}:{port}": name
        for (address, port), name in listening.items()
        if not _is_loopback(address)
    }
    assert exposed == {}, f"listening beyond loopback: {exposed}"
    assert _connects(socket.AF_INET, "127.0.0.1", launcher.playground_port)


def test_the_playground_is_unreachable_on_the_machines_other_addresses(
    launcher: Launcher,
) -> None:
    others = _other_local_addresses()
    if not any(family == socket.AF_INET for family, _ in others):
        pytest.skip("this machine has no non-loopback IPv4 address")
    reachable = [
        f"{address}:{port}"
        for family, address in others
        for port in (launcher.playground_port, launcher.bot_port)
        if _connects(family, address, port)
    ]
    assert reachable == []
