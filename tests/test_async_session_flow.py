"""An ``async def`` job in real processes, on the fake code-server: what a user does.

The job decorates a coroutine function with ``@vscode(run_task_first=True)`` and runs it
with ``asyncio.run`` next to a ticker task that writes its tick count to a file. The
function fails, the IDE comes up, the ticker keeps ticking, the test edits the source and
runs ``vscode-interactive resume --yes``, and ``asyncio.run`` returns the fixed value. Also:
idle timeout, cancellation of the awaiting task, SIGTERM and SIGINT.
"""

from __future__ import annotations

import signal
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.session_harness import (
    JobProcess,
    cli,
    fix_average,
    job_environment,
    run_entry_script,
    spawn,
    stop_jobs,
)
from tests.waiting import wait_until_gone
from vscode_interactive._layout import StateLayout

pytestmark = pytest.mark.integration

DEADLINE = 60.0

JOB = """
import asyncio
import json
import sys
from pathlib import Path

from tests.waiting import wait_until_async
from vscode_interactive import SessionConfig, vscode

HOOKS = Path({hooks!r})
TICKS = Path({ticks!r})
SESSION_INFO = Path({session_info!r})


def pre():
    with HOOKS.open("a") as f:
        f.write("pre\\n")


def post():
    with HOOKS.open("a") as f:
        f.write("post\\n")


@vscode(
    session_config=SessionConfig(check_interval=0.2, grace_seconds=2),
    run_task_first=True,
    port=0,
    auth="none",
    max_idle_seconds={idle},
    workspace_dir={workspace!r},
    pre_execute=pre,
    post_execute=post,
    start_timeout=20,
)
async def average(sizes):
    await asyncio.sleep(0)  # a real await point before the failure, not a wait
    return sum(sizes) / len(sizes)


async def ticker():
    ticks = 0
    while True:
        ticks += 1
        TICKS.write_text(str(ticks))
        await asyncio.sleep(0.01)  # the ticker's own pace: the loop keeps running, not a wait


def ide_running():
    try:
        return json.loads(SESSION_INFO.read_text()).get("state") == "running"
    except (OSError, ValueError):
        return False


async def main(mode):
    ticking = asyncio.create_task(ticker())
    try:
        if mode != "cancel":
            print("RESULT", await average([]), flush=True)
            return
        task = asyncio.create_task(average([]))
        await wait_until_async(ide_running, timeout={deadline}, what="the IDE")
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            print("CANCELLED", flush=True)
    finally:
        ticking.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
"""


@dataclass(kw_only=True)
class AsyncJob(JobProcess):
    script: Path
    hooks: Path
    ticks_file: Path

    def ticks(self) -> int:
        try:
            return int(self.ticks_file.read_text())
        except (OSError, ValueError):  # not written yet, or caught mid-write
            return 0


