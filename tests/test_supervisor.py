"""The supervisor loop on fakes: every outcome, start failure and shutdown path."""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import (
    FakeClock,
    FakeEditorWindows,
    FakeEnvironment,
    FakeHealthProbe,
    FakeInterrupts,
    FakeLauncher,
    FakePortAllocator,
    FakeProcess,
    FakeWakeup,
)
from vscode_interactive import ConfigError, ResumeError, ServerStartError
from vscode_interactive._layout import StateLayout
from vscode_interactive._ports import Health
from vscode_interactive._supervision._channel import ChannelServer
from vscode_interactive._supervision._landing import landing_url, open_request
from vscode_interactive._supervision._policy import Outcome
from vscode_interactive._supervision._server import ServerOptions
from vscode_interactive._supervision._supervisor import Supervisor, SupervisorSeams
from vscode_interactive._workspace import SourceLocation

READY_AFTER = 1.0


@dataclass
class Rig:
    """A supervisor wired to fakes, with the world's knobs exposed."""

    tmp: Path
    clock: FakeClock = field(default_factory=FakeClock)
    env: dict[str, str] = field(default_factory=dict)
    free_ports: tuple[int, ...] = (41000,)
    taken_ports: tuple[int, ...] = ()
    heartbeat_ms: Callable[[float], int] = lambda now: 0
    ready_after: float | None = READY_AFTER
    announced: list[str] = field(default_factory=list)
    interrupts: FakeInterrupts = field(default_factory=FakeInterrupts)
    fired_at: list[float] = field(default_factory=list)
    windows: FakeEditorWindows = field(default_factory=FakeEditorWindows)

    def __post_init__(self) -> None:
        self.bin = self.tmp / "bin"
        self.bin.mkdir()
        self.exe = self.bin / "code-server"
        self.exe.write_text("#!/bin/sh\n")
        self.exe.chmod(0o755)
        self.layout = StateLayout.for_workspace(self.tmp / "ws")
        self.start = self.clock.monotonic()

    def options(self, **changes: Any) -> ServerOptions:
        base = ServerOptions(
            executable=Path("code-server"),
            layout=self.layout,
            user_data_dir=self.tmp / "user-data",
            extensions_dir=self.tmp / "extensions",
            max_idle_seconds=100,
            check_interval=10,
            start_timeout=30,
            grace_seconds=5,
            use_guardian=False,
        )
        return replace(base, **changes)

    def health(self, now: float) -> Health | None:
        if self.ready_after is None or now - self.start < self.ready_after:
            return None
        return Health("alive", self.heartbeat_ms(now))

    def supervisor(self, *processes: FakeProcess, **changes: Any) -> Supervisor:
        self.launcher = FakeLauncher(*processes)
        self.allocator = FakePortAllocator(self.free_ports, self.taken_ports)
        seams = SupervisorSeams(
            clock=self.clock,
            launcher=self.launcher,
            probe=FakeHealthProbe(self.clock, self.health),
            environment=FakeEnvironment({"PATH": str(self.bin), **self.env}),
            interrupts=self.interrupts,
            port_allocator=self.allocator,
            wakeup=FakeWakeup(self.clock),
            editor_windows=self.windows,
        )
        return Supervisor(self.options(**changes), _seams=seams, announce=self.announced.append)

    def at(self, when: float, action: Callable[[], object]) -> None:
        """Run ``action`` once, the first time the clock is past ``start + when``."""
        fired: list[bool] = []

        def callback(clock: FakeClock) -> None:
            if not fired and clock.monotonic() >= self.start + when:
                fired.append(True)
                self.fired_at.append(self.elapsed())
                action()

        self.clock.on_sleep.append(callback)

    def elapsed(self) -> float:
        return self.clock.monotonic() - self.start


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_resume_request_ends_with_resumed_after_stopping_the_group(rig: Rig) -> None:
    """A resume stops the server with SIGTERM and returns RESUMED once the group is gone."""
    process = FakeProcess(rig.clock)
    sup = rig.supervisor(process)
    rig.at(3, sup.request_resume)
    result = sup.run()
    assert result.outcome is Outcome.RESUMED and result.resumed
    assert process.signals == [signal.SIGTERM]
    assert not process.group_alive()
    assert (result.url, result.port, result.exit_code) == ("http://127.0.0.1:41000", 41000, -15)


