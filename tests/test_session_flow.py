"""The whole flow in real processes, on the fake code-server: what a user does.

A job script decorated with ``@vscode(run_task_first=True)`` fails, the IDE comes up, the
test edits the source like a user would, runs ``vscode-interactive resume --yes``, and the
job finishes with the fixed value. Also: idle timeout, disabled sessions, hooks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fake_code_server import install_fake_code_server
from tests.httpserver import LoopbackServer
from tests.waiting import kill_leftovers, wait_until, wait_until_gone
from vscode_interactive._layout import StateLayout

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


@dataclass
class Job:
    script: Path
    workspace: Path
    hooks: Path
    pids_file: Path
    process: subprocess.Popen[str]

    @property
    def layout(self) -> StateLayout:
        return StateLayout.for_workspace(self.workspace)

    def wait_running(self, timeout: float = 30) -> dict[str, object]:
        """Wait until the supervisor's session file says the IDE is up."""

        def running() -> dict[str, object]:
            assert self.process.poll() is None, self.process.communicate()
            try:
                info: dict[str, object] = json.loads(self.layout.session_info.read_text())
            except (OSError, ValueError):
                return {}
            return info if info.get("state") == "running" else {}

        return wait_until(running, timeout=timeout, what="the session file to say 'running'")

    def server_pids(self) -> list[int]:
        pids: list[int] = json.loads(self.pids_file.read_text())
        return pids


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vscode_interactive", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def job_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a job that uses the fake code-server and downloads nothing."""
    fake = install_fake_code_server(tmp_path / "bin")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VSCODE_INTERACTIVE_", "PYTEST_", "FAKE_CS_"))
    }
    env.update(
        VSCODE_INTERACTIVE_CODE_SERVER=str(fake),
        VSCODE_INTERACTIVE_EXTENSIONS="",
        VSCODE_INTERACTIVE_DATA_DIR=str(tmp_path / "data"),
        VSCODE_INTERACTIVE_CACHE=str(tmp_path / "cache"),
        VSCODE_INTERACTIVE_ENABLE="1",
        FAKE_CS_PIDS=str(tmp_path / "pids.json"),
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    return env


@pytest.fixture
def start_job(tmp_path: Path, job_env: dict[str, str]) -> Iterator[object]:
    started: list[Job] = []

    def start(
        idle: float = 60.0,
        name: str = "job.py",
        argument: str = "[]",
        port: int = 0,
    ) -> Job:
        workspace = tmp_path / "ws"
        workspace.mkdir(exist_ok=True)
        script = workspace / name
        hooks = tmp_path / "hooks.txt"
        script.write_text(
            textwrap.dedent(JOB).format(
                hooks=str(hooks),
                idle=idle,
                workspace=str(workspace),
                argument=argument,
                port=port,
            )
        )
        process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=workspace,
            env=job_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        job = Job(script, workspace, hooks, tmp_path / "pids.json", process)
        started.append(job)
        return job

    yield start
    for job in started:
        if job.process.poll() is None:
            job.process.kill()
        job.process.communicate()
        if job.pids_file.exists():
            kill_leftovers(job.server_pids())


def test_fail_debug_fix_resume_returns_fixed_value(
    start_job: object, job_env: dict[str, str]
) -> None:
    """run_task_first fails -> IDE -> source edited -> `resume --yes` -> fixed value returned."""
    job: Job = start_job()  # type: ignore[operator]
    info = job.wait_running()
    assert str(info["url"]).startswith("http://127.0.0.1:")
    status = cli("status", "--json", "--workspace", str(job.workspace), env=job_env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["state"] == "running"

    job.script.write_text(
        job.script.read_text().replace(
            "return sum(sizes) / len(sizes)", "return sum(sizes) / len(sizes) if sizes else 0.0"
        )
    )
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


def test_idle_timeout_fails_job_with_original_cause(start_job: object) -> None:
    """Nobody connects: the job ends with IdleTimeoutError caused by the ZeroDivisionError."""
    job: Job = start_job(idle=1.0)  # type: ignore[operator]
    out, err = job.process.communicate(timeout=60)
    assert job.process.returncode == 1
    assert "RESULT" not in out
    assert "vscode_interactive._errors.IdleTimeoutError" in err
    assert "The above exception was the direct cause" in err
    assert err.index("ZeroDivisionError") < err.index("IdleTimeoutError: the IDE")
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
    wait_until_gone(job.server_pids())


def test_sigterm_to_job_stops_server_and_exits_like_signalled(start_job: object) -> None:
    """SIGTERM to the job: server stopped, post_execute once, exit status 128+15."""
    job: Job = start_job()  # type: ignore[operator]
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
        script = workspace / "job.py"
        script.write_text(
            textwrap.dedent(JOB).format(
                hooks=str(tmp_path / "hooks.txt"),
                idle=60,
                workspace=str(workspace),
                argument="[]",
                port=0,
            )
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
    start_job: object, job_env: dict[str, str]
) -> None:
    """Job B in job A's workspace fails before writing anything (A's captured inputs and
    front page stay A's), and its error names A's pid and URL; A still resumes."""
    first: Job = start_job()  # type: ignore[operator]
    info = first.wait_running()
    before = _snapshot(first.workspace)
    second: Job = start_job(name="job2.py", argument="()")  # type: ignore[operator]
    _, err = second.process.communicate(timeout=60)
    assert second.process.returncode == 1
    assert "ServerStartError" in err
    assert f"pid {first.process.pid}" in err and str(info["url"]) in err
    assert "The above exception was the direct cause" in err  # B's own ZeroDivisionError
    assert _snapshot(first.workspace) == before
    first.script.write_text(
        first.script.read_text().replace("/ len(sizes)", "/ len(sizes) if sizes else 0.0")
    )
    resumed = cli("resume", "--yes", "--workspace", str(first.workspace), env=job_env)
    assert resumed.returncode == 0, resumed.stderr
    out, _ = first.process.communicate(timeout=60)
    assert "RESULT 0.0" in out
    wait_until_gone(first.server_pids())


def test_a_taken_port_is_reported_before_any_work_and_chained(start_job: object) -> None:
    """port=N already taken: the job fails before installing or writing the workspace,
    with the task's own failure as the cause."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        job: Job = start_job(port=port)  # type: ignore[operator]
        _, err = job.process.communicate(timeout=60)
    assert job.process.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert err.index("ZeroDivisionError") < err.index("ServerStartError")
    assert "The above exception was the direct cause" in err
    assert not job.layout.inputs.exists() and not (job.workspace / ".vscode").exists()
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
