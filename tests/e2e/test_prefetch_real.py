"""Installing while the task runs, on the real code-server from a cold cache: the task fails
after the background install finished, and the IDE comes up without a second download;
afterwards no code-server process of that cache remains."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from tests.e2e.support import (
    Job,
    http_request,
    wait_for,
    wait_for_session,
    wait_until_no_code_server,
)
from tests.httpserver import LoopbackServer

pytestmark = pytest.mark.e2e

_JOB = """\
import logging
import time
from pathlib import Path

from vscode_interactive import Session, SessionConfig

logging.basicConfig(level=logging.INFO)
GO = Path({go!r})


def compute():
    deadline = time.monotonic() + 600
    while not GO.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    raise RuntimeError("the task failed after the background install")


if __name__ == "__main__":
    config = SessionConfig(
        port=0, auth="none", run_task_first=True, check_interval=0.5, grace_seconds=2.0
    )
    Session(config).run(compute)
"""


def test_a_failure_after_the_background_install_opens_the_ide_without_downloading(
    e2e_env: dict[str, str],
    e2e_workspace: Path,
    tmp_path: Path,
    artifact_server: LoopbackServer,
    real_archive_url: str,
) -> None:
    """Cold cache: the job logs that code-server was installed in the background while its
    task waited; then the task fails, /healthz answers, and the archive was requested once."""
    cache = tmp_path / "cold-cache"
    archive = urllib.parse.urlsplit(real_archive_url).path
    requests_before = artifact_server.count(archive)
    go = tmp_path / "go"
    script = e2e_workspace / "job.py"
    script.write_text(_JOB.format(go=str(go)))
    job = Job(script, dict(e2e_env, VSCODE_INTERACTIVE_CACHE=str(cache))).start()
    try:
        wait_for(
            lambda: True if "code-server was installed in the background" in job.stderr else None,
            timeout=600,
            interval=0.5,
            what="the background install to finish",
        )
        job.check_running()
        go.touch()
        status = wait_for_session(e2e_workspace, job)
        health = http_request(str(status["server_url"]) + "/healthz")
        assert health.status == 200
        assert artifact_server.count(archive) == requests_before + 1
        assert "waiting for the code-server install" not in job.stderr
    finally:
        job.kill()
    assert wait_until_no_code_server(cache) == []
