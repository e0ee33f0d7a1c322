"""The e2e run gets its code-server archive and Chromium itself, or fails saying what to do.

The decisions of :mod:`tests.e2e.provision` on fake paths with a fake command runner: what
runs (apt-get, the build script), what is returned, and what a failure says. Nothing here
needs the network, root or a browser.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.provision import (
    APT_CHROMIUM,
    ARCHIVE_ENV,
    CHROMIUM_ENV,
    Provisioner,
    ProvisionError,
    build_code_server,
    ensure_chromium,
    run_logged,
)

pytestmark = pytest.mark.e2e

LINUX = ("Linux", "x86_64")


@dataclass
class FakeRun:
    """Records commands; answers each with ``code`` and ``stdout``, and may create a file."""

    code: int = 0
    stdout: str = ""
    creates: Path | None = None
    calls: list[tuple[tuple[str, ...], dict[str, str]]] = field(default_factory=list)

    def __call__(
        self, argv: Sequence[str], extra_env: Mapping[str, str], log: Path, timeout: float
    ) -> tuple[int, str]:
        self.calls.append((tuple(argv), dict(extra_env)))
        log.write_text(f"log of {' '.join(argv)}\n")
        if self.creates is not None and self.code == 0:
            self.creates.write_text("#!/bin/sh\n")
            self.creates.chmod(0o755)
        return self.code, self.stdout


def provisioner_in(tmp_path: Path, **fields: Any) -> Provisioner:
    """A :class:`Provisioner` whose logs go under ``tmp_path``."""
    return Provisioner(**fields, new_log=lambda what: tmp_path / f"{what}.log")


def make_executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_present_chromium_is_used_as_is(tmp_path: Path) -> None:
    """An executable Chromium is returned without running anything."""
    chromium = make_executable(tmp_path / "chromium")
    run = FakeRun()
    found = ensure_chromium(chromium, installable=True, is_root=True, run=run, log=tmp_path / "log")
    assert found == chromium
    assert run.calls == []


def test_missing_chromium_as_root_is_apt_installed(tmp_path: Path) -> None:
    """Missing and root: apt-get update + install chromium, non-interactive, then used."""
    chromium = tmp_path / "usr-bin-chromium"
    run = FakeRun(creates=chromium)
    found = ensure_chromium(chromium, installable=True, is_root=True, run=run, log=tmp_path / "log")
    assert found == chromium
    assert [argv for argv, _ in run.calls] == list(APT_CHROMIUM)
    assert run.calls[-1][0][-1] == "chromium"
    assert all(env == {"DEBIAN_FRONTEND": "noninteractive"} for _, env in run.calls)


def test_missing_chromium_without_root_fails_saying_what_to_install(tmp_path: Path) -> None:
    """Missing and not root: nothing runs, and the error names the path and the package."""
    chromium = tmp_path / "usr-bin-chromium"
    run = FakeRun()
    with pytest.raises(ProvisionError) as error:
        ensure_chromium(chromium, installable=True, is_root=False, run=run, log=tmp_path / "l")
    message = str(error.value)
    assert str(chromium) in message
    assert "apt-get install chromium" in message
    assert CHROMIUM_ENV in message
    assert run.calls == []


def test_a_failed_apt_get_fails_with_its_log(tmp_path: Path) -> None:
    """apt-get failing: the error names the command, its exit code and the log's tail."""
    run = FakeRun(code=100)
    with pytest.raises(ProvisionError, match=r"(?s)apt-get update.*exit code 100") as error:
        ensure_chromium(
            tmp_path / "chromium", installable=True, is_root=True, run=run, log=tmp_path / "l"
        )
    assert "log of apt-get update" in str(error.value)
    assert len(run.calls) == 1


def test_apt_get_without_the_executable_afterwards_fails(tmp_path: Path) -> None:
    """apt-get succeeding but the path still missing is an error, not a pass."""
    with pytest.raises(ProvisionError, match="still missing"):
        ensure_chromium(
            tmp_path / "chromium", installable=True, is_root=True, run=FakeRun(), log=tmp_path / "l"
        )


