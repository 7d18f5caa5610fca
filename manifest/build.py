"""Build the Teams app package (zip) from the manifest template.

Usage::

    python -m manifest.build [--app-id ID] [--host HOST] [--version X.Y.Z] [--out PATH]

Placeholders (``{{APP_ID}}``, ``{{PUBLIC_HOST}}``, ``{{VERSION}}``) are replaced inside the
parsed JSON string values, never by editing the raw JSON text.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

MANIFEST_DIR = Path(__file__).resolve().parent
TEMPLATE_PATH = MANIFEST_DIR / "manifest.template.json"
LOCALIZATION_FILES = ("en.json", "uk.json", "ru.json", "ar.json", "fa.json", "tr.json")
ICON_FILES = ("color.png", "outline.png")
DEFAULT_OUT = Path("build") / "videoberatung-app.zip"
DISTRIBUTION = "videoberatung-bot"
FALLBACK_VERSION = "0.1.0"

# Fixed timestamp so that identical inputs produce byte-identical packages.
_ZIP_DATE_TIME = (2024, 1, 1, 0, 0, 0)

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


class ManifestError(ValueError):
    """Raised when the package cannot be built from the given values."""


def is_guid(value: str) -> bool:
    """Return True if ``value`` is a GUID in the 8-4-4-4-12 hex form."""
    return bool(_GUID_RE.fullmatch(value))


def default_version() -> str:
    """Return the installed distribution version, or the fallback version."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return FALLBACK_VERSION


def _check_values(app_id: str, host: str, version: str) -> None:
    """Validate the placeholder values; raise ManifestError with a clear message."""
    if not is_guid(app_id):
        raise ManifestError(
            f"App id {app_id!r} is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx). "
            "Pass --app-id or set MicrosoftAppId to the bot's Microsoft App ID."
        )
    if not _HOST_RE.fullmatch(host):
        raise ManifestError(
            f"Host {host!r} is not a plain host name (no scheme, port, path or spaces), "
            "e.g. 'bot.example.org'. Pass --host or set BOT_PUBLIC_HOST."
        )
    if not _SEMVER_RE.fullmatch(version):
        raise ManifestError(f"Version {version!r} is not a semantic version like 1.2.3.")


def _substitute(node: Any, values: dict[str, str]) -> Any:
    """Return a copy of ``node`` with placeholders in all string values replaced."""
    if isinstance(node, dict):
        return {key: _substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, values) for item in node]
    if isinstance(node, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise ManifestError(f"Unknown placeholder {match.group(0)!r} in the template.")
            return values[name]

        return _PLACEHOLDER_RE.sub(replace, node)
    return node


def load_template() -> dict[str, Any]:
    """Load the manifest template as parsed JSON."""
    with TEMPLATE_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


def render_manifest(app_id: str, host: str, version: str) -> dict[str, Any]:
    """Return the manifest with all placeholders filled in."""
    _check_values(app_id, host, version)
    values = {"APP_ID": app_id, "PUBLIC_HOST": host.lower(), "VERSION": version}
    manifest = _substitute(load_template(), values)
    leftover = json.dumps(manifest, ensure_ascii=False)
    if "{{" in leftover or "}}" in leftover:
        raise ManifestError("Rendered manifest still contains '{{' or '}}'.")
    return manifest


def _write_entry(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Write one file at the zip root with a fixed timestamp."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def build_package(app_id: str, host: str, version: str, out: Path) -> Path:
    """Render the manifest and write the app package zip to ``out``; return its path."""
    manifest = render_manifest(app_id, host, version)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    with zipfile.ZipFile(out, "w") as zf:
        _write_entry(zf, "manifest.json", manifest_bytes)
        for name in (*LOCALIZATION_FILES, *ICON_FILES):
            _write_entry(zf, name, (MANIFEST_DIR / name).read_bytes())
    return out


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line, with defaults taken from the environment."""
    parser = argparse.ArgumentParser(
        prog="python -m manifest.build", description="Build the Teams app package (zip)."
    )
    parser.add_argument(
        "--app-id",
        default=os.environ.get("MicrosoftAppId", ""),  # noqa: SIM112 (Bot Framework's name)
        help="Microsoft App ID (GUID) of the bot; default: $MicrosoftAppId",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("BOT_PUBLIC_HOST") or "localhost",
        help="public host name of the bot; default: $BOT_PUBLIC_HOST or 'localhost'",
    )
    parser.add_argument(
        "--version",
        default=None,
        help=f"app version; default: installed {DISTRIBUTION} version or {FALLBACK_VERSION}",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output zip; default: {DEFAULT_OUT}"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; return the process exit code."""
    args = _parse_args(argv)
    version = args.version or default_version()
    try:
        out = build_package(args.app_id.strip(), args.host.strip(), version.strip(), args.out)
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
