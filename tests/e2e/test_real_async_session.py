"""An ``async def`` job on a real code-server: the coroutine fails, the IDE answers while the
job's event loop keeps ticking, and a resume after the fix makes ``asyncio.run`` return the
fixed value; afterwards no code-server process and no session file remain."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.support import (
    CLI,
    Job,
    code_server_processes,
    http_request,
    session_files,
    wait_for,
    wait_for_session,
    wait_until_no_code_server,
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
        location = http_request(url + "/").header("Location")
        page = http_request(url + "/" + location.removeprefix("./"))
        assert page.status == 200 and "vscode-workbench-web-configuration" in page.text
        _wait_for_ticks(e2e_workspace, job, 20)

        source = script.read_text()
        script.write_text(source.replace("value / 0  # BUG", "value / 2  # fixed"))
        resumed = subprocess.run(
            [CLI, "resume", "--yes", "--workspace", str(e2e_workspace)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert resumed.returncode == 0, resumed.stderr
        assert job.wait(_JOB_TIMEOUT) == 0, job.describe()
        assert job.stdout.splitlines() == ["RESULT 42.0"]
        assert "ZeroDivisionError: division by zero" in job.stderr
        assert "VS Code is ready in your browser" in job.stderr
    finally:
        job.kill()
    assert wait_until_no_code_server(warm_cache) == []
    assert session_files(e2e_workspace) == []
