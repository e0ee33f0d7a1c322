"""Post-mortem debugging in a real job process, seen through a Debug Adapter Protocol client.

Each test runs tests/postmortem_job.py in a subprocess (the debugger suspends threads, so
it must not share a process with pytest) and attaches to its listener with tests/dap.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dap import DapClient, DapError
from tests.line_job import ROOT, LineJob
from tests.waiting import wait_until
from vscode_interactive._errors import DebuggerError

pytestmark = pytest.mark.integration

JOB = ROOT / "tests" / "postmortem_job.py"
SOURCE = JOB.read_text().splitlines()
RAISING_LINE = next(i for i, text in enumerate(SOURCE, 1) if "# RAISING LINE" in text)
ROUND_LINE = next(i for i, text in enumerate(SOURCE, 1) if "# ROUND LINE" in text)
TIMEOUT = 60.0


class JobProcess(LineJob):
    """The job subprocess: one command line in, one answer line out."""

    def __init__(self) -> None:
        super().__init__("tests.postmortem_job", timeout=TIMEOUT)
        self.before = json.loads(self.expect("before "))
        self.port = int(self.expect("port "))

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.ask("state", "state "))
        return state


@pytest.fixture
def job() -> Iterator[JobProcess]:
    process = JobProcess()
    try:
        yield process
    finally:
        process.finish()


def attach(port: int, filters: tuple[str, ...] = ()) -> tuple[DapClient, dict[str, Any]]:
    """A client attached to ``port`` and the ``stopped`` event it got."""
    client = DapClient.connect(port)
    client.attach(exception_filters=filters)
    return client, client.wait_event("stopped")


def inspect(client: DapClient, stopped: dict[str, Any]) -> dict[str, Any]:
    """What a user sees: the top frame, its locals, an expression evaluated there."""
    frames = client.stack_trace(stopped["threadId"])
    top = frames[0]
    return {
        "reason": stopped["reason"],
        "function": top["name"],
        "file": top["source"]["path"],
        "line": top["line"],
        "locals": client.locals_of(top["id"]),
        "evaluated": client.evaluate("total / 2 + weight", top["id"]),
        "frames": [frame["name"] for frame in frames],
        "outer": client.evaluate("sorted(before)[0]", frames[1]["id"]),
    }


def test_attach_stops_at_the_raising_frame_with_its_live_locals(job: JobProcess) -> None:
    """A client attaching to a failed job stops with reason exception in the raising frame,
    at the raising line, with that frame's locals and values, and evaluates there."""
    client, stopped = attach(job.port)
    with client:
        seen = inspect(client, stopped)
        client.disconnect()
    assert seen["reason"] == "exception"
    assert seen["function"] == "train"
    assert Path(seen["file"]) == JOB
    assert seen["line"] == RAISING_LINE
    assert seen["locals"]["batch"] == "[1, 2, 3]"
    assert seen["locals"]["total"] == "6"
    assert seen["locals"]["weight"] == "0"
    assert seen["evaluated"] == "3.0"
    assert seen["frames"][:2] == ["train", "main"]
    assert seen["outer"] == "'debugpy_loaded'"


def test_the_stop_does_not_depend_on_the_exception_checkboxes(job: JobProcess) -> None:
    """The failure is shown whether the user ticked no exception filter or all of them."""
    for filters in [(), ("raised", "uncaught", "userUnhandled")]:
        client, stopped = attach(job.port, filters)
        with client:
            frames = client.stack_trace(stopped["threadId"])
            client.disconnect()
        assert stopped["reason"] == "exception"
        assert frames[0]["name"] == "train"


def test_detach_and_attach_again_shows_the_same_failure_each_time(job: JobProcess) -> None:
    """Detaching does not end the job; every new client sees the same frame and locals."""
    seen = []
    for _ in range(3):
        client, stopped = attach(job.port)
        with client:
            seen.append(inspect(client, stopped))
            client.disconnect()
        assert job.ask("ping", "pong") == ""
    assert seen[0] == seen[1] == seen[2]


def test_continue_stops_again_on_the_same_failure(job: JobProcess) -> None:
    """A post-mortem has nowhere to go: Continue shows the same failure again."""
    client, stopped = attach(job.port)
    with client:
        client.request("continue", {"threadId": stopped["threadId"]})
        again = client.wait_event("stopped")
        top = client.stack_trace(again["threadId"])[0]
        client.disconnect()
    assert (again["reason"], top["name"], top["line"]) == ("exception", "train", RAISING_LINE)


