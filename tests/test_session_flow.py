"""The whole flow in real processes, on the fake code-server: what a user does.

A job script decorated with ``@vscode(run_task_first=True)`` fails, the IDE comes up, the
test edits the source like a user would, runs ``vscode-interactive resume --yes``, and the
job finishes with the fixed value. Also: idle timeout, disabled sessions, hooks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.httpserver import LoopbackServer
from tests.session_harness import (
    JobProcess,
    cli,
    fix_average,
    job_environment,
    spawn,
    stop_jobs,
)
from tests.waiting import wait_until_gone

pytestmark = pytest.mark.integration

JOB = """
import sys
from pathlib import Path

from vscode_interactive import SessionConfig, vscode

HOOKS = Path({hooks!r})


def pre():
    with HOOKS.open("a") as f:
        f.write("pre\\n")


def post():
    with HOOKS.open("a") as f:
        f.write("post\\n")


@vscode(
    session_config=SessionConfig(check_interval=0.2, grace_seconds=2),
    run_task_first=True,
    port={port},
    auth="none",
    max_idle_seconds={idle},
    workspace_dir={workspace!r},
    pre_execute=pre,
    post_execute=post,
    start_timeout=20,
)
def average(sizes):
    return sum(sizes) / len(sizes)


if __name__ == "__main__":
    print("RESULT", average({argument}), flush=True)
"""


@dataclass(kw_only=True)
class Job(JobProcess):
    script: Path
    hooks: Path


@pytest.fixture
def job_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a job that uses the fake code-server and downloads nothing."""
    return job_environment(tmp_path)


def write_job(workspace: Path, name: str, hooks: Path, **values: object) -> Path:
    """Write the job script ``name`` into ``workspace``, which it also uses as its own."""
    script = workspace / name
    script.write_text(
        textwrap.dedent(JOB).format(hooks=str(hooks), workspace=str(workspace), **values)
    )
    return script


@pytest.fixture
def start_job(tmp_path: Path, job_env: dict[str, str]) -> Iterator[Callable[..., Job]]:
    started: list[Job] = []

    def start(
        idle: float = 60.0,
        name: str = "job.py",
        argument: str = "[]",
        port: int = 0,
    ) -> Job:
        workspace = tmp_path / "ws"
        workspace.mkdir(exist_ok=True)
        hooks = tmp_path / "hooks.txt"
        script = write_job(workspace, name, hooks, idle=idle, argument=argument, port=port)
        job = Job(
            script=script,
            workspace=workspace,
            hooks=hooks,
            pids_file=tmp_path / "pids.json",
            process=spawn([sys.executable, str(script)], cwd=workspace, env=job_env),
        )
        started.append(job)
        return job

    yield start
    stop_jobs(started)


