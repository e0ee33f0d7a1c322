"""The real adapters, exercised against real processes, files and a loopback server."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import kill_leftovers, wait_until, wait_until_gone
from vscode_interactive._ports import PriorityLevels
from vscode_interactive._system._network import (
    FsspecFetcher,
    FsspecUploader,
    SocketPortAllocator,
    UnixSocketEditorWindows,
    UrllibHealthProbe,
)
from vscode_interactive._system._os import (
    GroupPriorities,
    OsEnvironment,
    PipeWakeup,
    SignalInterrupts,
    SystemClock,
)
from vscode_interactive._system._processes import (
    PopenLauncher,
    SubprocessRunner,
    _group_has_live_member,
)

pytestmark = pytest.mark.integration


class _Healthz(http.server.BaseHTTPRequestHandler):
    body: bytes = json.dumps({"status": "alive", "lastHeartbeat": 1234}).encode()

    def do_GET(self) -> None:
        if self.path != "/healthz":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def healthz_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_system_clock_sleeps_and_moves_forward() -> None:
    """Real sleep waits at least the asked time; negative sleep returns at once."""
    clock = SystemClock()
    start = clock.monotonic()
    clock.sleep(0.02)
    clock.sleep(-5)
    assert clock.monotonic() - start >= 0.02
    assert abs(clock.now() - time.time()) < 5


def test_health_probe_reads_healthz(healthz_url: str) -> None:
    """A JSON /healthz is parsed into status and heartbeat."""
    health = UrllibHealthProbe().check(healthz_url, timeout=2)
    assert health is not None
    assert (health.status, health.last_heartbeat_ms) == ("alive", 1234)


def test_health_probe_returns_none_when_nothing_listens() -> None:
    """A refused connection is 'not up yet', not an exception."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert UrllibHealthProbe().check(f"http://127.0.0.1:{port}", timeout=1) is None


def test_fetcher_streams_local_path_and_file_url(tmp_path: Path) -> None:
    """Plain paths and file:// URLs stream their bytes with a known size."""
    target = tmp_path / "blob.bin"
    target.write_bytes(b"x" * 1000)
    for url in (str(target), f"file://{target}"):
        with FsspecFetcher().open(url, {}) as stream:
            assert stream.size == 1000
            chunks = [stream.read(300) for _ in range(5)]
        assert b"".join(chunks) == b"x" * 1000


def test_runner_captures_output_and_exit_code() -> None:
    """Short commands report their exit code and both streams."""
    result = SubprocessRunner().run(
        [
            sys.executable,
            "-c",
            "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)",
        ]
    )
    assert (result.returncode, result.stdout.strip(), result.stderr.strip()) == (3, "out", "err")


def test_runner_missing_executable_raises_oserror() -> None:
    """A command that does not exist is an OSError, not a silent failure."""
    with pytest.raises(FileNotFoundError):
        SubprocessRunner().run(["/nonexistent/definitely-not-here"])


def test_launcher_kills_whole_group_including_grandchild(tmp_path: Path) -> None:
    """signal_group reaches a grandchild; the log receives the child's output."""
    log = tmp_path / "child.log"
    script = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    handle = PopenLauncher().launch(
        [sys.executable, "-c", script], env=dict(os.environ), log_path=log
    )
    wait_until(
        lambda: "started" in (log.read_text() if log.exists() else ""),
        timeout=10,
        what="the child to log 'started'",
    )
    assert os.getpgid(handle.pid) == handle.pid
    assert handle.poll() is None and handle.group_alive()
    handle.signal_group(signal.SIGKILL)
    assert handle.wait(5) == -signal.SIGKILL
    wait_until(
        lambda: not handle.group_alive(), timeout=10, what="the grandchild to die with its group"
    )
    handle.signal_group(signal.SIGTERM)  # no error once the group is gone


