"""The library's own extension on the real code-server: air-gapped, with no other extension,
installed by identity, and a warm install starts nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.e2e.conftest import IsolatedHome
from tests.e2e.support import listed_extensions
from tests.fakes import FakeEnvironment
from vscode_interactive import ensure_installed
from vscode_interactive._extension._pack import own_extension
from vscode_interactive._ports import CommandResult
from vscode_interactive._system._processes import SubprocessRunner

pytestmark = pytest.mark.e2e

OWN = own_extension()


class RecordingRunner:
    """The real runner, remembering every command it started."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self._real = SubprocessRunner()

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        self.calls.append(list(argv))
        return self._real.run(argv, env=env, cwd=cwd, timeout=timeout)


def test_air_gapped_with_no_extensions_still_gets_ours_and_warm_starts_nothing(
    tmp_path: Path,
    e2e_home: IsolatedHome,
    real_code_server: Path,
) -> None:
    """An existing code-server, VSCODE_INTERACTIVE_EXTENSIONS="" and an empty cache: nothing
    is downloaded, one code-server call installs the library's extension (the real
    code-server lists it at its content-hashed version); the next call runs nothing."""
    env = FakeEnvironment(
        {
            **e2e_home.env(),
            "PATH": "/usr/bin:/bin",
            "VSCODE_INTERACTIVE_CODE_SERVER": str(real_code_server),
            "VSCODE_INTERACTIVE_EXTENSIONS": "",
            "VSCODE_INTERACTIVE_CACHE": str(tmp_path / "empty-cache"),
        }
    )
    runner = RecordingRunner()
    installation = ensure_installed(env=env, runner=runner)

    installs = [argv for argv in runner.calls if "--install-extension" in argv]
    assert len(installs) == 1 and Path(installs[0][-1]).name == OWN.file_name
    assert installation.installed_extensions == (OWN.id,)
    assert installation.extensions == ()
    cache = tmp_path / "empty-cache"
    assert not cache.exists() or not any(cache.rglob("*.vsix"))  # nothing was fetched
    entries = json.loads((installation.extensions_dir / "extensions.json").read_text())
    assert [(e["identifier"]["id"], e["version"]) for e in entries] == [(OWN.id, OWN.version)]
    listed = listed_extensions(real_code_server, installation, env.snapshot())
    assert f"{OWN.id}@{OWN.version}" in listed

    runner.calls.clear()
    again = ensure_installed(env=env, runner=runner)
    assert runner.calls == []  # no --install-extension, no --version: nothing started
    assert again.installed_extensions == (OWN.id,)
