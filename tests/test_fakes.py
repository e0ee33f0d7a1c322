"""The fakes behave like the real things they stand in for."""

from __future__ import annotations

import signal

import pytest

from tests.fakes import (
    FakeClock,
    FakeCommandRunner,
    FakeEnvironment,
    FakeFetcher,
    FakeHealthProbe,
    FakeInterrupts,
    FakeLauncher,
    FakeProcess,
)
from vscode_interactive._ports import CommandResult, Health


def test_fake_clock_advances_only_on_sleep_and_jump() -> None:
    """Time stands still until someone sleeps or jumps; sleeps are recorded."""
    clock = FakeClock(start=10.0, wall_start=100.0)
    assert (clock.monotonic(), clock.now()) == (10.0, 100.0)
    clock.sleep(2.5)
    clock.jump(1.0)
    assert (clock.monotonic(), clock.now()) == (13.5, 103.5)
    assert clock.sleeps == [2.5]


def test_fake_clock_runs_callbacks_after_sleep() -> None:
    """on_sleep callbacks see the advanced time."""
    clock = FakeClock(start=0.0)
    seen: list[float] = []
    clock.on_sleep.append(lambda c: seen.append(c.monotonic()))
    clock.sleep(1.0)
    clock.sleep(0.5)
    assert seen == [1.0, 1.5]


def test_fake_clock_refuses_to_go_backwards() -> None:
    """A negative jump is a test bug."""
    with pytest.raises(ValueError, match="backwards"):
        FakeClock().jump(-1)


def test_fake_process_exits_at_scripted_time() -> None:
    """A scripted exit happens when the clock reaches it, not before."""
    clock = FakeClock(start=0.0)
    process = FakeProcess(clock, exits_at=5.0, exit_code=3)
    assert process.poll() is None
    assert process.wait(1.0) is None
    assert clock.monotonic() == 1.0
    assert process.wait(10.0) == 3
    assert clock.monotonic() == 5.0


def test_fake_process_sigterm_and_sigkill() -> None:
    """SIGTERM ends a cooperative process; a stubborn one and its grandchild need SIGKILL."""
    clock = FakeClock()
    polite = FakeProcess(clock)
    polite.signal_group(signal.SIGTERM)
    assert polite.poll() == -signal.SIGTERM and not polite.group_alive()

    stubborn = FakeProcess(clock, ignores_sigterm=True, grandchild=True)
    stubborn.signal_group(signal.SIGTERM)
    assert stubborn.poll() is None and stubborn.group_alive()
    stubborn.signal_group(signal.SIGKILL)
    assert stubborn.poll() == -signal.SIGKILL and not stubborn.group_alive()
    assert stubborn.signals == [signal.SIGTERM, signal.SIGKILL]


def test_fake_process_grandchild_outlives_leader() -> None:
    """When the leader exits, a grandchild keeps the group alive."""
    process = FakeProcess(FakeClock(), grandchild=True)
    process.exit(0)
    assert process.poll() == 0
    assert process.group_alive()


def test_fake_launcher_records_and_hands_out_processes() -> None:
    """Launches are recorded; scripted processes are handed out in order."""
    clock = FakeClock()
    first, second = FakeProcess(clock, pid=1), FakeProcess(clock, pid=2)
    launcher = FakeLauncher(first, second)
    assert launcher.launch(["a"], env={"X": "1"}).pid == 1
    assert launcher.launch(["b"], env={}).pid == 2
    assert [launch.argv for launch in launcher.launches] == [["a"], ["b"]]
    assert launcher.launches[0].env == {"X": "1"}
    with pytest.raises(AssertionError):
        launcher.launch(["c"], env={})


def test_fake_launcher_can_fail() -> None:
    """A scripted OSError simulates a missing executable."""
    launcher = FakeLauncher()
    launcher.error = FileNotFoundError("code-server")
    with pytest.raises(FileNotFoundError):
        launcher.launch(["code-server"], env={})


def test_fake_fetcher_serves_content_and_scripted_failures() -> None:
    """Failures are raised first, then the content streams; every open is recorded."""
    fetcher = FakeFetcher(content={"u": b"abcdef"}, failures={"u": [ConnectionResetError("reset")]})
    with pytest.raises(ConnectionResetError), fetcher.open("u", {}):
        pass
    with fetcher.open("u", {"k": 1}) as stream:
        assert stream.size == 6
        assert stream.read(4) + stream.read(4) + stream.read(4) == b"abcdef"
    assert [url for url, _ in fetcher.opened] == ["u", "u"]
    with pytest.raises(FileNotFoundError), fetcher.open("missing", {}):
        pass


def test_fake_health_probe_answers_by_time() -> None:
    """The probe's answer is a function of the fake clock."""
    clock = FakeClock(start=0.0)
    probe = FakeHealthProbe(clock, lambda now: Health("alive", 7) if now >= 2 else None)
    assert probe.check("http://h", 1) is None
    clock.jump(2)
    assert probe.check("http://h", 1) == Health("alive", 7)
    assert probe.checks == ["http://h", "http://h"]


def test_fake_runner_environment_and_interrupts() -> None:
    """Runner records argv; environment is a dict; interrupts reach subscribers until removed."""
    runner = FakeCommandRunner(lambda argv: CommandResult(len(argv), "out", "err"))
    assert runner.run(["a", "b"]).returncode == 2
    assert runner.run(["x"]).output == "out\nerr"
    assert runner.calls == [["a", "b"], ["x"]]

    env = FakeEnvironment({"A": "1"})
    assert env.get("A") == "1" and env.get("B") is None
    snapshot = env.snapshot()
    snapshot["B"] = "2"
    assert env.get("B") is None

    interrupts = FakeInterrupts()
    got: list[int] = []
    unsubscribe = interrupts.subscribe(got.append)
    interrupts.fire(signal.SIGINT)
    unsubscribe()
    interrupts.fire(signal.SIGTERM)
    assert got == [signal.SIGINT]
