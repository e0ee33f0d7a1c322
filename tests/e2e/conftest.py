"""Fixtures for end-to-end tests against a real code-server (every test here is ``e2e``).

The code-server is the release archive ``scripts/build_code_server.sh`` builds from the npm
registry, served from 127.0.0.1 with a tiny real ``.vsix``; jobs run in subprocesses with an
isolated HOME. Session-scoped (built or fetched once per run):

``real_archive``          Path of ``code-server-<version>-linux-amd64.tar.gz``: from
                          ``$VSCODE_INTERACTIVE_E2E_ARCHIVE``, else the build script's output
                          (a cache hit takes about a second; a cold build a few minutes).
                          Not possible -> the tests SKIP, except with ``CI`` set: then FAIL.
``real_archive_sha256``   its sha256 (hex).
``artifact_server``       the :class:`~tests.httpserver.LoopbackServer` serving both files.
``real_archive_url``      the archive's URL on that server.
``probe_extension``       the served ``.vsix`` (:class:`ProbeExtension`: id, version, url,
                          sha256, ``pinned_url`` = ``URL#sha256=HEX``).
``real_code_server_env``  the variables that make ``ensure_installed`` use the served archive
                          and extension with their pins: ``VSCODE_INTERACTIVE_CODE_SERVER_URL``,
                          ``..._CODE_SERVER_SHA256``, ``VSCODE_INTERACTIVE_EXTENSIONS``.
``warm_cache``            an artifact cache directory already holding both (extracted), so
                          a session does not pay the 230 MB download each test.

Per test:

``e2e_home``       an :class:`IsolatedHome` (HOME, XDG config/data/cache dirs, TMPDIR) under
                   ``tmp_path``; code-server writes ``~/.config/code-server`` there.
``e2e_env``        a full environment for job subprocesses: this process's minus every
                   ``VSCODE_INTERACTIVE_*``/``PASSWORD``-like variable and any ``code-server``
                   on PATH, plus ``e2e_home``'s variables, ``real_code_server_env`` and
                   ``VSCODE_INTERACTIVE_CACHE=warm_cache``.
``e2e_workspace``  an empty workspace directory (the job's cwd and the folder the IDE opens).

Helpers for driving jobs, HTTP and the process scan are in :mod:`tests.e2e.support`.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.artifacts import build_vsix
from tests.httpserver import LoopbackServer
from vscode_interactive.cache import Cache

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "build_code_server.sh"
ENV_ARCHIVE = "VSCODE_INTERACTIVE_E2E_ARCHIVE"
_BUILD_TIMEOUT = 1800.0
_E2E_DIR = Path(__file__).resolve().parent
# Variables of the developer's shell that would change what a job does.
_DROPPED_PREFIXES = ("VSCODE_INTERACTIVE_", "VSCODE_IPC_", "CODE_SERVER_")
_DROPPED = {"PASSWORD", "HASHED_PASSWORD", "PORT", "XDG_CONFIG_HOME", "XDG_DATA_HOME"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is ``e2e``, so ``-m "not e2e"`` never runs it by accident."""
    for item in items:
        if _E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(
            f"{reason}. CI must run the end-to-end tests: .ci/run builds the archive with "
            f"scripts/build_code_server.sh and exports {ENV_ARCHIVE}",
            pytrace=False,
        )
    pytest.skip(f"{reason}; set {ENV_ARCHIVE} to a code-server release archive to run them")


@pytest.fixture(scope="session")
def real_archive() -> Path:
    """The real code-server release archive (see the module docstring)."""
    given = os.environ.get(ENV_ARCHIVE)
    if given:
        path = Path(given)
        if not path.is_file():
            pytest.fail(f"{ENV_ARCHIVE}={given} is not a file", pytrace=False)
        return path.absolute()
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        _unavailable(
            f"no real code-server: {BUILD_SCRIPT.name} builds for Linux x86_64 only, "
            f"this is {platform.system()} {platform.machine()}"
        )
    done = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=_BUILD_TIMEOUT,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        _unavailable(
            f"no real code-server: {BUILD_SCRIPT} failed (exit code {done.returncode}):\n{tail}"
        )
    return Path(lines[-1])


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="session")
def real_archive_sha256(real_archive: Path) -> str:
    return _sha256_of(real_archive)