def test_reacts_to_resume_without_waiting_for_the_check_interval(rig: Rig) -> None:
    """The resume cuts the 10 s wait short: SIGTERM goes out at the very instant of the request."""
    signalled_at: list[float] = []

    class Timed(FakeProcess):
        def signal_group(self, signum: int) -> None:
            signalled_at.append(rig.clock.monotonic())
            super().signal_group(signum)

    sup = rig.supervisor(Timed(rig.clock))
    rig.at(5, sup.request_resume)
    sup.run()
    assert signalled_at[0] == rig.start + rig.fired_at[0]


def test_argv_env_and_password_file(rig: Rig) -> None:
    """argv has the secure flags and the folder last; the password is in two 0600 files
    (for the user, and code-server's --config), never in argv or the environment."""
    rig.env.update({"HASHED_PASSWORD": "x", "PORT": "9", "VSCODE_IPC_HOOK_CLI": "/s", "KEEP": "1"})
    seen: dict[str, object] = {}
    sup = rig.supervisor(FakeProcess(rig.clock), extra_args=("--log", "debug"))

    def look() -> None:
        info = rig.layout.password_file.stat()
        seen["mode"] = stat.S_IMODE(info.st_mode)
        seen["config_mode"] = stat.S_IMODE(rig.layout.server_config.stat().st_mode)
        seen["config"] = rig.layout.server_config.read_text()
        seen["password"] = rig.layout.password_file.read_text()
        seen["session"] = json.loads(rig.layout.session_info.read_text())
        sup.request_resume()

    rig.at(3, look)
    sup.run()
    launch = rig.launcher.launches[0]
    password = seen["password"]
    assert isinstance(password, str) and len(password) >= 24
    assert seen["mode"] == seen["config_mode"] == 0o600
    assert seen["config"] == f'password: "{password}"\n'
    assert not any(password in arg for arg in launch.argv)
    assert not any(password in value for value in launch.env.values())
    assert launch.argv == [
        str(rig.exe),
        "--bind-addr",
        "127.0.0.1:41000",
        "--auth",
        "password",
        "--config",
        str(rig.layout.server_config),
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        "--disable-getting-started-override",
        "--ignore-last-opened",
        "--user-data-dir",
        str(rig.tmp / "user-data"),
        "--extensions-dir",
        str(rig.tmp / "extensions"),
        "--log",
        "debug",
        str(rig.layout.workspace),
    ]
    assert launch.env["XDG_DATA_HOME"] == str(rig.layout.root / "xdg-data")
    assert {"PASSWORD", "HASHED_PASSWORD", "PORT", "VSCODE_IPC_HOOK_CLI"}.isdisjoint(launch.env)
    assert launch.env["KEEP"] == "1"
    assert launch.log_path == rig.layout.server_log and launch.cwd == rig.layout.workspace
    session = seen["session"]
    assert isinstance(session, dict) and session["state"] == "running"
    assert session["url"] == "http://127.0.0.1:41000"
    assert not rig.layout.password_file.exists() and not rig.layout.session_info.exists()
    assert not rig.layout.server_config.exists()


def test_guardian_wraps_the_command(rig: Rig) -> None:
    """By default code-server runs under the guardian, which knows our pid and grace period."""
    sup = rig.supervisor(FakeProcess(rig.clock), use_guardian=True)
    rig.at(2, sup.request_resume)
    sup.run()
    argv = rig.launcher.launches[0].argv
    separator = argv.index("--")
    assert argv[:3] == [sys.executable, "-I", "-S"] and argv[3].endswith("_guardian.py")
    assert argv[argv.index("--parent") + 1] == str(os.getpid())
    assert argv[argv.index("--grace") + 1] == "5"
    assert argv[separator + 1] == str(rig.exe)


def test_banner_announced_once_with_kubernetes_hint(rig: Rig) -> None:
    """The user is told once: URL, password file, port-forward for the pod, how to resume."""
    rig.env.update({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "HOSTNAME": "job-pod-7"})
    sup = rig.supervisor(FakeProcess(rig.clock))
    rig.at(40, sup.request_resume)
    sup.run()
    assert len(rig.announced) == 1
    banner = rig.announced[0]
    assert "http://127.0.0.1:41000" in banner
    assert str(rig.layout.password_file) in banner
    assert "kubectl port-forward pod/job-pod-7 41000:41000" in banner
    assert "vscode-interactive resume" in banner and "Resume Task" in banner


def test_auth_none_on_loopback_has_no_password(rig: Rig) -> None:
    """auth='none' on loopback: no PASSWORD in env, no password file, the banner says so."""
    rig.env["PASSWORD"] = "inherited"  # noqa: S105 - a dummy that must not leak through
    sup = rig.supervisor(FakeProcess(rig.clock), auth="none")
    rig.at(2, sup.request_resume)
    sup.run()
    assert "PASSWORD" not in rig.launcher.launches[0].env
    argv = rig.launcher.launches[0].argv
    assert argv[argv.index("--auth") + 1] == "none"
    assert "Password:  none" in rig.announced[0]


