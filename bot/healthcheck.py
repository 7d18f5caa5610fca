"""``python -m bot.healthcheck``: the container's HEALTHCHECK (the slim image has no curl).

Exit 0 when the service's liveness endpoint ``/healthz`` answers 200 at ``HOST``/``PORT``, 1
otherwise. A wildcard ``HOST`` (``0.0.0.0``, ``::``) is reached over loopback.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def liveness_url(environ: dict[str, str] | os._Environ[str]) -> str:
    host = environ.get("HOST", "127.0.0.1").strip()
    host = "127.0.0.1" if host in WILDCARDS else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{environ.get('PORT', '3978').strip()}/healthz"


def main() -> int:
    try:
        with urllib.request.urlopen(liveness_url(os.environ), timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (OSError, ValueError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
