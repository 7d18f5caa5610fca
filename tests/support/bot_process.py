"""``python -m bot`` as a child process on a loopback port, and the documents it stored in its
SQLite file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.devtools.playground import local_mode_env, start_bot, stop_process, wait_for_http
from tests.support.loopback import free_port


class ProcessBot:
    """``python -m bot`` as its own process on a loopback port."""

    def __init__(self, storage_url: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.storage_url = storage_url
        self.log = log
        self.env = env or {}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **local_mode_env(),
            "BOT_STORAGE": self.storage_url,
            "BOT_UPLOAD_DIR": str(self.log.parent),
            "SHUTDOWN_DEREGISTER_SECONDS": "0",  # no load balancer to let go of it here
            **self.env,
        }
        with self.log.open("ab") as log:
            self.process = start_bot(self.port, env, stdout=log, stderr=log)
        wait_for_http(f"http://127.0.0.1:{self.port}/healthz", 30, process=self.process)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator sends it; the process is left to stop on its own."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGTERM)

    def kill_hard(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process)


@dataclass(frozen=True)
class BotService:
    """``python -m bot`` as the browser tests run it: its port, its SQLite file, its process."""

    port: int
    database: Path
    process: subprocess.Popen[bytes]


def documents(database: Path, kind: str) -> list[dict[str, Any]]:
    """The JSON bodies of all stored documents of one kind."""
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT body FROM documents WHERE kind = ?", (kind,)).fetchall()
    return [json.loads(body) for (body,) in rows]
