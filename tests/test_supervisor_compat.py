"""The reference names: execute_command and exit_handler, on our footing."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

import vscode_interactive
from tests.fakes import (
    FakeClock,
    FakeCommandRunner,
    FakeEnvironment,
    FakeHealthProbe,
    FakeInterrupts,
    FakeProcess,
    FakeWakeup,
)
from vscode_interactive import (
    EXIT_CODE_SUCCESS,
    MAX_IDLE_SECONDS,
    ConfigError,
    IdleTimeoutError,
    InstallError,
    ServerExitedError,
    ServerStartError,
    execute_command,
    exit_handler,
    request_resume,
)
from vscode_interactive._layout import StateLayout
from vscode_interactive._ports import CommandResult, Health
from vscode_interactive._supervision._channel import ChannelServer
from vscode_interactive._supervision._supervisor import SupervisorSeams


def test_reference_names_are_public() -> None:
    """The reference's names are importable from the package with their values."""
    assert vscode_interactive.MAX_IDLE_SECONDS == 36000 == MAX_IDLE_SECONDS
    assert EXIT_CODE_SUCCESS == 0
    assert vscode_interactive.execute_command is execute_command
    assert vscode_interactive.exit_handler is exit_handler


def test_execute_command_splits_strings_without_a_shell() -> None:
    """A string is split like a shell would (quotes kept together), never run by one."""
    runner = FakeCommandRunner(lambda argv: CommandResult(0, "installed\n", ""))
    out = execute_command(
        'code-server --install-extension "/tmp/my ext.vsix"; rm -rf /', _runner=runner
    )
    assert out == "installed\n"
    assert runner.calls == [
        ["code-server", "--install-extension", "/tmp/my ext.vsix;", "rm", "-rf", "/"]
    ]
    execute_command(["a b", "c"], _runner=runner)
    assert runner.calls[-1] == ["a b", "c"]


def test_execute_command_failure_carries_stderr() -> None:
    """A non-zero exit raises InstallError (a RuntimeError) with stderr in message and output."""
    runner = FakeCommandRunner(lambda argv: CommandResult(2, "", "no such extension: x.y\n"))
    with pytest.raises(InstallError, match=r"exit code 2: no such extension: x\.y") as info:
        execute_command("code-server --install-extension x.y", _runner=runner)
    assert isinstance(info.value, RuntimeError)
    assert "no such extension" in info.value.output


def test_execute_command_missing_program_and_empty_command() -> None:
    """A missing program is an InstallError naming it; an empty command is a ConfigError."""

    def missing(argv: list[str]) -> CommandResult:
        raise FileNotFoundError(2, "No such file or directory", argv[0])

    with pytest.raises(InstallError, match="cannot run nope --x"):
        execute_command("nope --x", _runner=FakeCommandRunner(missing))
    with pytest.raises(ConfigError):
        execute_command("   ")


@pytest.mark.integration
def test_execute_command_runs_a_real_program() -> None:
    """With the real runner, stdout comes back."""
    assert execute_command([sys.executable, "-c", "print('hi')"]).strip() == "hi"


class Harness:
    """exit_handler wired to fakes; counts post_execute calls and checks the group is gone."""

    def __init__(self, tmp: Path, process: FakeProcess | None = None, **env: str) -> None:
        # Never the real ~/.local/share: a code-server running on the machine touches its
        # heartbeat there, which would count as activity against this fake clock.
        env.setdefault("XDG_DATA_HOME", str(tmp / "xdg-data"))
        env.setdefault("HOME", str(tmp / "home"))
        self.clock = FakeClock()
        self.process = process or FakeProcess(self.clock)
        self.interrupts = FakeInterrupts()
        self.layout = StateLayout.for_workspace(tmp)
        self.post_calls: list[bool] = []
        self.seams = SupervisorSeams(
            clock=self.clock,
            probe=FakeHealthProbe(self.clock, lambda now: Health("alive", 0)),
            # HOME in tmp: the default heartbeat file must not be this machine's real one.
            environment=FakeEnvironment({"HOME": str(tmp), **env}),
            interrupts=self.interrupts,
            wakeup=FakeWakeup(self.clock),
        )

    def post_execute(self) -> None:
        self.post_calls.append(self.process.group_alive())

    def at(self, when: float, action: object) -> None:
        start = self.clock.monotonic()
        fired: list[bool] = []

        def callback(clock: FakeClock) -> None:
            if not fired and clock.monotonic() >= start + when:
                fired.append(True)
                assert callable(action)
                action()

        self.clock.on_sleep.append(callback)

    def run(self, **kwargs: object) -> object:
        return exit_handler(
            self.process,
            kwargs.pop("task_function", None),  # type: ignore[arg-type]  # test plumbing
            kwargs.pop("args", None),  # type: ignore[arg-type]  # test plumbing
            kwargs.pop("kwargs", None),  # type: ignore[arg-type]  # test plumbing
            kwargs.pop("max_idle_seconds", 100),  # type: ignore[arg-type]  # test plumbing
            self.post_execute,
            layout=self.layout,
            url="http://127.0.0.1:1",
            check_interval=10,
            _seams=self.seams,
        )


