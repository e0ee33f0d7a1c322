"""The supervisor with real processes: the fake code-server, the guardian, real signals.

Every test checks that no process of the server's group is left once the outcome is known,
including when the supervising process itself is SIGTERMed or SIGKILLed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_session import Env, LiveRig, Session
from tests.waiting import kill_leftovers, wait_until, wait_until_gone
from vscode_interactive import ServerStartError
from vscode_interactive._supervision._channel import request_resume, request_status
from vscode_interactive._supervision._policy import Outcome
from vscode_interactive._supervision._supervisor import (
    SupervisionResult,
    Supervisor,
    SupervisorSeams,
)
from vscode_interactive._system._network import SocketPortAllocator
from vscode_interactive._workspace._front_page import SourceLocation

pytestmark = pytest.mark.integration


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[LiveRig]:
    rig = LiveRig(tmp_path)
    yield rig
    kill_leftovers(rig.all_pids())


def test_resume_over_the_socket_with_supervision_in_a_worker_thread(rig: LiveRig) -> None:
    """Non-main-thread supervision: resume via the socket gets an ack and ends RESUMED,
    leaving no process (guardian, server, grandchild) and no session files."""
    rig.knobs["FAKE_CS_GRANDCHILD"] = "1"
    session = rig.session()
    session.wait_ready()
    status = request_status(rig.layout.root)
    assert status["state"] == "running" and status["url"] == session.supervisor.url
    ack = request_resume(rig.layout.root)
    assert "resume accepted by supervisor pid" in ack and session.supervisor.url in ack
    result = session.finish()
    assert result.outcome is Outcome.RESUMED
    assert len(rig.server_pids()) == 2
    rig.assert_nothing_survives(result.server_pid)
    rig.assert_state_files_removed()


def _environ(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def test_the_password_reaches_the_server_only_through_a_private_file(rig: LiveRig) -> None:
    """No process holds the password in its environment or command line (not the guardian,
    not code-server): code-server reads it once from a 0600 config file in the private
    state dir. It enforces it, and a page view is activity."""
    session = rig.session(max_idle_seconds=3600)
    session.wait_ready()
    record = json.loads(rig.record.read_text())
    password = rig.layout.password_file.read_text()
    assert "PASSWORD" not in record["env"] and "HASHED_PASSWORD" not in record["env"]
    assert not any(password in arg for arg in record["argv"])
    config = Path(record["argv"][record["argv"].index("--config") + 1])
    assert config.parent == rig.layout.root and stat.S_IMODE(config.stat().st_mode) == 0o600
    guardian = _guardian_of(record["pid"])
    for pid in (guardian, record["pid"]):
        assert password.encode() not in _environ(pid)
    assert record["env"]["XDG_DATA_HOME"] == str(rig.layout.root / "xdg-data")
    assert record["pgid"] != os.getpgrp()
    url = session.supervisor.url
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(f"{url}/", timeout=5)
    denied.value.close()
    assert denied.value.code == 401
    viewed_at = time.time()
    with urllib.request.urlopen(f"{url}/?password={password}", timeout=5) as page:
        assert page.status == 200
    assert (rig.layout.root / "xdg-data" / "code-server" / "heartbeat").exists()

    def activity_seen() -> bool:
        value = session.supervisor.status()["last_activity"]
        assert isinstance(value, float)
        return value >= viewed_at - 0.01

    wait_until(activity_seen, timeout=20, what="the next probe to see the page view")
    request_resume(rig.layout.root)
    rig.assert_nothing_survives(session.finish().server_pid)


def test_idle_timeout_stops_everything(rig: LiveRig) -> None:
    """Nobody connects: after max_idle_seconds the group is stopped, IDLE_TIMEOUT."""
    rig.knobs["FAKE_CS_GRANDCHILD"] = "1"
    result = rig.session(max_idle_seconds=1.0).finish()
    assert result.outcome is Outcome.IDLE_TIMEOUT
    assert result.idle_seconds >= 1.0
    rig.assert_nothing_survives(result.server_pid)
    rig.assert_state_files_removed()


def test_server_exiting_zero_by_itself_is_server_exited(rig: LiveRig) -> None:
    """code-server's own idle exit (code 0) comes through the guardian as SERVER_EXITED, 0:
    the fake exits right after answering the supervisor's first /healthz (ready, then gone)."""
    rig.knobs["FAKE_CS_EXIT_AFTER_HEALTHZ"] = "1"
    result = rig.session().finish()
    assert (result.outcome, result.exit_code) == (Outcome.SERVER_EXITED, 0)
    assert "exiting on its own" in result.log_tail
    rig.assert_nothing_survives(result.server_pid)