def test_launcher_never_appends_to_a_symlinked_log(tmp_path: Path) -> None:
    """A symlink planted at the log's path is not followed: its target is untouched and
    the child's output goes to a new private file."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    log = tmp_path / "code-server.log"
    log.symlink_to(victim)
    handle = PopenLauncher().launch(
        [sys.executable, "-c", "print('started', flush=True)"], env=dict(os.environ), log_path=log
    )
    assert handle.wait(10) == 0
    assert victim.read_text() == "precious\n"
    assert not log.is_symlink() and log.read_text() == "started\n"
    assert (log.stat().st_mode & 0o777) == 0o600


_LEADER_WITH_A_STRAY = """
import subprocess, sys, time
sleeper = "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_IGN); time.sleep(300)"
stray = subprocess.Popen([sys.executable, "-c", sleeper], start_new_session=True)
print(stray.pid, flush=True)
time.sleep(300)
"""


def test_group_sigkill_takes_descendants_in_other_sessions_first(tmp_path: Path) -> None:
    """A descendant in its own session (``setsid nohup``, as from an IDE terminal) is not
    in the group, yet SIGKILL of the group reaches it, before the leader is gone (else it
    would be re-parented to init and live on)."""
    log = tmp_path / "leader.log"
    handle = PopenLauncher().launch(
        [sys.executable, "-c", _LEADER_WITH_A_STRAY], env=dict(os.environ), log_path=log
    )
    stray = int(wait_until(lambda: log.read_text().strip(), timeout=20, what="the stray's pid"))
    try:
        assert os.getpgid(stray) != handle.pid
        handle.signal_group(signal.SIGKILL)
        assert handle.wait(10) == -signal.SIGKILL
        wait_until_gone([stray], timeout=10)
    finally:
        kill_leftovers([stray])


def test_environment_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """get and snapshot reflect the process environment."""
    monkeypatch.setenv("VSCODE_INTERACTIVE_TEST_VAR", "42")
    env = OsEnvironment()
    assert env.get("VSCODE_INTERACTIVE_TEST_VAR") == "42"
    assert env.snapshot()["VSCODE_INTERACTIVE_TEST_VAR"] == "42"


def test_interrupts_delivered_in_main_thread_and_restored() -> None:
    """SIGTERM reaches the subscriber; unsubscribing restores the old handler."""
    before = signal.getsignal(signal.SIGTERM)
    got: list[int] = []
    restore = SignalInterrupts().subscribe(got.append)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        restore()
    assert got == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) == before


def test_interrupts_outside_main_thread_subscribe_to_nothing() -> None:
    """From a worker thread no handler is installed (Python forbids it there)."""
    before = signal.getsignal(signal.SIGTERM)
    results: list[object] = []

    def worker() -> None:
        restore = SignalInterrupts().subscribe(lambda signum: None)
        results.append(signal.getsignal(signal.SIGTERM))
        restore()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert results == [before]


def test_pipe_wakeup_notify_cuts_a_wait_short_and_is_consumed() -> None:
    """notify() from another thread ends wait() early; the next wait times out; after
    close(), notify() is a no-op."""
    wakeup = PipeWakeup()
    try:
        assert wakeup.wait(0.01) is False
        timer = threading.Timer(0.05, wakeup.notify)
        timer.start()
        assert wakeup.wait(30) is True  # False would mean the whole 30 s passed
        timer.join()
        wakeup.notify()
        wakeup.notify()
        assert wakeup.wait(0) is True
        assert wakeup.wait(0.01) is False
    finally:
        wakeup.close()
    wakeup.notify()


def test_port_allocator_finds_free_ports_and_sees_taken_ones() -> None:
    """free_port returns a bindable port; a listening port is reported as not free."""
    import socket

    allocator = SocketPortAllocator()
    port = allocator.free_port("127.0.0.1")
    assert allocator.is_free("127.0.0.1", port)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen(1)
        assert not allocator.is_free("127.0.0.1", port)


def test_group_of_only_zombies_is_not_alive() -> None:
    """A leader that exited but is not yet reaped (a zombie) does not keep the group alive."""
    handle = PopenLauncher().launch([sys.executable, "-c", "pass"], env=dict(os.environ))
    wait_until(
        lambda: Path(f"/proc/{handle.pid}/stat").read_text().split()[2] == "Z",
        timeout=10,
        what="the child to exit (a zombie, not reaped)",
    )
    assert _group_has_live_member(handle.pid) is False
    assert handle.group_alive() is False


def test_editor_windows_without_code_server_find_nothing_and_cannot_open(tmp_path: Path) -> None:
    """No registry socket: no window; a window socket that is gone: OSError."""
    windows = UnixSocketEditorWindows()
    assert windows.newest(tmp_path / "ipc.sock", tmp_path / "a.py", 1.0) is None
    with pytest.raises(FileNotFoundError):
        windows.open(str(tmp_path / "window.sock"), {"type": "open"}, 1.0)


def test_runner_bytes_keeps_output_exact_and_feeds_stdin() -> None:
    """run_bytes returns stdout undecoded (CRLF, invalid UTF-8, NUL) and reads stdin; a
    missing program is an OSError, one that outlives its timeout is killed (TimeoutError)."""
    code = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"
    done = SubprocessRunner().run_bytes([sys.executable, "-c", code], stdin=b"\r\n\xff\x00a")
    assert done.returncode == 0 and done.stdout == b"a\x00\xff\n\r"
    with pytest.raises(FileNotFoundError):
        SubprocessRunner().run_bytes(["/nonexistent/program"])
    with pytest.raises(TimeoutError, match=r"did not finish within 0\.2 s"):
        SubprocessRunner().run_bytes(
            [sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.2
        )


def test_uploader_writes_local_destinations_privately(tmp_path: Path) -> None:
    """file:// and plain paths: folders created 0700, the file 0600, content copied."""
    source = tmp_path / "changes.patch"
    source.write_bytes(b"diff --git a/x b/x\n")
    uploader = FsspecUploader()
    target = tmp_path / "shared" / "train-ID" / "changes.patch"
    uploader.put_file(source, f"file://{target}")
    assert target.read_bytes() == source.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.parent.stat().st_mode & 0o777 == 0o700
    plain = tmp_path / "plain" / "x.patch"
    uploader.put_file(source, str(plain))
    assert plain.read_bytes() == source.read_bytes()