def test_a_given_chromium_path_is_never_installed_over(tmp_path: Path) -> None:
    """A Chromium named by the variable that does not exist fails; apt-get never runs."""
    provisioner = Provisioner(
        env={CHROMIUM_ENV: str(tmp_path / "nope")}, run=FakeRun(), is_root=True
    )
    with pytest.raises(ProvisionError, match=f"{CHROMIUM_ENV}=.*nope is not an executable"):
        provisioner.chromium()
    assert isinstance(provisioner.run, FakeRun) and provisioner.run.calls == []


def test_the_archive_variable_wins_over_the_build(tmp_path: Path) -> None:
    """With the variable set to a file, that file is the archive and nothing is built."""
    archive = tmp_path / "code-server-1.2.3-linux-amd64.tar.gz"
    archive.write_bytes(b"x")
    run = FakeRun()
    assert provisioner_in(tmp_path, env={ARCHIVE_ENV: str(archive)}, run=run).archive() == archive
    assert run.calls == []


def test_an_archive_variable_naming_no_file_fails(tmp_path: Path) -> None:
    """The variable naming a missing file is an error that says how to build instead."""
    provisioner = provisioner_in(
        tmp_path, env={ARCHIVE_ENV: str(tmp_path / "none.tar.gz")}, run=FakeRun()
    )
    with pytest.raises(ProvisionError, match=r"is not a file.*build_code_server\.sh"):
        provisioner.archive()


def test_without_the_variable_the_build_script_makes_the_archive(tmp_path: Path) -> None:
    """No variable: the build script runs once; its last stdout line is the archive."""
    archive = tmp_path / "code-server-4.139.1-linux-amd64.tar.gz"
    archive.write_bytes(b"x")
    script = tmp_path / "build.sh"
    run = FakeRun(stdout=f"noise\n{archive}\n")
    provisioner = provisioner_in(tmp_path, env={}, run=run, machine=LINUX, script=script)
    assert provisioner.archive() == archive
    assert provisioner.archive() == archive
    assert [argv for argv, _ in run.calls] == [("bash", str(script))]


def test_a_failed_build_fails_every_asker_with_its_log(tmp_path: Path) -> None:
    """A failed build runs once; each later ask gets the same error with the log's tail."""
    run = FakeRun(code=1)
    provisioner = provisioner_in(
        tmp_path, env={}, run=run, machine=LINUX, script=tmp_path / "build.sh"
    )
    for _ in range(2):
        with pytest.raises(ProvisionError, match=r"(?s)exit code 1.*log of bash"):
            provisioner.archive()
    assert len(run.calls) == 1


def test_other_machines_are_told_to_name_an_archive(tmp_path: Path) -> None:
    """The build script makes Linux x86_64 archives only; elsewhere the error says so."""
    run = FakeRun()
    with pytest.raises(ProvisionError, match=f"Linux x86_64 only.*{ARCHIVE_ENV}"):
        build_code_server(
            tmp_path / "b.sh", machine=("Darwin", "arm64"), run=run, log=tmp_path / "l"
        )
    assert run.calls == []


def test_the_real_runner_captures_stdout_and_logs_stderr(tmp_path: Path) -> None:
    """run_logged: stdout returned, stderr in the log, a missing program is exit code 127."""
    log = tmp_path / "log"
    code, out = run_logged(["sh", "-c", 'echo out; echo "err $X" >&2; exit 3'], {"X": "1"}, log, 30)
    assert (code, out, log.read_text()) == (3, "out\n", "err 1\n")
    assert run_logged([str(tmp_path / "absent")], {}, log, 30) == (127, "")


def test_only_the_log_of_a_failed_command_is_kept(tmp_path: Path) -> None:
    """A successful build leaves no log behind; a failed one keeps it for the reader."""
    archive = make_executable(tmp_path / "code-server-4.139.1-linux-amd64.tar.gz")
    good = provisioner_in(tmp_path / "good", env={}, run=FakeRun(stdout=f"{archive}\n"))
    bad = provisioner_in(tmp_path / "bad", env={}, run=FakeRun(code=2))
    for directory, provisioner in ((tmp_path / "good", good), (tmp_path / "bad", bad)):
        directory.mkdir()
        provisioner.machine = LINUX
    good.archive()
    with pytest.raises(ProvisionError):
        bad.archive()
    assert list((tmp_path / "good").iterdir()) == []
    assert [path.name for path in (tmp_path / "bad").iterdir()] == ["build.log"]