def test_crash_before_ready_is_a_start_error_with_the_log(rig: LiveRig) -> None:
    """A server dying before /healthz answers: ServerStartError with its code and output."""
    rig.knobs["FAKE_CS_EXIT_BEFORE_READY"] = "3"
    session = rig.session()
    with pytest.raises(ServerStartError) as info:
        session.finish()
    assert info.value.exit_code == 3
    assert "crashing before ready" in info.value.log_tail
    assert "crashing before ready" in str(info.value)
    rig.assert_nothing_survives()
    rig.assert_state_files_removed()


def test_requested_port_in_use_is_refused(rig: LiveRig) -> None:
    """A port another program listens on: ServerStartError naming the port, nothing started."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        session = rig.session(port=port)
        with pytest.raises(ServerStartError, match=f"port {port} on 127.0.0.1 is already in use"):
            session.finish()
    assert not rig.record.exists()


class RacyPorts(SocketPortAllocator):
    """Hands out a port someone else grabs first, then honest free ports."""

    def __init__(self, busy_port: int) -> None:
        self.busy_port = busy_port
        self.calls = 0

    def free_port(self, host: str) -> int:
        self.calls += 1
        return self.busy_port if self.calls == 1 else super().free_port(host)


def test_lost_port_race_is_detected_from_the_log_and_retried(rig: LiveRig) -> None:
    """port=0 whose pick was taken before code-server bound it: EADDRINUSE, retry, success."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        ports = RacyPorts(busy.getsockname()[1])
        ready = threading.Event()
        seams = SupervisorSeams(environment=Env(rig.knobs), port_allocator=ports)
        supervisor = Supervisor(rig.options(), _seams=seams, announce=lambda text: ready.set())
        session = Session(supervisor, ready=ready).start()
        session.wait_ready()
        request_resume(rig.layout.root)
        result = session.finish()
    assert result.outcome is Outcome.RESUMED
    assert ports.calls == 2 and result.port != ports.busy_port
    assert "EADDRINUSE" in rig.layout.server_log.read_text()
    rig.assert_nothing_survives(result.server_pid)


def test_server_and_grandchild_ignoring_sigterm_are_killed(rig: LiveRig) -> None:
    """Hang on SIGTERM, with a grandchild that ignores it too: SIGKILL after the grace."""
    rig.knobs.update(
        {
            "FAKE_CS_IGNORE_SIGTERM": "1",
            "FAKE_CS_GRANDCHILD": "1",
            "FAKE_CS_GRANDCHILD_IGNORES_SIGTERM": "1",
        }
    )
    session = rig.session()
    session.wait_ready()
    request_resume(rig.layout.root)
    result = session.finish()
    assert result.outcome is Outcome.RESUMED
    assert result.exit_code == -signal.SIGKILL
    rig.assert_nothing_survives(result.server_pid)


SUPERVISING_SCRIPT = """
import json, os, sys
from pathlib import Path
from vscode_interactive._layout import StateLayout
from vscode_interactive._supervision._server import ServerOptions
from vscode_interactive._supervision._supervisor import Supervisor

config = json.loads(sys.argv[1])
options = ServerOptions(
    executable=Path(config["exe"]),
    layout=StateLayout.for_workspace(config["workspace"]),
    user_data_dir=Path(config["tmp"]) / "user-data",
    extensions_dir=Path(config["tmp"]) / "extensions",
    check_interval=0.2,
    grace_seconds=0.5,
    use_guardian=config["guardian"],
)
supervisor = Supervisor(options, announce=lambda text: print("READY", flush=True))
result = supervisor.run()
print("OUTCOME", result.outcome.name, result.signal, result.server_pid, flush=True)
"""


def supervise_in_subprocess(rig: LiveRig, *, guardian: bool = True) -> subprocess.Popen[str]:
    config = {
        "exe": str(rig.exe),
        "workspace": str(rig.layout.workspace),
        "tmp": str(rig.tmp),
        "guardian": guardian,
    }
    child = subprocess.Popen(
        [sys.executable, "-c", SUPERVISING_SCRIPT, json.dumps(config)],
        env={**os.environ, **rig.knobs},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "READY"
    return child


def test_sigterm_to_the_supervising_process_ends_interrupted(rig: LiveRig) -> None:
    """SIGTERM to the job process: the server group is stopped, the outcome is INTERRUPTED."""
    rig.knobs["FAKE_CS_GRANDCHILD"] = "1"
    child = supervise_in_subprocess(rig)
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=20)
    assert child.returncode == 0
    assert f"OUTCOME INTERRUPTED {int(signal.SIGTERM)}" in out
    guardian_pid = int(out.split()[-1])
    rig.assert_nothing_survives(guardian_pid)
    rig.assert_state_files_removed()


