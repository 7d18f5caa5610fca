"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium`` (or ``E2E_CHROMIUM``),
the flags it is started with, and how long one step may take."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STEP_TIMEOUT_MS = 20_000
