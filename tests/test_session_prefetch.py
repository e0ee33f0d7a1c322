"""How a session composes the background install (``Session(_prefetch=...)``) on fakes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes import FakeEnvironment
from tests.test_session import FakeSteps, result
from vscode_interactive import ConfigError, IdleTimeoutError
from vscode_interactive._install._prefetch import BackgroundInstall, PrefetchOutcome
from vscode_interactive._ports import Environment
from vscode_interactive._session import Session, SessionConfig
from vscode_interactive._supervision._policy import Outcome


@dataclass
class Recorder:
    """A started background install that records what the session did with it, in the
    same list as the steps, so the order shows."""

    calls: list[str]

    def cancel(self) -> None:
        self.calls.append("cancel")

    def join(self) -> PrefetchOutcome:
        self.calls.append("join")
        return "installed"


@dataclass
class Starter:
    calls: list[str]
    configs: list[SessionConfig] = field(default_factory=list)

    def __call__(self, config: SessionConfig, env: Environment) -> BackgroundInstall:
        self.configs.append(config)
        self.calls.append("start")
        return Recorder(self.calls)


def session(tmp_path: Path, steps: FakeSteps, starter: Starter, **config: object) -> Session:
    cfg = SessionConfig(workspace_dir=tmp_path / "ws", **config)  # type: ignore[arg-type]
    return Session(cfg, _env=FakeEnvironment(), _steps=steps, _prefetch=starter)


def test_a_task_that_returns_cancels_the_prefetch_and_keeps_its_value(tmp_path: Path) -> None:
    """start -> the task returns -> cancel (never join); no IDE step; the value is returned."""
    steps = FakeSteps(tmp_path, [])
    starter = Starter(steps.calls)

    def task() -> int:
        steps.calls.append("task")
        return 42

    assert session(tmp_path, steps, starter, run_task_first=True).run(task) == 42
    assert steps.calls == ["start", "task", "cancel"]


def test_a_failed_task_joins_the_prefetch_before_the_install_step(tmp_path: Path) -> None:
    """start -> the task fails -> join, then the usual install and the IDE; no cancel."""
    steps = FakeSteps(tmp_path, [result(Outcome.IDLE_TIMEOUT)])
    starter = Starter(steps.calls)

    def task() -> int:
        steps.calls.append("task")
        raise ValueError("boom")

    with pytest.raises(IdleTimeoutError):
        session(tmp_path, steps, starter, run_task_first=True).run(task)
    assert steps.calls[:4] == ["start", "task", "join", "install"]
    assert "cancel" not in steps.calls and "supervise" in steps.calls


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
def test_a_task_interrupted_cancels_and_the_interruption_propagates(
    tmp_path: Path, error: type[BaseException]
) -> None:
    """KeyboardInterrupt / SystemExit from the task: cancel, then it propagates unchanged."""
    steps = FakeSteps(tmp_path, [])
    starter = Starter(steps.calls)
    raised = error()

    def task() -> int:
        raise raised

    with pytest.raises(error) as info:
        session(tmp_path, steps, starter, run_task_first=True).run(task)
    assert info.value is raised
    assert steps.calls == ["start", "cancel"]


def test_without_run_task_first_nothing_is_started(tmp_path: Path) -> None:
    """The install runs first anyway: the starter is not even asked."""
    steps = FakeSteps(tmp_path, [result(Outcome.IDLE_TIMEOUT)])
    starter = Starter(steps.calls)
    with pytest.raises(IdleTimeoutError):
        session(tmp_path, steps, starter).run(lambda: 1)
    assert steps.calls[0] == "install" and "start" not in steps.calls


def test_the_starter_gets_the_session_config(tmp_path: Path) -> None:
    """The prefetch is built from the session's own options (same cache, same sources)."""
    steps = FakeSteps(tmp_path, [])
    starter = Starter(steps.calls)
    session(tmp_path, steps, starter, run_task_first=True, cache_dir=tmp_path / "c").run(int)
    (config,) = starter.configs
    assert config.cache_dir == tmp_path / "c" and config.run_task_first


def test_with_fake_steps_and_no_starter_no_background_thread_runs(tmp_path: Path) -> None:
    """Tests that pass their own steps get no real prefetch unless they ask for one."""
    steps = FakeSteps(tmp_path, [])
    cfg = SessionConfig(workspace_dir=tmp_path / "ws", run_task_first=True)
    before = {thread.name for thread in threading.enumerate()}
    assert Session(cfg, _env=FakeEnvironment(), _steps=steps).run(lambda: 7) == 7
    assert "vscode-interactive-prefetch" not in before | {
        thread.name for thread in threading.enumerate()
    }


def test_a_prefetch_the_ide_phase_never_joined_is_cancelled(tmp_path: Path) -> None:
    """The task failed but the IDE phase ended before its install step (here: the workspace
    is claimed by another session): the prefetch is cancelled, not left running."""
    steps = FakeSteps(tmp_path, [])
    steps.refuse_claim = ConfigError("another session holds this workspace")
    starter = Starter(steps.calls)

    def task() -> int:
        raise ValueError("boom")

    with pytest.raises(ConfigError):
        session(tmp_path, steps, starter, run_task_first=True).run(task)
    assert steps.calls == ["start", "cancel"]