@dataclass(frozen=True)
class ProbeExtension:
    """The tiny real extension served next to the archive."""

    id: str
    version: str
    url: str
    sha256: str

    @property
    def pinned_url(self) -> str:
        return f"{self.url}#sha256={self.sha256}"


_PROBE_PUBLISHER, _PROBE_NAME, _PROBE_VERSION = "vscode-interactive", "e2e-probe", "0.0.1"


@pytest.fixture(scope="session")
def artifact_server(real_archive: Path) -> Iterator[LoopbackServer]:
    """Serves the archive (by its file name) and the probe ``.vsix`` on 127.0.0.1."""
    with LoopbackServer() as server:
        server.add(f"/{real_archive.name}", real_archive.read_bytes())
        yield server


@pytest.fixture(scope="session")
def real_archive_url(artifact_server: LoopbackServer, real_archive: Path) -> str:
    return artifact_server.url(f"/{real_archive.name}")


@pytest.fixture(scope="session")
def probe_extension(artifact_server: LoopbackServer) -> ProbeExtension:
    data = build_vsix(_PROBE_PUBLISHER, _PROBE_NAME, _PROBE_VERSION)
    url = artifact_server.add(f"/{_PROBE_PUBLISHER}.{_PROBE_NAME}-{_PROBE_VERSION}.vsix", data)
    return ProbeExtension(
        id=f"{_PROBE_PUBLISHER}.{_PROBE_NAME}",
        version=_PROBE_VERSION,
        url=url,
        sha256=hashlib.sha256(data).hexdigest(),
    )


@pytest.fixture(scope="session")
def real_code_server_env(
    real_archive_url: str, real_archive_sha256: str, probe_extension: ProbeExtension
) -> dict[str, str]:
    """What makes ``ensure_installed`` install the served archive and extension, pinned."""
    return {
        "VSCODE_INTERACTIVE_CODE_SERVER_URL": real_archive_url,
        "VSCODE_INTERACTIVE_CODE_SERVER_SHA256": real_archive_sha256,
        "VSCODE_INTERACTIVE_EXTENSIONS": probe_extension.pinned_url,
    }


@pytest.fixture(scope="session")
def warm_cache(
    tmp_path_factory: pytest.TempPathFactory,
    real_archive_url: str,
    real_archive_sha256: str,
    probe_extension: ProbeExtension,
) -> Path:
    """A cache root holding the extracted archive and the ``.vsix`` (fetched once)."""
    root = tmp_path_factory.mktemp("warm-cache")
    cache = Cache(root)
    cache.fetch_archive(real_archive_url, real_archive_sha256)
    cache.fetch(probe_extension.url, probe_extension.sha256)
    return root


@dataclass(frozen=True)
class IsolatedHome:
    home: Path
    config: Path
    data: Path
    cache: Path
    tmp: Path

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_DATA_HOME": str(self.data),
            "XDG_CACHE_HOME": str(self.cache),
            "TMPDIR": str(self.tmp),
        }


@pytest.fixture
def e2e_home() -> Iterator[IsolatedHome]:
    """A fresh HOME with XDG dirs and TMPDIR, removed afterwards. Short paths on purpose:
    code-server puts Unix sockets there, and socket paths are limited to 107 bytes."""
    base = Path(tempfile.mkdtemp(prefix="vi-e2e-"))
    home = base / "home"
    isolated = IsolatedHome(
        home=home,
        config=home / ".config",
        data=home / ".local" / "share",
        cache=home / ".cache",
        tmp=base / "tmp",
    )
    for directory in (isolated.config, isolated.data, isolated.cache, isolated.tmp):
        directory.mkdir(parents=True)
    yield isolated
    shutil.rmtree(base, ignore_errors=True)


def _path_without_code_server(path: str) -> str:
    kept = [
        entry
        for entry in path.split(os.pathsep)
        if entry and not (Path(entry) / "code-server").exists()
    ]
    return os.pathsep.join(kept)


@pytest.fixture
def e2e_env(
    e2e_home: IsolatedHome, real_code_server_env: dict[str, str], warm_cache: Path
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_DROPPED_PREFIXES) and key not in _DROPPED
    }
    env["PATH"] = _path_without_code_server(env.get("PATH", os.defpath))
    env.update(e2e_home.env())
    env.update(real_code_server_env)
    env["VSCODE_INTERACTIVE_CACHE"] = str(warm_cache)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def e2e_workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return workspace