def test_fail_debug_fix_resume_returns_fixed_value(
    start_job: Callable[..., Job], job_env: dict[str, str]
) -> None:
    """run_task_first fails -> IDE -> source edited -> `resume --yes` -> fixed value returned."""
    job = start_job()
    info = job.wait_running()
    assert str(info["url"]).startswith("http://127.0.0.1:")
    status = cli("status", "--json", "--workspace", str(job.workspace), env=job_env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["state"] == "running"

    fix_average(job.script)
    resumed = cli("resume", "--yes", "--workspace", str(job.workspace), env=job_env)
    assert resumed.returncode == 0, resumed.stderr
    out, err = job.process.communicate(timeout=60)
    assert job.process.returncode == 0, err
    assert "RESULT 0.0" in out
    assert "ZeroDivisionError" in err  # the first failure was logged before the IDE opened
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
    wait_until_gone(job.server_pids())
    assert not job.layout.session_info.exists()
    assert not (job.workspace / ".vscode").exists()  # ours went to the workspace file
    assert job.layout.workspace_file.is_file()


def test_idle_timeout_fails_job_with_original_cause(start_job: Callable[..., Job]) -> None:
    """Nobody connects: the job ends with IdleTimeoutError caused by the ZeroDivisionError."""
    job = start_job(idle=1.0)
    out, err = job.process.communicate(timeout=60)
    assert job.process.returncode == 1
    assert "RESULT" not in out
    assert "vscode_interactive._errors.IdleTimeoutError" in err
    assert "The above exception was the direct cause" in err
    assert err.index("ZeroDivisionError") < err.index("IdleTimeoutError: the IDE")
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
    wait_until_gone(job.server_pids())


def test_sigterm_to_job_stops_server_and_exits_like_signalled(
    start_job: Callable[..., Job],
) -> None:
    """SIGTERM to the job: server stopped, post_execute once, exit status 128+15."""
    job = start_job()
    job.wait_running()
    job.process.terminate()
    job.process.communicate(timeout=60)
    assert job.process.returncode == 128 + 15
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
    wait_until_gone(job.server_pids())


def test_disabled_session_downloads_nothing(tmp_path: Path, job_env: dict[str, str]) -> None:
    """VSCODE_INTERACTIVE_ENABLE=0: the failure propagates; no request, no files."""
    with LoopbackServer() as server:
        url = server.add("/code-server.tar.gz", b"never fetched")
        env = dict(job_env, VSCODE_INTERACTIVE_ENABLE="0", VSCODE_INTERACTIVE_CODE_SERVER_URL=url)
        del env["VSCODE_INTERACTIVE_CODE_SERVER"]
        workspace = tmp_path / "ws"
        workspace.mkdir()
        script = write_job(
            workspace, "job.py", tmp_path / "hooks.txt", idle=60, argument="[]", port=0
        )
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1
        assert "ZeroDivisionError" in done.stderr
        assert server.count("/code-server.tar.gz") == 0
    assert not (workspace / ".vscode-interactive").exists()
    assert not (tmp_path / "hooks.txt").exists()
    assert not (tmp_path / "cache").exists()


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Content and inode of every file under ``directory`` (the log, the status file and
    the jobs' own scripts aside)."""
    return {
        str(path.relative_to(directory)): (path.read_bytes(), path.stat().st_ino)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
        and path.name not in ("code-server.log", "session.json", "job2.py")
        and not path.name.startswith(".session.json.")  # its refresh, mid-write
    }


def test_a_second_job_in_the_same_workspace_changes_nothing_and_names_the_first(
    start_job: Callable[..., Job], job_env: dict[str, str]
) -> None:
    """Job B in job A's workspace fails before writing anything (A's captured inputs and
    front page stay A's), and its error names A's pid and URL; A still resumes."""
    first = start_job()
    info = first.wait_running()
    before = _snapshot(first.workspace)
    second = start_job(name="job2.py", argument="()")
    _, err = second.process.communicate(timeout=60)
    assert second.process.returncode == 1
    assert "ServerStartError" in err
    assert f"pid {first.process.pid}" in err and str(info["url"]) in err
    assert "The above exception was the direct cause" in err  # B's own ZeroDivisionError
    assert _snapshot(first.workspace) == before
    fix_average(first.script)
    resumed = cli("resume", "--yes", "--workspace", str(first.workspace), env=job_env)
    assert resumed.returncode == 0, resumed.stderr
    out, _ = first.process.communicate(timeout=60)
    assert "RESULT 0.0" in out
    wait_until_gone(first.server_pids())


def test_a_taken_port_is_reported_before_any_work_and_chained(
    start_job: Callable[..., Job],
) -> None:
    """port=N already taken: the job fails before installing or writing the workspace,
    with the task's own failure as the cause."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        job = start_job(port=port)
        _, err = job.process.communicate(timeout=60)
    assert job.process.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert err.index("ZeroDivisionError") < err.index("ServerStartError")
    assert "The above exception was the direct cause" in err
    assert not job.layout.inputs.exists() and not (job.workspace / ".vscode").exists()
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
