"""An ``async def`` job on a real code-server: the coroutine fails, the IDE answers while the
job's event loop keeps ticking, and a resume after the fix makes ``asyncio.run`` return the
fixed value; afterwards no code-server process and no session file remain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.support import (
    Job,
    assert_all_gone,
    assert_fixed_job_printed_42,
    code_server_processes,
    fix_the_bug,
    http_request,
    open_workbench,
    resume,
    wait_for,
    wait_for_session,
)

pytestmark = pytest.mark.e2e

_JOB_TIMEOUT = 60.0

_ASYNC_JOB = """\
import asyncio
import logging
from pathlib import Path

from vscode_interactive import SessionConfig, vscode

logging.basicConfig(level=logging.INFO)
TICKS = Path(__file__).with_name("ticks.txt")


@vscode(
    run_task_first=True,
    port=0,
    auth="none",
    max_idle_seconds=600,
    session_config=SessionConfig(check_interval=0.5, grace_seconds=2.0),
)
async def compute(value: int) -> float:
    await asyncio.sleep(0)
    return value / 0  # BUG


async def ticker() -> None:
    ticks = 0
    while True:
        ticks += 1
        TICKS.write_text(str(ticks))
        await asyncio.sleep(0.01)


async def main() -> None:
    ticking = asyncio.create_task(ticker())
    try:
        print("RESULT", await compute(84), flush=True)
    finally:
        ticking.cancel()


if __name__ == "__main__":
    asyncio.run(main())
"""


def _ticks(workspace: Path) -> int:
    try:
        return int((workspace / "ticks.txt").read_text())
    except (OSError, ValueError):  # not written yet, or caught mid-write
        return 0


def _wait_for_ticks(workspace: Path, job: Job, count: int) -> None:
    start = _ticks(workspace)

    def ticked() -> bool | None:
        job.check_running()
        return True if _ticks(workspace) >= start + count else None

    wait_for(ticked, timeout=30, interval=0.05, what=f"{count} ticks of the job's event loop")


def test_failing_coroutine_opens_the_ide_without_blocking_the_loop_and_resumes(
    e2e_env: dict[str, str], e2e_workspace: Path, warm_cache: Path
) -> None:
    """@vscode on a failing ``async def``: the real code-server answers /healthz and serves
    the workbench while the job's other task keeps ticking; after the fix,
    `vscode-interactive resume --yes` makes asyncio.run return the fixed value."""
    script = e2e_workspace / "job.py"
    script.write_text(_ASYNC_JOB)
    assert code_server_processes(warm_cache) == []
    job = Job(script, e2e_env).start()
    try:
        status = wait_for_session(e2e_workspace, job)
        url = str(status["server_url"])
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert code_server_processes(warm_cache), "no process runs the extracted code-server"
        _wait_for_ticks(e2e_workspace, job, 20)

        health = http_request(url + "/healthz")
        assert health.status == 200 and b'"status"' in health.body
        open_workbench(url, e2e_workspace)
        _wait_for_ticks(e2e_workspace, job, 20)

        fix_the_bug(script)
        resume(e2e_workspace)
        assert_fixed_job_printed_42(job, _JOB_TIMEOUT)
    finally:
        job.kill()
    assert_all_gone(e2e_workspace, warm_cache)
