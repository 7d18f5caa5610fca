"""A local, in-memory Cosmos DB server (``@vercel/cosmosdb-server``) on a loopback port, for
tests.

It speaks the Cosmos DB NoSQL REST API well enough for ``azure-cosmos``: databases, containers,
point operations with eTags, parameterised (also cross-partition) queries. It does not expire
items by TTL, and it forgets everything when it stops. ``stop()`` and ``start()`` keep the port,
so a test can take the "database" away and bring it back.

    with cosmos_server() as server:
        url = server.storage_url(fresh_database_name())  # cosmos+http://127.0.0.1:PORT/t-…
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "node_modules" / "@vercel" / "cosmosdb-server" / "lib" / "cli.js"
HOST = "127.0.0.1"
READY = "Ready to accept HTTP connections at "
# The Cosmos DB Emulator's published account key (documented by Microsoft; not a secret). The
# local server accepts any base64 key.
KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


#: Settings for a store on this server, whatever COSMOS_* the developer's shell has.
STORE_SETTINGS: dict[str, Any] = {
    "cosmos_key": KEY,
    "cosmos_endpoint": "",
    "cosmos_database": "videoberatung",
    "cosmos_create_if_missing": True,
    "cosmos_allow_insecure": False,
}


def store_settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **{**STORE_SETTINGS, **overrides})


def fresh_database_name(prefix: str = "t") -> str:
    """A database name no other test uses (the server is shared; databases keep tests apart)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class CosmosServer:
    """One server process; ``start``/``stop`` as often as needed, always on the same port."""

    def __init__(self, port: int = 0, *, ready_timeout: float = 15.0) -> None:
        self.port = port  # 0: the first start picks a free port, later starts reuse it
        self.ready_timeout = ready_timeout
        self._process: subprocess.Popen[str] | None = None
        self._output: deque[str] = deque(maxlen=200)

    @property
    def url(self) -> str:
        """The account endpoint, as ``COSMOS_ENDPOINT`` would name it."""
        if not self.port:
            raise RuntimeError("the Cosmos DB server has not been started yet")
        return f"http://{HOST}:{self.port}/"

    def storage_url(self, database: str | None = None) -> str:
        """A ``BOT_STORAGE`` value for this server (and the given database)."""
        return f"cosmos+http://{HOST}:{self.port}/{database or ''}".rstrip("/")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> str:
        """Start the server and wait until it accepts connections; returns ``url``."""
        if self.running:
            return self.url
        if not CLI.exists():
            raise RuntimeError(
                "The local Cosmos DB server is missing: run `npm ci` in the repository root "
                f"({CLI.relative_to(ROOT)} not found)"
            )
        command = ["node", str(CLI), "-p", str(self.port), "--host", HOST, "--no-ssl"]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except FileNotFoundError as error:
            raise RuntimeError(
                "Node.js (`node`) is needed for the local Cosmos DB server"
            ) from error
        self._process = process
        self._output.clear()
        ready = threading.Event()
        reader = threading.Thread(
            target=self._read_output, args=(process, ready), name="cosmosdb-server", daemon=True
        )
        reader.start()
        deadline = time.monotonic() + self.ready_timeout
        while not ready.wait(0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = "".join(self._output).strip() or "(no output)"
                reason = "exited" if process.returncode is not None else "did not get ready"
                raise RuntimeError(
                    f"The local Cosmos DB server {reason} within {self.ready_timeout:.0f} s "
                    f"(port {self.port or 'auto'}):\n{output}"
                )
        return self.url

    def stop(self) -> None:
        """Stop the server (its data is gone); the port stays reserved for ``start``."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # a frozen process would not see SIGTERM
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def freeze(self) -> None:
        """Keep the process but stop it answering (SIGSTOP): connections open, no replies."""
        if self._process is None or not self.running:
            raise RuntimeError("the Cosmos DB server is not running")
        os.kill(self._process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self._process is not None and self.running:
            os.kill(self._process.pid, signal.SIGCONT)

    def restart(self) -> str:
        self.stop()
        return self.start()

    def output(self) -> str:
        """What the server printed lately (its error traces go here)."""
        return "".join(self._output)

    def _read_output(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        # Drains the pipe for the life of the process, so the server never blocks on it.
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                self._output.append(line)
                if not ready.is_set() and line.startswith(READY):
                    self.port = int(line.strip().rsplit(":", 1)[1])
                    ready.set()

    def __enter__(self) -> CosmosServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextmanager
def cosmos_server(port: int = 0) -> Iterator[CosmosServer]:
    """A running server for the duration of the block (for a pytest fixture)."""
    server = CosmosServer(port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
