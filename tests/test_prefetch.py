"""The background install on fakes: when it runs, what it starts, how it ends.

The thread is real; the check, the child process, the priorities and the log file are
fakes (``tests/fakes.py``), so each test states what the prefetch did to them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes import FakeClock, FakeEnvironment, FakeLauncher, FakePriorities, WaitedProcess
from vscode_interactive import ConfigError, VscodeConfig
from vscode_interactive._install._prefetch import Prefetch
from vscode_interactive._install._prefetch_request import (
    ENV_REQUEST,
    PrefetchRequest,
    child_argv,
    prefetch_wanted,
)
from vscode_interactive._install._prefetch_seams import PrefetchSeams
from vscode_interactive._ports import PriorityLevels

WAIT = 10.0  # seconds a test waits for the thread, at most


@dataclass
class Rig:
    """A prefetch on fakes; ``present`` is what the cheap check answers."""

    tmp: Path
    present: bool = False
    check_error: Exception | None = None
    process: WaitedProcess = field(default_factory=WaitedProcess)
    priorities: FakePriorities = field(default_factory=FakePriorities)
    checks: int = 0
    logs: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.launcher = FakeLauncher(self.process)
        self.checked = threading.Event()

    def check(self) -> bool:
        self.checks += 1
        self.checked.set()
        if self.check_error is not None:
            raise self.check_error
        return self.present

    def log_file(self) -> Path:
        path = self.tmp / f"prefetch-{len(self.logs)}.log"
        path.write_text("")
        self.logs.append(path)
        return path

    def prefetch(
        self, head_start: float = 0.0, cache_dir: str | None = None, look_every: float = 0.01
    ) -> Prefetch:
        seams = PrefetchSeams(
            priorities=self.priorities,
            launcher=self.launcher,
            env=FakeEnvironment({"HOME": str(self.tmp)}),
            clock=FakeClock(),
            check=self.check,
            log_file=self.log_file,
            argv=["python", "-c", "child"],
        )
        request = PrefetchRequest(VscodeConfig(extension_remote_paths=[]), cache_dir)
        return Prefetch(
            request, lambda: seams, head_start=head_start, look_every=look_every
        ).start()

    def launched(self) -> None:
        """Wait until the child was started."""
        pause = threading.Event()
        for _ in range(int(WAIT / 0.01)):
            if self.launcher.launches:
                return
            pause.wait(0.01)
        raise AssertionError("the child was never started")


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def finished(prefetch: Prefetch) -> str:
    assert prefetch._done.wait(WAIT), "the prefetch thread did not finish"
    return prefetch.outcome


@pytest.mark.parametrize(
    ("option", "run_task_first", "env_value", "wanted"),
    [
        (None, True, None, True),
        (None, False, None, False),
        (True, False, "1", False),
        (False, True, None, False),
        (True, True, None, True),
        (True, True, "0", False),
        (False, True, "yes", True),
        (None, True, "  ", True),
    ],
)
def test_wanted_only_with_run_task_first_and_the_variable_wins(
    option: bool | None, run_task_first: bool, env_value: str | None, wanted: bool
) -> None:
    """Default on with run_task_first, never without it; $VSCODE_INTERACTIVE_PREFETCH
    (0/1) overrides the option, and a blank value counts as unset."""
    assert prefetch_wanted(option, run_task_first=run_task_first, env_value=env_value) is wanted


def test_a_bad_switch_value_is_a_config_error_naming_the_variable() -> None:
    """``VSCODE_INTERACTIVE_PREFETCH=maybe`` raises ConfigError naming it and the values."""
    with pytest.raises(ConfigError, match=r"VSCODE_INTERACTIVE_PREFETCH='maybe'.*use 1"):
        prefetch_wanted(None, run_task_first=True, env_value="maybe")


def test_nothing_missing_means_no_process_and_no_priority_change(rig: Rig) -> None:
    """When the check finds everything installed, nothing is started or reprioritised."""
    rig.present = True
    assert finished(rig.prefetch()) == "present"
    assert rig.launcher.launches == []
    assert rig.priorities.calls == []


def test_something_missing_starts_the_child_at_low_priority(rig: Rig) -> None:
    """The child gets the request in its environment and a log file, and its whole group
    the lowest priorities (the job's own threads keep theirs); exit 0 means installed."""
    prefetch = rig.prefetch(cache_dir="/cache")
    rig.launched()
    (launch,) = rig.launcher.launches
    assert launch.argv == ["python", "-c", "child"]
    assert launch.log_path == rig.logs[0]
    request = json.loads(launch.env[ENV_REQUEST])
    assert request["parent"] == os.getpid()
    assert request["cache"] == "/cache"
    assert request["vscode"]["extension_remote_paths"] == []
    assert launch.env["HOME"] == str(rig.tmp)
    assert rig.priorities.calls == [("lower_group", rig.process.pid, None)]
    rig.process.exit(0)
    assert finished(prefetch) == "installed"
    assert not rig.logs[0].exists()


def test_cancel_during_the_head_start_does_nothing_at_all(rig: Rig) -> None:
    """A function that returns before the head start ends costs no check and no process."""
    prefetch = rig.prefetch(head_start=3600)
    prefetch.cancel()
    assert finished(prefetch) == "cancelled"
    assert rig.checks == 0 and rig.launcher.launches == []


def test_cancel_kills_the_child_group_without_waiting_and_logs_no_failure(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Cancelling while the child runs sends SIGKILL to its group; the killed child is a
    cancel, not a failure to report."""
    prefetch = rig.prefetch()
    rig.launched()
    with caplog.at_level(logging.INFO, logger="vscode_interactive"):
        prefetch.cancel()
        assert finished(prefetch) == "cancelled"
    assert rig.process.signals == [signal.SIGKILL]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_failed_child_is_logged_once_with_its_last_lines(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A child that exits non-zero: one warning with its exit code and output, and the
    private log file is removed."""
    rig.process = WaitedProcess(log_text="downloading...\nDownloadError: HTTP 503 from x\n")
    rig.launcher = FakeLauncher(rig.process)
    with caplog.at_level(logging.INFO, logger="vscode_interactive"):
        prefetch = rig.prefetch()
        rig.launched()
        rig.process.exit(1)
        assert finished(prefetch) == "failed"
        assert prefetch.join() == "failed"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "exit code 1" in warnings[0] and "HTTP 503" in warnings[0]
    assert "installed again if the task fails" in warnings[0]
    assert not rig.logs[0].exists()


def test_a_failing_check_is_a_failure_logged_once(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """The check raising (a bad pin in the environment, say) fails the prefetch with one
    warning naming the error; nothing is started."""
    rig.check_error = ConfigError("VSCODE_INTERACTIVE_CODE_SERVER_SHA256='x' is not a pin")
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        assert finished(rig.prefetch()) == "failed"
    (record,) = caplog.records
    assert "ConfigError" in record.getMessage() and "not a pin" in record.getMessage()
    assert rig.launcher.launches == []


def test_a_child_that_cannot_start_is_a_failure(rig: Rig) -> None:
    """OSError from the launcher (no interpreter) fails the prefetch, saying so."""
    rig.launcher.error = FileNotFoundError("no such file: python")
    prefetch = rig.prefetch()
    assert finished(prefetch) == "failed"
    assert "cannot start python" in prefetch.detail


def test_join_gives_the_priorities_back_and_waits_for_the_child(rig: Rig) -> None:
    """The task failed: join gives the child's whole group back what ``lower_group``
    reported, then returns when the child is done."""
    prefetch = rig.prefetch()
    rig.launched()
    threading.Timer(0.05, rig.process.exit, args=(0,)).start()
    assert prefetch.join() == "installed"
    pid = rig.process.pid
    assert rig.priorities.calls == [
        ("lower_group", pid, None),
        ("restore_group", pid, PriorityLevels(nice=0, io=4)),
    ]


def test_join_during_the_head_start_installs_at_once_at_full_priority(rig: Rig) -> None:
    """A failure before the head start ends skips the rest of it, and the child is started
    without lowering anything (it inherits the session's priority)."""
    prefetch = rig.prefetch(head_start=3600)

    def child_finishes() -> None:
        rig.launched()
        rig.process.exit(0)

    threading.Thread(target=child_finishes).start()
    assert prefetch.join() == "installed"
    assert rig.priorities.calls == []


def test_where_priorities_cannot_change_join_restores_nothing(rig: Rig) -> None:
    """``lower_group`` answering None (not Linux, not allowed): nothing to restore later."""
    rig.priorities = FakePriorities(levels=None)
    prefetch = rig.prefetch()
    rig.launched()
    threading.Timer(0.05, rig.process.exit, args=(0,)).start()
    assert prefetch.join() == "installed"
    assert [call[0] for call in rig.priorities.calls] == ["lower_group"]


def test_cancel_after_the_end_changes_nothing(rig: Rig) -> None:
    """Cancelling a finished prefetch neither signals nor changes its outcome."""
    rig.present = True
    prefetch = rig.prefetch()
    assert finished(prefetch) == "present"
    prefetch.cancel()
    assert prefetch.outcome == "present"
    assert rig.process.signals == []


def test_child_argv_runs_this_package_from_where_it_lives(tmp_path: Path) -> None:
    """The child is ``python -c`` with our package's parent directory first on sys.path."""
    argv = child_argv("/usr/bin/python3", tmp_path)
    assert argv[:2] == ["/usr/bin/python3", "-c"]
    assert repr(str(tmp_path)) in argv[2]
    assert "vscode_interactive._install._prefetch_child" in argv[2]


def test_while_the_task_runs_the_child_is_looked_at_rarely_and_join_looks_at_once(
    rig: Rig,
) -> None:
    """The thread looks at the child only every ``look_every`` seconds (each look takes
    the job's GIL); a failure's join wakes it, so an install that ended is seen at once."""
    prefetch = rig.prefetch(look_every=3600)
    rig.launched()
    rig.process.exit(0)
    assert not prefetch._done.wait(0.2)  # not looked at yet
    assert prefetch.join() == "installed"
