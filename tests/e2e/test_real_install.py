"""ensure_installed against the real code-server archive and a real .vsix, served locally."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import IsolatedHome, ProbeExtension
from tests.e2e.support import listed_extensions, wait_until_no_code_server
from tests.fakes import FakeEnvironment
from tests.httpserver import LoopbackServer
from vscode_interactive import HashMismatchError, ensure_installed
from vscode_interactive._extension._pack import own_extension

pytestmark = pytest.mark.e2e


def _environment(home: IsolatedHome, cache: Path, sources: dict[str, str]) -> FakeEnvironment:
    """The variables ensure_installed reads; PATH has no code-server on it."""
    return FakeEnvironment(
        {
            **home.env(),
            **sources,
            "PATH": "/usr/bin:/bin",
            "VSCODE_INTERACTIVE_CACHE": str(cache),
        }
    )


def test_cold_install_with_pins_then_warm_without_network_or_node(
    tmp_path: Path,
    e2e_home: IsolatedHome,
    real_code_server_env: dict[str, str],
    real_archive: Path,
    real_archive_url: str,
    real_archive_sha256: str,
    probe_extension: ProbeExtension,
    artifact_server: LoopbackServer,
) -> None:
    """A cold install downloads the pinned archive and .vsix once, installs it and the
    library's own extension into a real code-server (extensions.json and --list-extensions
    agree); a second call is a hit."""
    cache = tmp_path / "cache"
    env = _environment(e2e_home, cache, real_code_server_env)
    archive_path = "/" + real_archive.name
    before = artifact_server.count(archive_path)

    installation = ensure_installed(env=env)

    assert artifact_server.count(archive_path) == before + 1
    assert installation.source == "download"
    assert installation.version == "4.139.1"
    assert installation.executable.is_relative_to(cache)
    assert installation.executable.parts[-2:] == ("bin", "code-server")
    assert installation.archive is not None
    assert installation.archive.sha256 == real_archive_sha256
    assert installation.pins[real_archive_url] == real_archive_sha256
    own = own_extension()
    assert sorted(installation.installed_extensions) == sorted([probe_extension.id, own.id])
    assert installation.extensions_dir == e2e_home.data / "vscode-interactive" / "extensions"

    entries = json.loads((installation.extensions_dir / "extensions.json").read_text())
    listed = {(entry["identifier"]["id"], entry["version"]) for entry in entries}
    assert listed == {(probe_extension.id, probe_extension.version), (own.id, own.version)}
    shown = listed_extensions(installation.executable, installation, env.snapshot())
    assert {f"{probe_extension.id}@{probe_extension.version}", f"{own.id}@{own.version}"} <= set(
        shown
    )
    version = subprocess.run(
        [str(installation.executable), "--version"],
        env=env.snapshot(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert version.stdout.strip().splitlines()[-1].startswith("4.139.1 ")

    state = (installation.extensions_dir / "extensions.json").stat().st_mtime_ns
    again = ensure_installed(env=env)
    assert again.source == "cache"
    assert again.executable == installation.executable
    assert artifact_server.count(archive_path) == before + 1
    assert (installation.extensions_dir / "extensions.json").stat().st_mtime_ns == state
    assert wait_until_no_code_server(cache) == []


def test_wrong_pin_refuses_the_real_archive(
    tmp_path: Path, e2e_home: IsolatedHome, real_code_server_env: dict[str, str]
) -> None:
    """A sha256 pin that does not match the served archive stops the install: nothing is
    left extracted and no code-server is runnable from the cache."""
    cache = tmp_path / "cache"
    sources = {**real_code_server_env, "VSCODE_INTERACTIVE_CODE_SERVER_SHA256": "0" * 64}
    with pytest.raises(HashMismatchError, match=r"0{64}"):
        ensure_installed(env=_environment(e2e_home, cache, sources))
    assert list(cache.rglob("code-server")) == []
