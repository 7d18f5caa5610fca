"""The container image, checked without a container runtime (no base image can be pulled
here): the build context ``.dockerignore`` lets through builds a wheel that carries everything
the service reads at run time, the Dockerfile keeps its promises, and the HEALTHCHECK command
tells a live service from a dead one."""

from __future__ import annotations

import asyncio
import fnmatch
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import aiohttp
import pytest

from bot.devtools.connector_standin import LocalConnector
from bot.devtools.playground import local_mode_env, wait_for_http
from bot.healthcheck import liveness_url
from tests.support.bot_process import ProcessBot
from tests.support.http_bot import TeamsClient
from tests.support.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
#: files the service opens at run time, relative to the repository (and to the installed tree)
RUNTIME_DATA = (
    "dialogs/locales/*.po",
    "dialogs/locales/*.json",
    "dialogs/locales/staff/*.po",
    "cards/templates/*.json",
    "bot/techcheck_page/static/*",
    "manifest/*.json",
    "manifest/*.png",
)


def dockerignore_rules() -> list[tuple[bool, str]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            include = line.startswith("!")
            rules.append((include, line.lstrip("!").rstrip("/")))
    return rules


def in_context(path: str, rules: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    kept = True
    for include, pattern in rules:
        if pattern.startswith("**/"):
            matched = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            matched = any(fnmatch.fnmatch(candidate, pattern) for candidate in candidates)
        if matched:
            kept = include
    return kept


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build context Docker would send: the tracked files ``.dockerignore`` lets through."""
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    rules = dockerignore_rules()
    target = tmp_path_factory.mktemp("context")
    for name in tracked:
        if in_context(name, rules) and (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(context: Path, tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """What the Dockerfile's ``pip install .`` installs, built from the context alone."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."],
        cwd=context,
        check=True,
    )
    (built,) = out.glob("*.whl")
    return zipfile.ZipFile(built)


def test_the_context_holds_the_app_and_nothing_private(context: Path) -> None:
    names = {str(path.relative_to(context)) for path in context.rglob("*") if path.is_file()}
    assert "pyproject.toml" in names
    assert "bot/__main__.py" in names
    assert not [name for name in names if name.startswith(("tests/", "data/", ".venv", ".git/"))]
    assert not [name for name in names if Path(name).name in {".env", "package.json"}]


def test_the_installed_package_carries_every_file_the_service_reads(
    wheel: zipfile.ZipFile,
) -> None:
    installed = set(wheel.namelist())
    expected = {
        str(path.relative_to(ROOT)) for pattern in RUNTIME_DATA for path in ROOT.glob(pattern)
    }
    assert len(expected) > 30
    assert sorted(expected - installed) == []


@pytest.fixture(scope="module")
def installed(wheel: zipfile.ZipFile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's environment, as near as this machine allows: a fresh virtual environment
    with the wheel installed (not the source tree), its dependencies borrowed from the test
    environment. Returns its Python."""
    target = tmp_path_factory.mktemp("image-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = target / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    wheel.extractall(site)  # what pip does for a pure-Python wheel
    borrowed = [path for path in sys.path if path.endswith("site-packages")]
    (site / "borrowed-dependencies.pth").write_text("\n".join(borrowed) + "\n")
    return python


def test_the_installed_package_serves_a_turn_outside_the_source_tree(
    installed: Path, tmp_path: Path
) -> None:
    """``python -m bot`` from the installed package, started elsewhere: the catalogs, card
    templates and pages it reads come with it."""
    where = subprocess.run(
        [str(installed), "-c", "import bot, dialogs, cards; print(bot.__file__, cards.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where
    port = free_port()
    env = {
        **local_mode_env(),
        "PORT": str(port),
        "BOT_STORAGE": f"sqlite:///{tmp_path / 'bot.db'}",
        "BOT_UPLOAD_DIR": str(tmp_path / "uploads"),
        "PYTHONPATH": "",
        "SHUTDOWN_DEREGISTER_SECONDS": "0",
    }
    process = subprocess.Popen(
        [str(installed), "-m", "bot"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", 30, process=process)
        asyncio.run(_one_turn(port))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/techcheck/static/app.js") as page:
            assert page.status == 200
    finally:
        process.terminate()
        assert process.wait(20) == 0


async def _one_turn(port: int) -> None:
    async with aiohttp.ClientSession() as http, LocalConnector() as connector:
        client = TeamsClient(http, _Address(port), connector)  # type: ignore[arg-type]
        await client.install()
        assert client.said("Worüber möchten Sie sprechen?")


class _Address:
    def __init__(self, port: int) -> None:
        self.port = port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_final_stage_runs_as_a_user_with_a_healthcheck_and_python_m_bot() -> None:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    final = instructions[last_from:]
    users = [value for name, value in final if name == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert ("ENTRYPOINT", '["python", "-m", "bot"]') in final
    assert any(name == "HEALTHCHECK" and "bot.healthcheck" in value for name, value in final)
    # nothing is compiled or installed with a package manager in the image that ships
    assert not [v for n, v in final if n == "RUN" and ("apt-get" in v or "pip install" in v)]


def healthcheck(port: int, host: str = "0.0.0.0") -> int:
    env = {**os.environ, "HOST": host, "PORT": str(port)}
    return subprocess.run(
        [sys.executable, "-m", "bot.healthcheck"], env=env, cwd=ROOT, timeout=30
    ).returncode


def test_the_healthcheck_passes_for_a_live_service_and_fails_when_it_is_gone(
    process_bot: ProcessBot,
) -> None:
    assert healthcheck(process_bot.port) == 0
    assert healthcheck(process_bot.port, host="127.0.0.1") == 0
    process_bot.stop()
    assert healthcheck(process_bot.port) == 1


def test_the_healthcheck_reaches_a_wildcard_host_over_loopback() -> None:
    assert liveness_url({"HOST": "0.0.0.0", "PORT": "8080"}) == "http://127.0.0.1:8080/healthz"
    assert liveness_url({"HOST": "::1", "PORT": "8080"}) == "http://[::1]:8080/healthz"