def test_uploader_writes_through_fsspec_for_other_urls(tmp_path: Path) -> None:
    """memory:// (any fsspec backend) receives the bytes at the URL's path."""
    import fsspec

    source = tmp_path / "DEBUGGING.md"
    source.write_text("# page")
    FsspecUploader().put_file(source, "memory://test-uploader/job-ID/DEBUGGING.md")
    memory = fsspec.filesystem("memory")
    try:
        assert memory.cat_file("/test-uploader/job-ID/DEBUGGING.md") == b"# page"
    finally:
        memory.rm("/test-uploader", recursive=True)


# -- GroupPriorities: nice and I/O priority of a process group (Linux) ----------------------


def _ioprio(tid: int) -> int:
    import ctypes
    import platform

    number = {"x86_64": 252, "aarch64": 31}[platform.machine()]
    value: int = ctypes.CDLL(None, use_errno=True).syscall(number, 1, tid)
    return value


def _thread_nices(pid: int) -> list[int]:
    """The nice value of every thread of process ``pid``."""
    return [
        int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])
        for task in Path(f"/proc/{pid}/task").iterdir()
    ]


_THREADED_CHILD = """
import os, sys, threading, time
ready = threading.Event()
def later():
    ready.wait()
    print(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), flush=True)
    time.sleep(60)
threading.Thread(target=later, daemon=True).start()
sys.stdin.readline()  # the test lowers the group, then says go
ready.set()
time.sleep(60)
"""


def test_lowering_a_group_reaches_every_thread_and_what_starts_later() -> None:
    """lower_group gives every thread of the group nice 19 and the idle I/O class and returns
    what its leader had; a thread it starts afterwards inherits it; we are untouched."""
    ours = PriorityLevels(os.getpriority(os.PRIO_PROCESS, 0), _ioprio(os.getpid()))
    with subprocess.Popen(
        [sys.executable, "-c", _THREADED_CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        try:
            wait_until(lambda: len(_thread_nices(child.pid)) == 2, timeout=30, what="two threads")
            before = GroupPriorities().lower_group(child.pid)
            assert before == ours
            assert _thread_nices(child.pid) == [19, 19]
            assert _ioprio(child.pid) >> 13 == 3  # IOPRIO_CLASS_IDLE
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "19"
            assert os.getpriority(os.PRIO_PROCESS, 0) == ours.nice
            assert _ioprio(os.getpid()) == ours.io
        finally:
            child.kill()


def test_restoring_gives_a_group_its_levels_back() -> None:
    """restore_group puts back the levels lower_group reported (as root; without the
    privilege to raise a nice value it stays low, and nothing is raised)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    try:
        priorities = GroupPriorities()
        levels = priorities.lower_group(child.pid)
        assert levels is not None
        priorities.restore_group(child.pid, levels)
        assert _ioprio(child.pid) == levels.io  # the I/O class may always be raised back
        nice = os.getpriority(os.PRIO_PROCESS, child.pid)
        assert nice == (levels.nice if os.geteuid() == 0 else 19)
    finally:
        child.kill()
        child.wait()


def test_a_child_kept_in_the_session_leads_its_own_group(tmp_path: Path) -> None:
    """own_session=False: the child leads a process group of its own (so the group can be
    signalled) but stays in this session (one autogroup: its nice value counts against
    ours); SIGKILL to the group ends it."""
    launcher = PopenLauncher(parent_death_signal=False, own_session=False)
    handle = launcher.launch(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env=dict(os.environ),
        log_path=tmp_path / "child.log",
    )
    try:
        assert os.getpgid(handle.pid) == handle.pid != os.getpgrp()
        assert os.getsid(handle.pid) == os.getsid(0)
    finally:
        handle.signal_group(signal.SIGKILL)
        assert handle.wait(30) == -signal.SIGKILL