@pytest.fixture
def job_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a job that uses the fake code-server and downloads nothing."""
    return job_environment(tmp_path)


@pytest.fixture
def start_job(tmp_path: Path, job_env: dict[str, str]) -> Iterator[Callable[..., AsyncJob]]:
    started: list[AsyncJob] = []

    def start(mode: str = "run", idle: float = 60.0) -> AsyncJob:
        workspace = tmp_path / "ws"
        workspace.mkdir(exist_ok=True)
        script = workspace / "job.py"
        hooks, ticks = tmp_path / "hooks.txt", tmp_path / "ticks.txt"
        script.write_text(
            textwrap.dedent(JOB).format(
                hooks=str(hooks),
                ticks=str(ticks),
                session_info=str(StateLayout.for_workspace(workspace).session_info),
                idle=idle,
                workspace=str(workspace),
                deadline=DEADLINE,
            )
        )
        job = AsyncJob(
            script=script,
            workspace=workspace,
            hooks=hooks,
            ticks_file=ticks,
            pids_file=tmp_path / "pids.json",
            process=spawn([sys.executable, str(script), mode], cwd=workspace, env=job_env),
            deadline=DEADLINE,
        )
        started.append(job)
        return job

    yield start
    stop_jobs(started)


def test_async_fail_fix_resume_returns_the_fixed_value_while_the_loop_ticks(
    start_job: Callable[..., AsyncJob], job_env: dict[str, str]
) -> None:
    """The coroutine fails -> IDE (the ticker keeps ticking all along) -> entry script
    reproduces the failure -> source edited -> `resume --yes` -> asyncio.run returns the
    fixed value; hooks once each, no server process or session file left."""
    job = start_job()
    job.wait_for(job.running, "the IDE is up")
    ticks = job.ticks()
    job.wait_for(lambda: job.ticks() >= ticks + 20 and job.running(), "20 ticks with the IDE up")

    entry = run_entry_script(job.layout, env=job_env, cwd=job.workspace.parent)
    assert entry.returncode == 1
    assert entry.stderr.strip().splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert "in average" in entry.stderr

    fix_average(job.script)
    ticks = job.ticks()
    job.wait_for(lambda: job.ticks() >= ticks + 20 and job.running(), "20 more ticks, IDE up")
    resumed = cli("resume", "--yes", "--workspace", str(job.workspace), env=job_env)
    assert resumed.returncode == 0, resumed.stderr
    out, err = job.process.communicate(timeout=DEADLINE)
    assert job.process.returncode == 0, err
    assert "RESULT 0.0" in out
    assert "ZeroDivisionError" in err  # the first failure was logged before the IDE opened
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
    wait_until_gone(job.server_pids())
    assert not job.layout.session_info.exists()


def test_async_idle_timeout_fails_the_job_with_the_coroutines_failure_as_cause(
    start_job: Callable[..., AsyncJob],
) -> None:
    """Nobody connects: asyncio.run raises IdleTimeoutError caused by the ZeroDivisionError
    raised inside the coroutine."""
    job = start_job(idle=1.0)
    out, err = job.process.communicate(timeout=DEADLINE)
    assert job.process.returncode == 1
    assert "RESULT" not in out
    assert "vscode_interactive._errors.IdleTimeoutError" in err
    assert "The above exception was the direct cause" in err
    cause = err[: err.index("The above exception was the direct cause")]
    line = job.script.read_text().splitlines().index("    return sum(sizes) / len(sizes)") + 1
    assert f'job.py", line {line}, in average' in cause
    assert cause.strip().splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
    wait_until_gone(job.server_pids())


def test_cancelling_the_awaiting_task_stops_the_ide_cleanly(
    start_job: Callable[..., AsyncJob],
) -> None:
    """task.cancel() while the IDE is open: CancelledError reaches the job after the server
    stopped and post_execute ran once; nothing is left."""
    job = start_job("cancel")
    out, err = job.process.communicate(timeout=DEADLINE)
    assert job.process.returncode == 0, err
    assert "CANCELLED" in out
    assert "was cancelled: stopping the IDE" in err
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
    wait_until_gone(job.server_pids())
    assert not job.layout.session_info.exists()


@pytest.mark.parametrize(
    ("signum", "returncode"), [(signal.SIGTERM, 128 + 15), (signal.SIGINT, -signal.SIGINT)]
)
def test_a_signal_to_the_async_job_stops_the_ide_like_the_sync_case(
    start_job: Callable[..., AsyncJob], signum: int, returncode: int
) -> None:
    """SIGTERM -> exit status 143, SIGINT -> KeyboardInterrupt (killed by SIGINT), both after
    the server stopped and post_execute ran once: the loop's main thread forwards them."""
    job = start_job()
    job.wait_for(job.running, "the IDE is up")
    job.process.send_signal(signum)
    _, err = job.process.communicate(timeout=DEADLINE)
    assert job.process.returncode == returncode, err
    if signum == signal.SIGINT:
        assert err.strip().splitlines()[-1] == "KeyboardInterrupt"
    assert "was cancelled" not in err  # the supervisor got the signal, not asyncio.run
    assert job.hooks.read_text().splitlines() == ["pre", "post"]
    wait_until_gone(job.server_pids())
    assert not job.layout.session_info.exists()
