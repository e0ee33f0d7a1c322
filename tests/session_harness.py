"""Real jobs on the fake code-server: the set-up and checks the session-flow tests share.

A flow test writes a job script (a function decorated with ``@vscode(run_task_first=True)``
that fails), starts it in the environment :func:`job_environment` builds (the fake
code-server from :mod:`tests.fake_code_server`, private data and cache folders, nothing
downloaded), waits for the IDE with :meth:`JobProcess.wait_running`, fixes the job like a
user (:func:`fix_average`), resumes it with :func:`cli`, and proves with
:meth:`JobProcess.server_pids` and :func:`tests.waiting.wait_until_gone` that no server
process is left; :func:`stop_jobs` cleans up whatever a failed test left running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from tests.fake_code_server import install_fake_code_server
from tests.waiting import kill_leftovers, wait_until
from vscode_interactive._layout import StateLayout

__all__ = [
    "BUGGY_AVERAGE",
    "FIXED_AVERAGE",
    "JobProcess",
    "cli",
    "fix_average",
    "job_environment",
    "read_pids",
    "read_session_info",
    "run_entry_script",
    "spawn",
    "stop_jobs",
]

_T = TypeVar("_T")

BUGGY_AVERAGE = "return sum(sizes) / len(sizes)"
"""The bug in every flow job: the average of an empty list divides by zero."""
FIXED_AVERAGE = "return sum(sizes) / len(sizes) if sizes else 0.0"
"""The user's fix, which makes the job return 0.0."""


def job_environment(
    tmp_path: Path,
    *,
    drop_prefixes: Iterable[str] = (),
    drop_names: Iterable[str] = (),
    enable: bool = True,
    **extra: str,
) -> dict[str, str]:
    """The environment of a job that uses the fake code-server (installed under
    ``tmp_path/bin``, its pids written to ``tmp_path/pids.json``) and downloads nothing.

    This process's variables are kept but for ours, pytest's, the fake's and those named by
    ``drop_prefixes`` and ``drop_names``; ``extra`` is added last. ``enable=False`` leaves
    ``VSCODE_INTERACTIVE_ENABLE`` unset, so the job's own context decides (flytekit's mode).
    """
    prefixes = ("VSCODE_INTERACTIVE_", "PYTEST_", "FAKE_CS_", *drop_prefixes)
    names = set(drop_names)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(prefixes) and key not in names
    }
    env.update(
        VSCODE_INTERACTIVE_CODE_SERVER=str(install_fake_code_server(tmp_path / "bin")),
        VSCODE_INTERACTIVE_EXTENSIONS="",
        VSCODE_INTERACTIVE_DATA_DIR=str(tmp_path / "data"),
        VSCODE_INTERACTIVE_CACHE=str(tmp_path / "cache"),
        FAKE_CS_PIDS=str(tmp_path / "pids.json"),
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    if enable:
        env["VSCODE_INTERACTIVE_ENABLE"] = "1"
    env.update(extra)
    return env


def cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m vscode_interactive ARGS`` like a user in a terminal (60 s at most)."""
    return subprocess.run(
        [sys.executable, "-m", "vscode_interactive", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def spawn(argv: Sequence[str], *, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a job whose stdout and stderr the test reads as text."""
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_entry_script(
    layout: StateLayout, *, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run the IDE's debug entry script the way its launch configuration does."""
    return subprocess.run(
        [sys.executable, str(layout.entry_script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def fix_average(script: Path) -> None:
    """What the user does in the IDE: fix the job's division by zero and save."""
    source = script.read_text()
    assert BUGGY_AVERAGE in source, script
    script.write_text(source.replace(BUGGY_AVERAGE, FIXED_AVERAGE))


def read_session_info(layout: StateLayout) -> dict[str, object]:
    """The session file's contents; empty while it is missing or caught mid-write."""
    try:
        info: dict[str, object] = json.loads(layout.session_info.read_text())
    except (OSError, ValueError):
        return {}
    return info


def read_pids(pids_file: Path, *, missing_ok: bool = False) -> list[int]:
    """The pids the fake code-server reported (``[]`` before it did, with ``missing_ok``)."""
    try:
        pids: list[int] = json.loads(pids_file.read_text())
    except (OSError, ValueError):
        if missing_ok:
            return []
        raise
    return pids


@dataclass(kw_only=True)
class JobProcess:
    """A job process started by a flow test, its workspace and what it printed."""

    workspace: Path
    pids_file: Path
    process: subprocess.Popen[str]
    out: str = ""
    err: str = ""
    deadline: float = field(default=60.0)

    @property
    def layout(self) -> StateLayout:
        return StateLayout.for_workspace(self.workspace)

    def session_info(self) -> dict[str, object]:
        return read_session_info(self.layout)

    def running(self) -> bool:
        """The supervisor's session file says the IDE is up."""
        return self.session_info().get("state") == "running"

    def wait_for(
        self, condition: Callable[[], _T | None], what: str, timeout: float | None = None
    ) -> _T:
        """Wait until ``condition`` holds and return its value; fail at once, with what the
        job printed, if the job ended first."""

        def reached() -> _T | None:
            if self.process.poll() is not None:
                self.finish()
                raise AssertionError(f"the job ended before {what}:\n{self.out}\n{self.err}")
            return condition()

        return wait_until(reached, timeout=timeout or self.deadline, what=what)

    def wait_running(self, timeout: float | None = None) -> dict[str, object]:
        """Wait until the session file says the IDE is up and return that file's contents."""

        def running_info() -> dict[str, object] | None:
            info = self.session_info()
            return info if info.get("state") == "running" else None

        return self.wait_for(running_info, "the session file to say 'running'", timeout)

    def finish(self, timeout: float | None = None) -> int:
        """Wait for the job to end; keep what it printed in ``out`` and ``err``."""
        self.out, self.err = self.process.communicate(timeout=timeout or self.deadline)
        return self.process.returncode

    def server_pids(self) -> list[int]:
        return read_pids(self.pids_file)


def stop_jobs(jobs: Iterable[JobProcess]) -> None:
    """Test cleanup: kill each job still running, and every server process it left."""
    for job in jobs:
        if job.process.poll() is None:
            job.process.kill()
        job.process.communicate()
        if job.pids_file.exists():
            kill_leftovers(job.server_pids())
