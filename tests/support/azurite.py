"""Microsoft's Azurite emulator (blob service only) on a free loopback port, for tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
# Azurite's published development account (documented by Microsoft; not a secret).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@contextmanager
def azurite_blob(location: Path) -> Iterator[str]:
    """Start the blob service; yields a connection string for it."""
    if not AZURITE.exists():
        raise RuntimeError("Azurite is missing: run `npm ci` in the repository root")
    port = free_port()
    process = subprocess.Popen(
        [
            "node",
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(location),
            "--skipApiVersionCheck",
            "--loose",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "successfully listens" in line:
                break
        else:
            raise RuntimeError("Azurite exited before it listened")
        yield (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
        )
    finally:
        # A graceful stop waits ~10 s for idle keep-alive connections; its data is scratch.
        process.kill()
        process.wait()
        process.stdout.close()
