"""Helpers for end-to-end tests against a real code-server (see ``tests/e2e/conftest.py``).

* :class:`Job` runs a job script in a subprocess (its own output files) and waits for it;
* :func:`wait_for_session` polls ``vscode-interactive status --json`` until the IDE runs;
* :func:`http_request` speaks plain HTTP/1.1 to code-server without following redirects,
  so a test sees the login redirect, the ``Set-Cookie`` header and the status codes;
* :func:`code_server_processes` scans ``/proc`` for live processes whose command line
  contains a path (the cache directory holding the extracted code-server): after a session
  none may remain.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from vscode_interactive._layout import StateLayout

__all__ = [
    "CLI",
    "HttpAnswer",
    "Job",
    "code_server_processes",
    "http_request",
    "session_files",
    "wait_for",
    "wait_for_session",
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
