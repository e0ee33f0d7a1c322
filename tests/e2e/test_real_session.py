"""A failing job opens a real code-server; the IDE answers, resumes with the fixed source,
or stops when idle; afterwards no code-server process and no session file remain."""

from __future__ import annotations

import json
import re
import stat
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

# Each job divides by zero on the line marked BUG; the test "fixes" it by editing that line.
_DECORATOR_JOB = """\
import logging

from vscode_interactive import SessionConfig, vscode

logging.basicConfig(level=logging.INFO)


@vscode(
    run_task_first=True,
    port=0,
    auth="none",
    max_idle_seconds={idle},
    session_config=SessionConfig(check_interval=0.5, grace_seconds=2.0),
)
def compute(value: int) -> float:
    return value / 0  # BUG


if __name__ == "__main__":
    print("RESULT", compute(84), flush=True)
"""

_SESSION_JOB = """\
import logging

from vscode_interactive import IdleTimeoutError, Session, SessionConfig

logging.basicConfig(level=logging.INFO)


def compute(value: int) -> float:
    return value / 0  # BUG


if __name__ == "__main__":
    config = SessionConfig(
        port=0,
        auth="{auth}",
        run_task_first=True,
        max_idle_seconds={idle},
        check_interval=0.5,
        grace_seconds=2.0,
    )
    try:
        print("RESULT", Session(config).run(compute, 84), flush=True)
    except IdleTimeoutError as error:
        print("IDLE", type(error.__cause__).__name__, error, flush=True)
        raise
"""


def _write_job(workspace: Path, template: str, **values: object) -> Path:
    script = workspace / "job.py"
    script.write_text(template.format(**values))
    return script


def _assert_heartbeat_alive(url: str) -> None:
    """/healthz reports an 'alive' heartbeat once a real request reached code-server."""

    def alive() -> dict[str, object] | None:
        answer = http_request(url + "/healthz")
        assert answer.status == 200
        body: dict[str, object] = json.loads(answer.body)
        return body if body.get("status") == "alive" else None

    body = wait_for(alive, timeout=10, what="an alive heartbeat in /healthz")
    heartbeat = body["lastHeartbeat"]
    assert isinstance(heartbeat, int) and heartbeat > 0


def test_failing_job_opens_the_ide_and_resume_runs_the_fixed_source(
    e2e_env: dict[str, str], e2e_workspace: Path, warm_cache: Path
) -> None:
    """@vscode(run_task_first=True) on a failing function: status and /healthz answer, GET /
    serves the workbench, the heartbeat turns alive, and `vscode-interactive resume --yes`
    after fixing the file makes the job print the fixed value and exit 0."""
    script = _write_job(e2e_workspace, _DECORATOR_JOB, idle=600)
    assert code_server_processes(warm_cache) == []
    job = Job(script, e2e_env).start()
    try:
        status = wait_for_session(e2e_workspace, job)
        url = str(status["server_url"])
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        # What the banner tells the user to open lands on the failing line.
        assert str(status["url"]).startswith(url + "/?workspace=")
        assert status["password_file"] is None
        assert int(str(status["server_pid"])) > 0
        assert code_server_processes(warm_cache), "no process runs the extracted code-server"

        health = http_request(url + "/healthz")
        assert health.status == 200 and b'"status"' in health.body

        open_workbench(url, e2e_workspace)
        _assert_heartbeat_alive(url)

        fix_the_bug(script)
        assert "resume accepted" in resume(e2e_workspace)
        assert_fixed_job_printed_42(job, _JOB_TIMEOUT)
    finally:
        job.kill()
    assert_all_gone(e2e_workspace, warm_cache)


def _children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (the guardian's child is code-server)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat_text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat_text[stat_text.rfind(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_password_auth_shows_the_login_page_and_refuses_a_wrong_password(
    e2e_env: dict[str, str], e2e_workspace: Path, warm_cache: Path
) -> None:
    """Session.run with auth="password": GET / redirects to the login page, a wrong password
    is refused, the one in the 0600 password file opens the workbench (code-server read it
    from its config file: it is in no process's environment); resume then returns."""
    script = _write_job(e2e_workspace, _SESSION_JOB, auth="password", idle=600)
    job = Job(script, e2e_env).start()
    try:
        status = wait_for_session(e2e_workspace, job)
        url = str(status["server_url"])
        password_file = Path(str(status["password_file"]))
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        password = password_file.read_text().strip()
        assert len(password) >= 24
        assert password not in (Path("/proc") / str(status["server_pid"]) / "cmdline").read_text(
            errors="replace"
        )
        # Nor in any environment: code-server read it from its 0600 config file.
        guardian = int(str(status["server_pid"]))
        for pid in (guardian, *_children_of(guardian)):
            assert password.encode() not in (Path("/proc") / str(pid) / "environ").read_bytes()

        root = http_request(url + "/")
        assert root.status == 302 and "login" in root.header("Location")
        login = http_request(url + "/login")
        assert login.status == 200
        assert re.search(r'<input[^>]*name="password"', login.text)
        assert "code-server-session" not in root.header("Set-Cookie")

        wrong = http_request(url + "/login", method="POST", form={"password": password + "x"})
        assert "code-server-session" not in wrong.header("Set-Cookie")
        assert wrong.status != 302 and "Incorrect password" in wrong.text

        right = http_request(url + "/login", method="POST", form={"password": password})
        assert right.status == 302
        cookie = right.header("Set-Cookie").split(";", 1)[0]
        assert cookie.startswith("code-server-session=")
        open_workbench(url, e2e_workspace, cookie=cookie)
        _assert_heartbeat_alive(url)

        fix_the_bug(script)
        resume(e2e_workspace)
        assert job.wait(_JOB_TIMEOUT) == 0, job.describe()
        assert job.stdout.splitlines() == ["RESULT 42.0"]
    finally:
        job.kill()
    assert_all_gone(e2e_workspace, warm_cache)
    assert not password_file.exists()


def test_idle_session_ends_with_idle_timeout_error_from_the_failure(
    e2e_env: dict[str, str], e2e_workspace: Path, warm_cache: Path
) -> None:
    """With max_idle_seconds=3 and nobody using the IDE, the job fails with IdleTimeoutError
    whose cause is the original ZeroDivisionError, and code-server is stopped."""
    script = _write_job(e2e_workspace, _SESSION_JOB, auth="none", idle=3)
    job = Job(script, e2e_env).start()
    try:
        status = wait_for_session(e2e_workspace, job)
        assert status["max_idle_seconds"] == 3
        assert job.wait(_JOB_TIMEOUT) == 1, job.describe()
    finally:
        job.kill()
    out = job.stdout.splitlines()
    assert len(out) == 1 and out[0].startswith("IDLE ZeroDivisionError "), job.describe()
    assert "idle for" in out[0] and "(limit 3 s)" in out[0]
    err = job.stderr
    cause = err.rfind("ZeroDivisionError: division by zero")
    chained = err.rfind("The above exception was the direct cause of the following exception")
    final = err.rfind("IdleTimeoutError:")
    assert 0 <= cause < chained < final, job.describe()
    assert_all_gone(e2e_workspace, warm_cache)