def test_unauthenticated_non_loopback_is_refused(rig: Rig) -> None:
    """Binding 0.0.0.0 without auth raises ConfigError before anything starts."""
    with pytest.raises(ConfigError, match=r"refusing to serve code-server on 0\.0\.0\.0"):
        rig.supervisor(FakeProcess(rig.clock), host="0.0.0.0", auth="none")


def test_unauthenticated_non_loopback_allowed_with_warning(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """allow_unauthenticated=True lets it run, with a WARNING in the log."""
    sup = rig.supervisor(
        FakeProcess(rig.clock), host="0.0.0.0", auth="none", allow_unauthenticated=True
    )
    rig.at(2, sup.request_resume)
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        sup.run()
    assert any("WITHOUT authentication" in r.message for r in caplog.records)
    assert rig.launcher.launches[0].argv[2] == "0.0.0.0:41000"


def test_exit_before_ready_raises_start_error_with_log_tail(rig: Rig) -> None:
    """A crash before /healthz answers: ServerStartError with port, exit code and log lines."""
    rig.ready_after = None
    crash = FakeProcess(rig.clock, exits_at=rig.start + 0.5, exit_code=7, log_text="boom: bad\n")
    sup = rig.supervisor(crash)
    with pytest.raises(ServerStartError) as info:
        sup.run()
    error = info.value
    assert (error.port, error.exit_code) == (41000, 7)
    assert "boom: bad" in error.log_tail and "boom: bad" in str(error)
    assert "exited with code 7" in str(error)
    assert not crash.group_alive()
    assert not rig.layout.password_file.exists()


def test_explicit_port_taken_fails_before_launch(rig: Rig) -> None:
    """A requested port that is already bound: ServerStartError naming it, nothing launched."""
    rig.taken_ports = (8080,)
    sup = rig.supervisor(port=8080)
    with pytest.raises(ServerStartError, match=r"port 8080 on 127\.0\.0\.1 is already in use"):
        sup.run()
    assert rig.launcher.launches == []


def test_auto_port_race_retries_on_a_new_port(rig: Rig) -> None:
    """port=0 and the picked port got taken before code-server bound it: retry on another."""
    rig.free_ports = (41000, 41001)
    lost = FakeProcess(
        rig.clock, exits_at=rig.start + 0.2, exit_code=1, log_text="listen EADDRINUSE\n"
    )
    sup = rig.supervisor(lost, FakeProcess(rig.clock, pid=5))
    rig.at(5, sup.request_resume)
    result = sup.run()
    assert [launch.argv[2] for launch in rig.launcher.launches] == [
        "127.0.0.1:41000",
        "127.0.0.1:41001",
    ]
    assert (result.outcome, result.port, result.server_pid) == (Outcome.RESUMED, 41001, 5)


def test_port_taken_is_reported_when_retries_run_out(rig: Rig) -> None:
    """Every retry losing the race ends with a start error that says the port is in use."""
    lose = [
        FakeProcess(rig.clock, exits_at=rig.start, exit_code=1, log_text="EADDRINUSE\n")
        for _ in range(2)
    ]
    sup = rig.supervisor(*lose, port_retries=1)
    with pytest.raises(ServerStartError, match="the port is in use") as info:
        sup.run()
    assert info.value.exit_code == 1
    assert len(rig.launcher.launches) == 2


def test_start_timeout_stops_the_server(rig: Rig) -> None:
    """No /healthz answer within start_timeout: the process is stopped, then ServerStartError."""
    rig.ready_after = None
    silent = FakeProcess(rig.clock)
    sup = rig.supervisor(silent, start_timeout=3)
    with pytest.raises(ServerStartError, match=r"within 3 s") as info:
        sup.run()
    assert silent.signals == [signal.SIGTERM]
    assert info.value.exit_code == -signal.SIGTERM
    assert 3 <= rig.elapsed() < 3.5


def test_missing_executable_is_a_start_error(rig: Rig) -> None:
    """An executable that is not on PATH fails with a message saying so."""
    sup = rig.supervisor(executable=Path("no-such-code-server"))
    with pytest.raises(ServerStartError, match="'no-such-code-server' is not on PATH"):
        sup.run()


def test_launch_oserror_is_a_start_error(rig: Rig) -> None:
    """The launcher failing (exec error) becomes ServerStartError with the port."""
    sup = rig.supervisor()
    rig.launcher.error = PermissionError("exec denied")
    with pytest.raises(ServerStartError, match="exec denied") as info:
        sup.run()
    assert info.value.port == 41000


def test_idle_timeout_when_no_heartbeat_is_ever_seen(rig: Rig) -> None:
    """No activity at all: stopped at max_idle_seconds after the IDE became ready (not later)."""
    process = FakeProcess(rig.clock)
    result = rig.supervisor(process).run()
    assert result.outcome is Outcome.IDLE_TIMEOUT
    assert 100 <= rig.elapsed() - READY_AFTER < 101
    assert result.idle_seconds >= 100
    assert process.signals == [signal.SIGTERM]


def test_heartbeat_refresh_extends_the_idle_deadline(rig: Rig) -> None:
    """Activity at t=50 (reported by /healthz) moves the end to t=150."""
    wall_start = rig.clock.now()
    rig.heartbeat_ms = lambda now: int((wall_start + 50) * 1000) if now - rig.start >= 50 else 0
    result = rig.supervisor(FakeProcess(rig.clock)).run()
    assert result.outcome is Outcome.IDLE_TIMEOUT
    assert 150 <= rig.elapsed() < 151


def test_heartbeat_file_counts_when_healthz_has_none(rig: Rig) -> None:
    """The heartbeat file under XDG_DATA_HOME is the fallback activity source."""
    heartbeat = rig.layout.root / "xdg-data" / "code-server" / "heartbeat"
    touched_at: list[float] = []

    def touch() -> None:
        heartbeat.parent.mkdir(parents=True, exist_ok=True)
        heartbeat.write_text("")
        os.utime(heartbeat, (rig.clock.now(), rig.clock.now()))
        touched_at.append(rig.elapsed())

    rig.at(70, touch)
    result = rig.supervisor(FakeProcess(rig.clock)).run()
    assert result.outcome is Outcome.IDLE_TIMEOUT
    assert 70 <= touched_at[0] < 81
    assert touched_at[0] + 100 - 0.01 <= rig.elapsed() < touched_at[0] + 101


def test_clean_server_exit_is_server_exited_not_resumed(rig: Rig) -> None:
    """code-server exiting 0 by itself is SERVER_EXITED with its code and log."""
    process = FakeProcess(
        rig.clock, exits_at=rig.start + 20, exit_code=0, log_text="idle timeout\n"
    )
    result = rig.supervisor(process).run()
    assert (result.outcome, result.exit_code) == (Outcome.SERVER_EXITED, 0)
    assert "idle timeout" in result.log_tail
    assert not result.resumed


def test_sigterm_ignored_escalates_to_sigkill_after_grace(rig: Rig) -> None:
    """A server ignoring SIGTERM gets SIGKILL after grace_seconds; the group ends."""
    stubborn = FakeProcess(rig.clock, ignores_sigterm=True)
    sup = rig.supervisor(stubborn)
    rig.at(2, sup.request_resume)
    result = sup.run()
    assert stubborn.signals == [signal.SIGTERM, signal.SIGKILL]
    assert result.exit_code == -signal.SIGKILL
    assert 5 <= rig.elapsed() - rig.fired_at[0] < 5.5


def test_grandchild_outliving_the_leader_is_killed(rig: Rig) -> None:
    """The leader exits on SIGTERM but a grandchild lingers: SIGKILL to the group ends it."""
    family = FakeProcess(rig.clock, grandchild=True)
    sup = rig.supervisor(family)
    rig.at(2, sup.request_resume)
    result = sup.run()
    assert family.signals == [signal.SIGTERM, signal.SIGKILL]
    assert not family.group_alive()
    assert result.exit_code == -signal.SIGTERM


def test_interrupt_ends_with_interrupted_and_unsubscribes(rig: Rig) -> None:
    """SIGINT to the supervising process stops the server and reports INTERRUPTED with it."""
    sup = rig.supervisor(FakeProcess(rig.clock))
    rig.at(4, lambda: rig.interrupts.fire(signal.SIGINT))
    result = sup.run()
    assert (result.outcome, result.signal) == (Outcome.INTERRUPTED, signal.SIGINT)
    assert rig.interrupts.callbacks == []


def test_interrupt_method_works_without_signal_handlers(rig: Rig) -> None:
    """Supervisor.interrupt() (for non-main threads) has the same effect as a signal."""
    sup = rig.supervisor(FakeProcess(rig.clock))
    rig.at(4, lambda: sup.interrupt(signal.SIGTERM))
    result = sup.run()
    assert (result.outcome, result.signal) == (Outcome.INTERRUPTED, signal.SIGTERM)


def test_max_lifetime_stops_a_busy_session(rig: Rig) -> None:
    """Constant activity does not outlive max_lifetime_seconds."""
    rig.heartbeat_ms = lambda now: int(rig.clock.now() * 1000)
    result = rig.supervisor(FakeProcess(rig.clock), max_lifetime_seconds=60).run()
    assert result.outcome is Outcome.IDLE_TIMEOUT
    assert "maximum lifetime" in result.detail
    assert 60 <= rig.elapsed() < 61


def test_resume_while_starting(rig: Rig) -> None:
    """A resume before /healthz ever answered ends RESUMED, without announcing a URL."""
    rig.ready_after = None
    sup = rig.supervisor(FakeProcess(rig.clock))
    rig.at(0.3, sup.request_resume)
    result = sup.run()
    assert result.outcome is Outcome.RESUMED
    assert rig.announced == []


def test_resume_refused_once_the_session_is_ending(rig: Rig) -> None:
    """During an idle shutdown a resume request gets a clear refusal, not a false ack."""
    refusals: list[str] = []
    sup = rig.supervisor(FakeProcess(rig.clock, ignores_sigterm=True))

    def try_resume() -> None:
        with pytest.raises(ResumeError) as info:
            sup.request_resume()
        refusals.append(str(info.value))

    rig.at(102, try_resume)
    result = sup.run()
    assert result.outcome is Outcome.IDLE_TIMEOUT
    assert refusals and "already ending (no activity for 100 s" in refusals[0]


def test_status_reports_url_pid_and_idle_seconds(rig: Rig) -> None:
    """status() shows what `vscode-interactive status` prints, with live idle seconds."""
    snapshots: list[dict[str, object]] = []
    sup = rig.supervisor(FakeProcess(rig.clock, pid=777))

    def look() -> None:
        snapshots.append(sup.status())
        sup.request_resume()

    rig.at(30, look)
    sup.run()
    status = snapshots[0]
    assert status["url"] == "http://127.0.0.1:41000" and status["server_pid"] == 777
    assert status["state"] == "running" and status["state_dir"] == str(rig.layout.root)
    assert isinstance(status["idle_seconds"], float) and 30 <= status["idle_seconds"] <= 31


def test_another_live_session_in_the_state_dir_is_refused(rig: Rig) -> None:
    """A second session on the same state dir fails and leaves the first one's files alone."""
    rig.layout.root.mkdir(parents=True)
    rig.layout.password_file.write_text("first session's")
    rig.layout.session_info.write_text("{}")
    first = ChannelServer(rig.layout.root, lambda command, request: {"ok": True, "message": "hi"})
    first.start()
    try:
        with pytest.raises(ServerStartError, match="another vscode-interactive session"):
            rig.supervisor(FakeProcess(rig.clock)).run()
    finally:
        first.close()
    assert rig.layout.password_file.read_text() == "first session's"
    assert rig.layout.session_info.exists()
    assert rig.launcher.launches == []


def test_open_files_land_the_url_and_greet_each_new_window(rig: Rig) -> None:
    """With open_files: the banner and status show the landing URL and what it opens,
    code-server gets a window registry, a new window is asked to open the files, and the
    registry socket is gone afterwards."""
    front = SourceLocation(rig.layout.front_page, 1)
    raised = SourceLocation(rig.layout.workspace / "job.py", 7)
    rig.windows = FakeEditorWindows(["/tmp/ipc-1.sock"])
    sup = rig.supervisor(FakeProcess(rig.clock), open_files=(front, raised))
    seen: dict[str, object] = {}

    def once_greeted() -> None:
        assert rig.windows.opened.wait(10)
        seen["status"] = sup.status()
        argv = rig.launcher.launches[0].argv
        Path(argv[argv.index("--session-socket") + 1]).touch()  # code-server leaves it
        sup.request_resume()

    rig.at(3, once_greeted)
    sup.run()
    argv = rig.launcher.launches[0].argv
    registry = Path(argv[argv.index("--session-socket") + 1])
    assert argv[-1] == str(rig.layout.workspace)
    landing = landing_url("http://127.0.0.1:41000", folder=rig.layout.workspace, reveal=raised)
    status = seen["status"]
    assert isinstance(status, dict)
    assert (status["url"], status["server_url"]) == (landing, "http://127.0.0.1:41000")
    assert f"  Open:      {landing}\n  Lands on:  {raised.goto}\n" in rig.announced[0]
    assert rig.windows.requests == [("/tmp/ipc-1.sock", open_request([front, raised]))]
    assert rig.windows.lookups[0] == (registry, front.path)
    assert not registry.exists()
