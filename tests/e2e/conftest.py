"""Fixtures for end-to-end tests against a real code-server (every test here is ``e2e``).

The code-server is the release archive ``scripts/build_code_server.sh`` builds from the npm
registry, served from 127.0.0.1 with a tiny real ``.vsix``; jobs run in subprocesses with an
isolated HOME; the workbench is driven in headless Chromium through Playwright.

The run gets what these tests need itself (:mod:`tests.e2e.provision`): right after
collection, if a selected test needs the archive it is built (or found in the build cache),
and if one needs a browser, Debian's chromium is apt-installed when missing (as root). This
happens outside any test, so a cold build does not count against a test's timeout; what
cannot be got makes the tests that need it FAIL with what to install or set (never skip).

Session-scoped (built or fetched once per run):

``real_archive``          Path of ``code-server-<version>-linux-amd64.tar.gz``: from
                          ``$VSCODE_INTERACTIVE_E2E_ARCHIVE``, else built (or found in its
                          cache) by ``scripts/build_code_server.sh`` from the npm registry.
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
``real_code_server``      the ``bin/code-server`` extracted in ``warm_cache`` (for tests that
                          start a supervisor in-process).
``chromium_executable``   Debian's ``/usr/bin/chromium`` (apt-installed when missing and the
                          run is root) or ``$VSCODE_INTERACTIVE_E2E_CHROMIUM``.

Per module: ``browser``, a Playwright :class:`~playwright.sync_api.Browser` on that Chromium
(headless; no browser download). Per test:

``page``           a fresh Playwright page in its own browser context (own cookies and
                   storage), 1400x900.
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
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.artifacts import build_vsix
from tests.e2e.provision import Provisioner, ProvisionError
from tests.httpserver import LoopbackServer
from vscode_interactive.cache import Cache

_E2E_DIR = Path(__file__).resolve().parent
# Variables of the developer's shell that would change what a job does.
_DROPPED_PREFIXES = ("VSCODE_INTERACTIVE_", "VSCODE_IPC_", "CODE_SERVER_")
_DROPPED = {"PASSWORD", "HASHED_PASSWORD", "PORT", "XDG_CONFIG_HOME", "XDG_DATA_HOME"}
# Headless, as root, on a machine without a route to Google's services.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_PROVISIONER = pytest.StashKey[Provisioner]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is ``e2e``, so ``-m "not e2e"`` never runs it by accident."""
    for item in items:
        if _E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def _provisioner(config: pytest.Config) -> Provisioner:
    if _PROVISIONER not in config.stash:
        config.stash[_PROVISIONER] = Provisioner(env=os.environ)
    return config.stash[_PROVISIONER]


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Get the archive and Chromium before the first test, if a selected test needs them."""
    if session.config.option.collectonly:
        return
    needed = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    provisioner = _provisioner(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    steps: list[tuple[str, str, Callable[[], Path]]] = [
        ("real_archive", "code-server archive", provisioner.archive),
        ("chromium_executable", "Chromium", provisioner.chromium),
    ]
    for fixture, what, get in steps:
        if fixture not in needed:
            continue
        if reporter is not None:
            reporter.write(f"e2e: {what}: ", flush=True)
        started = time.monotonic()
        try:
            found = str(get())
        except ProvisionError:
            found = "NOT AVAILABLE (the tests that need it fail and say why)"
        if reporter is not None:
            reporter.write(f"{found} ({time.monotonic() - started:.1f} s)\n", flush=True)


def _provided(config: pytest.Config, get: Callable[[Provisioner], Path]) -> Path:
    try:
        return get(_provisioner(config))
    except ProvisionError as error:
        problem = str(error)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def real_archive(pytestconfig: pytest.Config) -> Path:
    """The real code-server release archive (see the module docstring)."""
    return _provided(pytestconfig, Provisioner.archive)


@pytest.fixture(scope="session")
def chromium_executable(pytestconfig: pytest.Config) -> Path:
    """The Chromium Playwright drives (see the module docstring)."""
    return _provided(pytestconfig, Provisioner.chromium)


@pytest.fixture(scope="module")
def browser(chromium_executable: Path) -> Iterator[Browser]:
    """Headless Chromium under Playwright, one per test module."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable, args=list(CHROMIUM_ARGS), timeout=120_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies or storage from other tests)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


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


@pytest.fixture(scope="session")
def real_code_server(warm_cache: Path, real_archive_url: str, real_archive_sha256: str) -> Path:
    """``bin/code-server`` of the archive extracted in ``warm_cache`` (a cache hit)."""
    tree = Cache(warm_cache).fetch_archive(real_archive_url, real_archive_sha256)
    (executable,) = tree.glob("*/bin/code-server")
    return executable


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