def test_a_client_that_vanishes_without_detaching_leaves_the_failure_for_the_next(
    job: JobProcess,
) -> None:
    """An IDE that dies mid-stop (no disconnect request) does not lose the post-mortem."""
    client, _stopped = attach(job.port)
    client.close()
    client, stopped = attach(job.port)
    with client:
        assert inspect(client, stopped)["locals"]["total"] == "6"
        client.disconnect()


def test_the_jobs_own_thread_keeps_running_while_a_client_is_stopped(job: JobProcess) -> None:
    """The thread that supervises the IDE answers while the debugger holds the failure, and
    the debugger lists the failure's thread, named after the thread that failed, and none of
    the library's helper threads."""
    client, stopped = attach(job.port)
    with client:
        assert job.ask("ping", "pong") == ""
        threads = {thread["name"] for thread in client.request("threads")["threads"]}
        client.disconnect()
    assert stopped["reason"] == "exception"
    assert threads == {"MainThread", "post-mortem of MainThread"}


def test_close_releases_a_stopped_client_and_removes_the_debugger(job: JobProcess) -> None:
    """close() with a client stopped: the job continues, the port closes, tracing is gone,
    no debugger thread is left, signal handlers are the job's own."""
    client, _stopped = attach(job.port)
    with client:
        assert job.ask("close", "closed") == ""
        client.wait_closed()
    state = job.state()
    assert state["gettrace"] == "None"
    assert state["threads"] == ["MainThread"]
    assert state["sigint"] == job.before["sigint"]
    assert state["sigterm"] == job.before["sigterm"]

    def port_closed() -> bool:
        try:
            socket.create_connection(("127.0.0.1", job.port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        return False

    wait_until(port_closed, timeout=TIMEOUT, what=f"the post-mortem port {job.port} to close")


def test_a_new_failure_after_close_opens_a_new_post_mortem(job: JobProcess) -> None:
    """Rounds: after a close, the next failure is shown on a new listener, as often as needed."""
    job.ask("close", "closed")
    for round_number in (1, 2):
        port = int(job.ask(f"fail {round_number}", "port "))
        client, stopped = attach(port)
        with client:
            top = client.stack_trace(stopped["threadId"])[0]
            values = client.locals_of(top["id"])
            client.disconnect()
        assert (top["name"], top["line"]) == ("retrain", ROUND_LINE)
        assert values["attempt"] == str(round_number * 10)
        job.ask("close", "closed")


def test_the_listener_is_on_loopback_only(job: JobProcess) -> None:
    """Only 127.0.0.1 accepts: the port is not bound on any other interface."""
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = [line.split()[1] for line in listening if line.split()[3] == "0A"]
    ours = [address for address in local if int(address.split(":")[1], 16) == job.port]
    assert ours == [f"0100007F:{job.port:04X}"]


def test_the_jobs_output_carries_no_debugger_noise(job: JobProcess) -> None:
    """No frozen-modules warning or other debugger text on the job's stderr or stdout."""
    client, _stopped = attach(job.port)
    with client:
        client.disconnect()
    job.send("exit")
    stderr = job.finish()
    assert stderr == ""
    assert job.process.returncode == 0


def test_debugpy_is_not_imported_before_a_failure() -> None:
    """Importing the library and the debug package loads no debugpy."""
    code = (
        "import sys, vscode_interactive, vscode_interactive._debug; "
        "from vscode_interactive import vscode; "
        "print('debugpy' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"


def test_a_failure_that_was_never_raised_has_no_post_mortem() -> None:
    """An exception without a traceback is refused with a clear error, before any listener."""
    from vscode_interactive._debug._postmortem import open_post_mortem

    with pytest.raises(DebuggerError, match="no traceback"):
        open_post_mortem(ValueError("never raised"))


def test_the_dap_client_reports_what_arrived_when_nothing_comes() -> None:
    """The test client's waits end with the events seen so far instead of hanging."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        client = DapClient.connect(port)
        connection, _ = server.accept()
        with connection, client, pytest.raises(DapError, match="events so far"):
            client.wait_event("stopped", timeout=0.2)