def _guardian_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[1])


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux-only")
def test_sigkill_of_the_supervisor_leaves_no_server_process(rig: LiveRig) -> None:
    """SIGKILL to the job process: the parent-death signal reaches the guardian, which
    clears the group -- a server and a grandchild that both ignore SIGTERM included."""
    rig.knobs.update(
        {
            "FAKE_CS_IGNORE_SIGTERM": "1",
            "FAKE_CS_GRANDCHILD": "1",
            "FAKE_CS_GRANDCHILD_IGNORES_SIGTERM": "1",
        }
    )
    child = supervise_in_subprocess(rig)
    server, grandchild = rig.server_pids()
    rig.guardian_pids.append(_guardian_of(server))
    child.kill()
    child.wait(10)
    assert child.stdout is not None
    child.stdout.close()
    wait_until_gone([*rig.guardian_pids, server, grandchild], timeout=10)


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux-only")
def test_parent_death_signal_reaches_the_server_without_guardian(rig: LiveRig) -> None:
    """Without the guardian, PR_SET_PDEATHSIG still SIGTERMs code-server itself when the
    supervisor is SIGKILLed (its own children are then up to code-server: why the guardian
    exists)."""
    child = supervise_in_subprocess(rig, guardian=False)
    (server,) = rig.server_pids()
    assert _guardian_of(server) == child.pid  # launched directly, no guardian
    child.kill()
    child.wait(10)
    assert child.stdout is not None
    child.stdout.close()
    wait_until_gone([server], timeout=10)


def test_session_files_and_sockets_are_private_under_umask_000(rig: LiveRig) -> None:
    """With umask 000, the state dir is 0700 and every file and socket the session (and
    code-server's window registry) creates there is readable and writable by us only."""
    rig.knobs["FAKE_CS_WINDOW"] = str(rig.tmp / "window.jsonl")
    open_first = (SourceLocation(rig.tmp / "ws" / "DEBUGGING.md", 1),)
    previous = os.umask(0)
    try:
        session = rig.session(open_files=open_first)
        session.wait_ready()
    finally:
        os.umask(previous)
    root = rig.layout.root
    modes = {
        str(path.relative_to(root)): stat.S_IMODE(path.lstat().st_mode)
        for path in [root, *root.rglob("*")]
        if path.name != "fake-window.sock"  # the fake's stand-in for a browser window
    }
    assert modes.pop(".") == 0o700
    for name in ("code-server.log", "password", "session.json", "resume.sock"):
        assert modes[name] == 0o600, (name, modes)
    assert rig.layout.editor_registry.exists()
    assert not [name for name, mode in modes.items() if mode & 0o077], modes
    request_resume(root)
    rig.assert_nothing_survives(session.finish().server_pid)


# -- nothing started from the IDE's terminal outlives the session (issue 18, point 5) ----------


def _strays_started(rig: LiveRig) -> list[int]:
    """The two ``setsid nohup sleep &`` processes the fake started, once both run."""
    return wait_until(
        lambda: rig.server_pids()[1:] if len(rig.server_pids()) == 3 else None,
        timeout=20,
        what="the fake's terminal strays",
    )


def _end(rig: LiveRig, session: Session, how: str) -> SupervisionResult:
    if how == "resume":
        request_resume(rig.layout.root)
    elif how == "sigterm":
        session.supervisor.interrupt(signal.SIGTERM)
    return session.finish()


@pytest.mark.parametrize("how", ["resume", "sigterm", "idle"])
def test_processes_started_like_a_terminal_does_never_outlive_the_session(
    rig: LiveRig, how: str
) -> None:
    """``setsid nohup sleep &`` from the IDE (new session, SIGHUP ignored), one still a
    child of code-server and one already orphaned, are gone when the session ends by
    resume, SIGTERM or idle timeout, also with a code-server that ignores SIGTERM until
    the group is SIGKILLed."""
    rig.knobs.update({"FAKE_CS_TERMINAL_STRAYS": "1", "FAKE_CS_IGNORE_SIGTERM": "1"})
    session = rig.session(max_idle_seconds=2.0 if how == "idle" else 3600.0)
    session.wait_ready()
    strays = _strays_started(rig)
    for pid in strays:
        assert os.getsid(pid) == pid  # each leads its own session, like a terminal's jobs
    result = _end(rig, session, how)
    expected = {"resume": Outcome.RESUMED, "sigterm": Outcome.INTERRUPTED}
    assert result.outcome is expected.get(how, Outcome.IDLE_TIMEOUT)
    wait_until_gone(strays, timeout=10)
    rig.assert_nothing_survives(result.server_pid)


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux-only")
def test_terminal_strays_are_cleared_when_the_supervisor_is_sigkilled(rig: LiveRig) -> None:
    """With the supervising process SIGKILLed, the guardian alone clears the terminal's
    strays too, not only its own process group."""
    rig.knobs.update({"FAKE_CS_TERMINAL_STRAYS": "1", "FAKE_CS_IGNORE_SIGTERM": "1"})
    child = supervise_in_subprocess(rig)
    strays = _strays_started(rig)
    server = rig.server_pids()[0]
    rig.guardian_pids.append(_guardian_of(server))
    child.kill()
    child.wait(10)
    assert child.stdout is not None
    child.stdout.close()
    wait_until_gone([*rig.guardian_pids, server, *strays], timeout=10)
