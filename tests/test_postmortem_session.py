"""A failed job on the fake code-server, inspected post-mortem through a DAP client, then
resumed (fixed), or resumed into a new failure and aborted.

The job is a real process running ``@vscode(run_task_first=True)``; the debugger is the
real debugpy in it; only code-server is the fake one of tests/fake_code_server.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.dap import DapClient
from tests.fake_code_server import install_fake_code_server
from tests.waiting import wait_until
from vscode_interactive._errors import ResumeError
from vscode_interactive._layout import StateLayout
from vscode_interactive._supervision._channel import request_status
from vscode_interactive._workspace._jsonc import parse_jsonc
from vscode_interactive._workspace._vscode import POST_MORTEM_CONFIGURATION_NAME

pytestmark = pytest.mark.integration

T = TypeVar("T")
TIMEOUT = 90.0

JOB = """
import json
from vscode_interactive import vscode


@vscode(run_task_first=True, workspace_dir=WORKSPACE, auth="none", port=0, start_timeout=60)
def train(batch, scale):
    total = sum(batch)
    weight = scale - 3
    return total / weight


if __name__ == "__main__":
    print("RESULT " + json.dumps(train([1, 2, 3], 3)), flush=True)
"""


def wait_for(probe: Callable[[], T | None], what: str, job: subprocess.Popen[str]) -> T:
    """``probe()``'s first non-None value; fails when the job ends or time runs out."""

    def found() -> tuple[T] | None:
        value = probe()
        if value is not None:
            return (value,)
        if job.poll() is not None:
            raise AssertionError(f"the job ended (code {job.returncode}) before {what}")
        return None

    return wait_until(found, timeout=TIMEOUT, what=what, interval=0.1)[0]


class Job:
    def __init__(self, tmp_path: Path) -> None:
        self.workspace = tmp_path / "ws"
        self.workspace.mkdir()
        self.source = self.workspace / "job.py"
        self.source.write_text(textwrap.dedent(JOB).replace("WORKSPACE", repr(str(self.workspace))))
        self.layout = StateLayout.for_workspace(self.workspace)
        fake = install_fake_code_server(tmp_path / "bin")
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("VSCODE_INTERACTIVE_", "PYTEST_", "FAKE_CS_", "PYDEVD_"))
        }
        self.env.update(
            VSCODE_INTERACTIVE_ENABLE="1",
            VSCODE_INTERACTIVE_CODE_SERVER=str(fake),
            VSCODE_INTERACTIVE_EXTENSIONS="",
            VSCODE_INTERACTIVE_OWN_EXTENSION="0",
            VSCODE_INTERACTIVE_DATA_DIR=str(tmp_path / "data"),
            VSCODE_INTERACTIVE_CACHE=str(tmp_path / "cache"),
            HOME=str(tmp_path / "home"),
            PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        )
        self.process = subprocess.Popen(
            [sys.executable, str(self.source)],
            cwd=self.workspace,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def post_mortem_port(self, not_port: int | None = None) -> int:
        """The port of the live session's Post-mortem configuration (a new one if asked)."""

        def probe() -> int | None:
            try:
                request_status(self.layout.root, timeout=2)
                workspace: Any = parse_jsonc(self.layout.workspace_file.read_text())
            except (ResumeError, OSError, ValueError):
                return None
            first = workspace["launch"]["configurations"][0]
            if first["name"] != POST_MORTEM_CONFIGURATION_NAME:
                return None
            port = int(first["connect"]["port"])
            return None if port == not_port else port

        return wait_for(probe, "post-mortem configuration of a live session", self.process)

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "vscode_interactive", *args, "--workspace", str(self.workspace)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def finish(self) -> tuple[int, str, str]:
        stdout, stderr = self.process.communicate(timeout=TIMEOUT)
        return self.process.returncode, stdout, stderr

    def edit(self, old: str, new: str) -> None:
        text = self.source.read_text()
        assert old in text
        self.source.write_text(text.replace(old, new))

    def line_of(self, text: str) -> int:
        return next(
            i for i, line in enumerate(self.source.read_text().splitlines(), 1) if text in line
        )


@pytest.fixture
def job(tmp_path: Path) -> Iterator[Job]:
    running = Job(tmp_path)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.communicate()


def inspect(port: int) -> dict[str, Any]:
    """Attach, read what a user sees at the stop, detach."""
    with DapClient.connect(port) as client:
        client.attach()
        stopped = client.wait_event("stopped")
        top = client.stack_trace(stopped["threadId"])[0]
        seen = {
            "reason": stopped["reason"],
            "function": top["name"],
            "line": top["line"],
            "locals": client.locals_of(top["id"]),
            "evaluated": client.evaluate("total * 10 + weight", top["id"]),
        }
        client.disconnect()
    return seen


def test_post_mortem_then_a_fixed_resume_returns_the_fixed_value(job: Job) -> None:
    """Attach to the failed job: stopped on the exception in train at the raising line with
    its locals; detach + attach shows the same; then resume --yes returns the fixed value."""
    port = job.post_mortem_port()
    first = inspect(port)
    assert first == inspect(port)
    assert first["reason"] == "exception"
    assert (first["function"], first["line"]) == ("train", job.line_of("return total / weight"))
    assert first["locals"]["batch"] == "[1, 2, 3]"
    assert first["locals"]["weight"] == "0"
    assert first["evaluated"] == "60"
    job.edit("weight = scale - 3", "weight = scale - 2")
    assert "resume accepted" in job.cli("resume", "--yes")
    code, stdout, stderr = job.finish()
    assert code == 0, stderr
    assert "RESULT 6.0" in stdout


def test_a_failing_resume_reopens_the_ide_with_a_new_post_mortem_then_abort(job: Job) -> None:
    """The edited train raises again: the IDE reopens with a post-mortem at the new
    failure; abort ends the job with it, chained to the first failure."""
    port = job.post_mortem_port()
    job.edit("return total / weight", "return [total][weight + 1]")
    job.cli("resume", "--yes")
    second_port = job.post_mortem_port(not_port=port)
    seen = inspect(second_port)
    assert (seen["function"], seen["line"]) == ("train", job.line_of("[total][weight + 1]"))
    assert seen["locals"]["weight"] == "0"
    assert "abort accepted" in job.cli("abort", "--yes")
    code, stdout, stderr = job.finish()
    assert code == 1
    assert "RESULT" not in stdout
    assert stderr.index("ZeroDivisionError") < stderr.index("direct cause")
    assert stderr.rstrip().splitlines()[-1].startswith("IndexError")


def test_status_carries_no_secret_and_the_listener_is_loopback(job: Job) -> None:
    """The post-mortem port is on 127.0.0.1 only, and the workspace file names that address."""
    port = job.post_mortem_port()
    launch = json.loads(job.layout.workspace_file.read_text())["launch"]
    assert launch["configurations"][0]["connect"] == {"host": "127.0.0.1", "port": port}
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    listening = [row.split()[1] for row in rows if row.split()[3] == "0A"]
    assert [a for a in listening if int(a.split(":")[1], 16) == port] == [f"0100007F:{port:04X}"]
    job.cli("abort", "--yes")
    assert job.finish()[0] == 1