def test_exit_handler_resume_runs_the_task_after_post_execute(tmp_path: Path) -> None:
    """RESUMED: post_execute once (group already gone), then the task's return value."""
    harness = Harness(tmp_path)
    calls: list[tuple[object, ...]] = []

    def task(a: int, b: int = 0) -> int:
        calls.append((a, b, len(harness.post_calls)))
        return a + b

    harness.at(5, lambda: request_resume(harness.layout.root))  # over the real socket
    result = harness.run(task_function=task, args=(2,), kwargs={"b": 3})
    assert result == 5
    assert calls == [(2, 3, 1)]
    assert harness.post_calls == [False]


def test_exit_handler_idle_raises_idle_timeout(tmp_path: Path) -> None:
    """IDLE_TIMEOUT: IdleTimeoutError with the idle seconds; post_execute once; no task."""
    harness = Harness(tmp_path)
    with pytest.raises(IdleTimeoutError) as info:
        harness.run(task_function=lambda: pytest.fail("must not run"), max_idle_seconds=30)
    assert info.value.idle_seconds >= 30
    assert harness.post_calls == [False]


def test_exit_handler_clean_child_exit_is_not_a_resume(tmp_path: Path) -> None:
    """The reference's bug: a child exiting 0 is ServerExitedError here, the task is not run."""
    clock_process = Harness(tmp_path)
    clock_process.process.exits_at = clock_process.clock.monotonic() + 20
    with pytest.raises(ServerExitedError, match="exited with code 0") as info:
        clock_process.run(task_function=lambda: pytest.fail("must not run"))
    assert info.value.exit_code == 0
    assert clock_process.post_calls == [False]


@pytest.mark.parametrize(
    ("signum", "expected"),
    [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit)],
)
def test_exit_handler_interrupt(tmp_path: Path, signum: int, expected: type[BaseException]) -> None:
    """INTERRUPTED: KeyboardInterrupt for SIGINT, SystemExit(128+n) otherwise; post once."""
    harness = Harness(tmp_path)
    harness.at(3, lambda: harness.interrupts.fire(signum))
    with pytest.raises(expected) as info:
        harness.run()
    if isinstance(info.value, SystemExit):
        assert info.value.code == 128 + signum
    assert harness.post_calls == [False]


def test_exit_handler_post_execute_runs_once_even_if_supervision_fails(tmp_path: Path) -> None:
    """When supervision cannot start (state dir busy), post_execute still runs, once."""
    harness = Harness(tmp_path)
    busy = ChannelServer(harness.layout.root, lambda command, request: {"ok": True, "message": ""})
    busy.start()
    try:
        with pytest.raises(ServerStartError):
            harness.run()
    finally:
        busy.close()
    assert len(harness.post_calls) == 1


def test_exit_handler_heartbeat_file_defaults_to_xdg_data_home(tmp_path: Path) -> None:
    """Without a URL, activity comes from $XDG_DATA_HOME/code-server/heartbeat."""
    data_home = tmp_path / "xdg"
    harness = Harness(tmp_path / "ws", XDG_DATA_HOME=str(data_home))
    heartbeat = data_home / "code-server" / "heartbeat"
    touched: list[float] = []

    def touch() -> None:
        heartbeat.parent.mkdir(parents=True, exist_ok=True)
        heartbeat.write_text("")
        os.utime(heartbeat, (harness.clock.now(), harness.clock.now()))
        touched.append(harness.clock.monotonic())

    start = harness.clock.monotonic()
    harness.at(50, touch)
    with pytest.raises(IdleTimeoutError):
        exit_handler(
            harness.process,
            max_idle_seconds=100,
            layout=harness.layout,
            check_interval=10,
            _seams=harness.seams,
        )
    assert harness.clock.monotonic() - start >= touched[0] - start + 100
