"""Helpers for end-to-end tests against a real code-server (see ``tests/e2e/conftest.py``).

* :class:`Job` runs a job script in a subprocess (its own output files) and waits for it;
* :func:`wait_for_session` polls ``vscode-interactive status --json`` until the IDE runs;
* :func:`http_request` speaks plain HTTP/1.1 to code-server without following redirects,
  so a test sees the login redirect, the ``Set-Cookie`` header and the status codes;
* :class:`SessionThread` runs ``Session.run`` in a worker thread on the extracted
  code-server (:class:`LocalSteps`), :func:`log_in` passes its login in the browser;
* :func:`fix_the_bug`, :func:`resume`, :func:`open_workbench` and :func:`assert_all_gone`
  are what the job tests do with a session: fix, resume, open, check nothing is left;
* :func:`code_server_processes` scans ``/proc`` for live processes whose command line
  contains a path (the cache directory holding the extracted code-server): after a session
  none may remain.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tests.fakes import FakeEnvironment
from vscode_interactive._install._arch import current_arch
from vscode_interactive._install._ensure import Installation
from vscode_interactive._layout import StateLayout
from vscode_interactive._session import RealSteps, Session, SessionConfig
from vscode_interactive._supervision._channel import request_abort, request_resume

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = [
    "CLI",
    "HttpAnswer",
    "Job",
    "LocalSteps",
    "SessionThread",
    "assert_all_gone",
    "assert_fixed_job_printed_42",
    "code_server_processes",
    "fix_the_bug",
    "http_request",
    "listed_extensions",
    "log_in",
    "open_workbench",
    "resume",
    "session_files",
    "wait_for",
    "wait_for_session",
    "wait_for_session_file",
    "wait_until_no_code_server",
]

T = TypeVar("T")

CLI = str(Path(sys.executable).with_name("vscode-interactive"))
"""The ``vscode-interactive`` command of this virtual environment (what a user runs)."""


def wait_for(
    probe: Callable[[], T | None], *, timeout: float, interval: float = 0.2, what: str
) -> T:
    """Call ``probe`` until it returns something other than ``None``; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Job:
    """A job script running in a subprocess; stdout and stderr go to files beside it."""

    script: Path
    env: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def stdout_path(self) -> Path:
        return self.script.with_suffix(".stdout")

    @property
    def stderr_path(self) -> Path:
        return self.script.with_suffix(".stderr")

    def start(self) -> Job:
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, str(self.script)],
                cwd=self.script.parent,
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        return self

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def describe(self) -> str:
        return f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr[-6000:]}"

    def check_running(self) -> None:
        assert self.process is not None
        code = self.process.poll()
        assert code is None, f"the job exited early with code {code}\n{self.describe()}"

    def wait(self, timeout: float) -> int:
        """The job's exit code; fails (and kills the job) if it runs past ``timeout``."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the job did not end within {timeout:g} s\n{self.describe()}"
            ) from None

    def kill(self) -> None:
        """Cleanup: SIGTERM (so the supervisor stops code-server), then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def wait_for_session(workspace: Path, job: Job, *, timeout: float = 180) -> dict[str, object]:
    """Poll ``vscode-interactive status --json --workspace WS`` until the IDE is running."""

    def probe() -> dict[str, object] | None:
        job.check_running()
        done = subprocess.run(
            [CLI, "status", "--json", "--workspace", str(workspace)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if done.returncode != 0:
            return None
        status: dict[str, object] = json.loads(done.stdout)
        return status if status.get("state") == "running" else None

    return wait_for(probe, timeout=timeout, interval=0.25, what=f"a running session in {workspace}")


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""


def http_request(
    url: str,
    *,
    method: str = "GET",
    form: Mapping[str, str] | None = None,
    cookie: str | None = None,
    timeout: float = 30,
) -> HttpAnswer:
    """One HTTP request to a loopback URL; redirects are returned, not followed."""
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost", "::1"), url
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {"Accept": "text/html"}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookie is not None:
        headers["Cookie"] = cookie
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return HttpAnswer(response.status, response.headers, response.read())
    finally:
        connection.close()


def _cmdline(pid_dir: Path) -> str | None:
    try:
        stat = (pid_dir / "stat").read_text()
        raw = (pid_dir / "cmdline").read_bytes()
    except OSError:
        return None
    state = stat[stat.rfind(")") + 2 :].split()[:1]
    if state in (["Z"], ["X"]):
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace")


def code_server_processes(marker: Path) -> list[tuple[int, str]]:
    """Live (non-zombie) processes whose command line contains ``marker``, except ours."""
    needle = str(marker)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        cmdline = _cmdline(entry)
        if cmdline is not None and needle in cmdline:
            found.append((int(entry.name), cmdline))
    return found


def wait_until_no_code_server(marker: Path, timeout: float = 15) -> list[tuple[int, str]]:
    """Wait until no process mentions ``marker``; return what is still there at the end."""
    try:
        wait_for(
            lambda: True if not code_server_processes(marker) else None,
            timeout=timeout,
            interval=0.1,
            what=f"no process of {marker}",
        )
    except AssertionError:
        return code_server_processes(marker)
    return []


def session_files(workspace: Path) -> list[Path]:
    """The supervisor's per-session files still present (none once a session ended)."""
    layout = StateLayout.for_workspace(workspace)
    paths = (layout.session_info, layout.password_file, layout.resume_socket)
    return [path for path in paths if path.exists()]


def fix_the_bug(script: Path) -> None:
    """What the user does in the IDE: the job's division by zero (the line marked ``BUG``)
    becomes a division by two, saved."""
    source = script.read_text()
    assert "value / 0  # BUG" in source
    script.write_text(source.replace("value / 0  # BUG", "value / 2  # fixed"))


def resume(workspace: Path) -> str:
    """``vscode-interactive resume --yes --workspace WS``, which must succeed; its stdout."""
    done = subprocess.run(
        [CLI, "resume", "--yes", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def open_workbench(url: str, workspace: Path, cookie: str | None = None) -> None:
    """GET / redirects to the session's workspace file, whose page is the VS Code workbench."""
    root = http_request(url + "/", cookie=cookie)
    assert root.status == 302
    location = root.header("Location")
    assert location.startswith("./?workspace=")
    opened = urllib.parse.unquote(location.removeprefix("./?workspace="))
    assert opened == str(StateLayout.for_workspace(workspace).workspace_file)
    page = http_request(url + "/" + location.removeprefix("./"), cookie=cookie)
    assert page.status == 200
    assert "vscode-workbench-web-configuration" in page.text
    assert re.search(r"static/out/vs/code/browser/workbench/workbench\.js", page.text)
    assert "4.139.1" in page.text  # codeServerVersion in the product configuration


def assert_all_gone(workspace: Path, marker: Path) -> None:
    """No process of the code-server under ``marker`` and no session file is left."""
    left = wait_until_no_code_server(marker)
    assert left == [], f"code-server processes survived the session: {left}"
    assert session_files(workspace) == []


class LocalSteps(RealSteps):
    """The real workspace writer and supervisor; code-server is the extracted archive."""

    def __init__(self, executable: Path, state: Path) -> None:
        super().__init__()
        self._executable, self._state = executable, state

    def install(self, config: SessionConfig) -> Installation:
        return Installation(
            executable=self._executable,
            version="4.139.1",
            user_data_dir=self._state / "user-data",
            extensions_dir=self._state / "extensions",
            source="path",
            arch=current_arch(),
            heartbeat_path=self._state / "heartbeat",
        )


def wait_for_session_file(layout: StateLayout, runner: threading.Thread) -> dict[str, Any]:
    """The session file's content once it says ``running`` (``runner`` runs the session)."""

    def probe() -> dict[str, Any] | None:
        assert runner.is_alive(), "the session ended before code-server was ready"
        try:
            info: dict[str, Any] = json.loads(layout.session_info.read_text())
        except (OSError, ValueError):
            return None
        return info if info.get("state") == "running" else None

    return wait_for(probe, timeout=120, what="code-server to be ready")


class SessionThread:
    """``Session.run(fn, *args)`` in a worker thread, on the extracted code-server with
    password auth, as a job would run it; a ``with`` block ends it if the test did not::

        with SessionThread(real_code_server, workspace, tmp_path / "state", train, 0.9) as run:
            info = run.wait_running()
            ...  # the user fixes the source
            assert run.resume() == [...]
    """

    def __init__(
        self, executable: Path, workspace: Path, state: Path, fn: Callable[..., Any], *args: Any
    ) -> None:
        config = SessionConfig(
            workspace_dir=workspace,
            port=0,
            run_task_first=True,
            max_idle_seconds=900,
            check_interval=1.0,
            start_timeout=120,
            grace_seconds=2,
        )
        self.layout = config.layout()
        self._session = Session(
            config,
            _env=FakeEnvironment({"VSCODE_INTERACTIVE_ENABLE": "1"}),
            _steps=LocalSteps(executable, state),
        )
        self.outcome: list[object] = []
        self.runner = threading.Thread(target=self._run, args=(fn, args))

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self.outcome.append(self._session.run(fn, *args))
        except BaseException as error:  # reported by the test's assertions
            self.outcome.append(error)

    def __enter__(self) -> SessionThread:
        self.runner.start()
        return self

    def wait_running(self) -> dict[str, Any]:
        """The session file's content once the IDE is up."""
        return wait_for_session_file(self.layout, self.runner)

    def resume(self) -> list[object]:
        """Ask the session to resume; what ``Session.run`` returned (or raised), once it did."""
        request_resume(self.layout.root)
        self.runner.join(60)
        assert not self.runner.is_alive()
        return self.outcome

    def __exit__(self, *exc_info: object) -> None:
        if self.runner.is_alive():
            # Abort, not resume: after a failed assertion the function is not fixed, and a
            # resume that raises again would open the IDE once more (a new round).
            with contextlib.suppress(Exception):
                request_abort(self.layout.root)
            self.runner.join(30)


def log_in(page: Page, url: str, layout: StateLayout) -> None:
    """Open ``url`` in the browser and pass code-server's login with the session's password."""
    page.goto(url)
    page.locator("input[name=password]").fill(layout.password_file.read_text().strip())
    page.locator("input[type=submit]").click()


def listed_extensions(
    executable: Path, installation: Installation, env: Mapping[str, str]
) -> list[str]:
    """What code-server itself lists as installed in ``installation``'s folders
    (``--list-extensions --show-versions``): one ``id@version`` a line."""
    shown = subprocess.run(
        [
            str(executable),
            "--list-extensions",
            "--show-versions",
            "--extensions-dir",
            str(installation.extensions_dir),
            "--user-data-dir",
            str(installation.user_data_dir),
        ],
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return shown.stdout.splitlines()


def assert_fixed_job_printed_42(job: Job, timeout: float = 60.0) -> None:
    """The job ends with exit code 0 having printed the fixed value (``RESULT 42.0``) after
    its first run failed (logged) and the IDE came up (the banner)."""
    assert job.wait(timeout) == 0, job.describe()
    assert job.stdout.splitlines() == ["RESULT 42.0"]
    assert "ZeroDivisionError: division by zero" in job.stderr
    assert "VS Code is ready in your browser" in job.stderr
