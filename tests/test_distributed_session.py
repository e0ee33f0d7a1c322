"""Session.run in a multi-rank job, on fakes: threads as ranks, one in-memory store."""

from __future__ import annotations

import dataclasses
import logging
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeEnvironment, FakeStore
from tests.test_session import FakeSteps, result
from tests.waiting import wait_until
from vscode_interactive import IdleTimeoutError
from vscode_interactive._distributed._job import JobSeams
from vscode_interactive._distributed._ranks import RankInfo
from vscode_interactive._distributed._store import CoordinationStore
from vscode_interactive._reload._reimport import reload_function
from vscode_interactive._reload._target import target_of
from vscode_interactive._session import Session, SessionConfig
from vscode_interactive._supervision._policy import Outcome
from vscode_interactive._system._files import write_atomic
from vscode_interactive._system._os import SystemClock

DEADLINE = 30.0
NAMESPACE = "vscode_interactive/job-7"


def wait_for(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, timeout=DEADLINE, what=what, interval=0.01)


@pytest.fixture
def job_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module ``vi_dist_job`` whose ``step`` fails on the ranks in ``fail_on`` (and times
    out on the others) until it is fixed on disk."""
    source = tmp_path / "src" / "vi_dist_job.py"
    source.parent.mkdir()
    source.write_text(
        textwrap.dedent(
            """
            def step(rank, fail_on):
                if rank in fail_on:
                    raise ValueError(f"rank {rank} broke")
                if fail_on:  # a peer broke: the collective this rank waits in times out
                    raise RuntimeError("collective timed out")
                return rank * 10
            """
        )
    )
    monkeypatch.syspath_prepend(str(source.parent))
    yield source
    sys.modules.pop("vi_dist_job", None)


FIXED = "def step(rank, fail_on):\n    return rank * 10 + 1\n"


def step_function() -> Callable[[int, tuple[int, ...]], int]:
    import importlib

    fn: Callable[[int, tuple[int, ...]], int] = importlib.import_module("vi_dist_job").step
    return fn


class Job:
    """Ranks of one job: each a thread running its own Session over one shared store."""

    def __init__(
        self, tmp: Path, world_size: int, store: FakeStore | None = None, tie_window: float = 0.05
    ) -> None:
        self.tmp = tmp
        self.tie_window = tie_window
        self.world_size = world_size
        self.store = store if store is not None else FakeStore()
        self.rebuilds: list[tuple[int, str]] = []
        self.opened: list[int] = []
        self.pool = ThreadPoolExecutor(max_workers=world_size)
        self.hooks: list[str] = []

    def seams(self, rank: int) -> JobSeams:
        def open_store(info: RankInfo, spec: str | None) -> CoordinationStore | None:
            self.opened.append(info.rank)
            return self.store

        def rebuild(prefix: str) -> bool:
            self.rebuilds.append((rank, prefix))
            return True

        return JobSeams(
            open_store=open_store,
            rebuild=rebuild,
            reload=lambda fn: reload_function(target_of(fn), fn),
            write_page=lambda path, text: write_atomic(path, text),
            clock=SystemClock(),
            hostname=f"node-{rank}",
            pid=1000 + rank,
            watch_interval=0.02,
            tie_window=self.tie_window,
        )

    def session(self, rank: int, steps: FakeSteps, **config: Any) -> Session:
        env = {
            "VSCODE_INTERACTIVE_ENABLE": "1",
            "RANK": str(rank),
            "WORLD_SIZE": str(self.world_size),
            "VSCODE_INTERACTIVE_JOB_ID": "job-7",
        }
        options: dict[str, Any] = {"run_task_first": True, **config}
        cfg = SessionConfig(
            workspace_dir=self.tmp / "ws",
            post_execute=lambda: self.hooks.append(f"post {rank}"),
            **options,
        )
        return Session(cfg, _env=FakeEnvironment(env), _steps=steps, _job_seams=self.seams(rank))

    def start(self, rank: int, steps: FakeSteps, fail_on: tuple[int, ...]) -> Future[int]:
        session = self.session(rank, steps)
        return self.pool.submit(lambda: session.run(step_function(), rank, fail_on))

    def key(self, name: str) -> str:
        return f"{NAMESPACE}/{name}"

    def close(self) -> None:
        self.pool.shutdown(wait=True)


@pytest.fixture
def job2(tmp_path: Path) -> Iterator[Job]:
    job = Job(tmp_path, 2)
    yield job
    job.close()


def test_failing_rank_hosts_the_only_ide_and_both_resume(job2: Job, job_module: Path) -> None:
    """Rank 1 fails and hosts; rank 0 fails later and parks; the fix resumes both."""
    host_steps, parked_steps = (
        FakeSteps(job2.tmp, [result(Outcome.RESUMED)]),
        FakeSteps(job2.tmp, []),
    )
    page = job2.tmp / "ws" / ".vscode-interactive" / "DEBUGGING.md"

    def user_fixes_after_rank_0_parked() -> None:
        wait_for(lambda: job2.store.check([job2.key("r0/arrival/2")]), "rank 0 to park")
        wait_for(lambda: "RuntimeError: collective timed out" in page.read_text(), "table")
        job_module.write_text(FIXED)

    host_steps.before_outcome.append(user_fixes_after_rank_0_parked)
    host = job2.start(1, host_steps, fail_on=(1,))
    wait_for(lambda: job2.store.check([job2.key("r0/host")]), "a host")
    parked = job2.start(0, parked_steps, fail_on=(1,))
    assert host.result(DEADLINE) == 11
    assert parked.result(DEADLINE) == 1
    assert host_steps.calls == [
        "install",
        "supervise",
        "post-mortem",
        "prepare",
        "close post-mortem",
    ]
    assert parked_steps.calls == []
    assert host_steps.summaries == [
        "ValueError: rank 1 broke (rank 1 of 2 on node-1 hosts the IDE for the whole job)"
    ]
    assert sorted(job2.rebuilds) == [(0, f"{NAMESPACE}/r0/pg"), (1, f"{NAMESPACE}/r0/pg")]
    text = page.read_text()
    assert "| **1** (this IDE) | `node-1` | `ValueError: rank 1 broke` |" in text
    assert "| 0 | `node-0` | `RuntimeError: collective timed out` |" in text
    assert text.index("## Ranks") < text.index("## Next steps")
    assert sorted(job2.hooks) == ["post 0", "post 1"]


def test_ranks_failing_at_once_share_one_ide(job2: Job, job_module: Path) -> None:
    """Both ranks fail together: rank 0 hosts the one IDE, its page lists both."""
    job2.tie_window = DEADLINE  # "at once": within the window, however loaded the machine
    steps = [FakeSteps(job2.tmp, [result(Outcome.RESUMED)]) for _ in range(2)]
    for s in steps:
        s.before_outcome.append(lambda: job_module.write_text(FIXED))
    futures = [job2.start(rank, steps[rank], fail_on=(0, 1)) for rank in (1, 0)]
    assert [f.result(DEADLINE) for f in futures] == [11, 1]
    assert steps[1].calls == []
    assert steps[0].calls == [
        "install",
        "supervise",
        "post-mortem",
        "prepare",
        "close post-mortem",
    ]
    text = (job2.tmp / "ws" / ".vscode-interactive" / "DEBUGGING.md").read_text()
    assert "2 of 2 ranks stopped; rank 0 hosts this IDE" in text
    assert "`ValueError: rank 1 broke`" in text and "`ValueError: rank 0 broke`" in text


def test_idle_timeout_fails_every_rank_from_its_own_failure(job2: Job, job_module: Path) -> None:
    """The host's IDE goes idle: every rank raises IdleTimeoutError chained to its failure."""
    job2.tie_window = DEADLINE
    steps = [FakeSteps(job2.tmp, [result(Outcome.IDLE_TIMEOUT, idle_seconds=61.0)])] * 2
    futures = [job2.start(rank, steps[rank], fail_on=(0, 1)) for rank in (0, 1)]
    errors = []
    for future in futures:
        with pytest.raises(IdleTimeoutError) as info:
            future.result(DEADLINE)
        errors.append(info.value)
    assert [str(e.__cause__) for e in errors] == ["rank 0 broke", "rank 1 broke"]
    assert "was idle for 61 s" in str(errors[0])
    assert "rank 1 was parked while the IDE of rank 0 on node-0" in str(errors[1])
    assert "was stopped after nobody used it" in str(errors[1])
    assert job2.rebuilds == []


def test_a_resumed_call_that_fails_again_opens_the_next_round(job2: Job, job_module: Path) -> None:
    """Resume, still broken on rank 1: round 1 opens (rank 1 hosts again), then the fix."""
    host = FakeSteps(job2.tmp, [result(Outcome.RESUMED), result(Outcome.RESUMED)])
    finished = job2.key("finished")
    host.before_outcome += [
        lambda: wait_for(lambda: job2.store.check([finished]), "rank 0 to finish"),
        lambda: job_module.write_text(FIXED),
    ]
    futures = [job2.start(1, host, fail_on=(1,))]
    wait_for(lambda: job2.store.check([job2.key("r0/host")]), "a host")
    # Rank 0's call succeeds; it reports "finished", so no resume waits for it to park.
    futures.append(job2.start(0, FakeSteps(job2.tmp, []), fail_on=()))
    assert [f.result(DEADLINE) for f in futures] == [11, 0]
    # The distributed job runs its own rounds, each an IDE phase with its post-mortem.
    assert host.calls == [
        "install",
        "supervise",
        "post-mortem",
        "prepare",
        "close post-mortem",
        "supervise",
        "post-mortem",
        "prepare",
        "close post-mortem",
    ]
    assert job2.store.data[job2.key("finished")] == b"1"
    assert job2.store.data[job2.key("round")] == b"2"


def test_no_store_falls_back_to_a_single_process_session(
    tmp_path: Path, job_module: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without any store, a failing rank warns and opens its own IDE as before."""
    job = Job(tmp_path, 2)
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.before_outcome.append(lambda: job_module.write_text(FIXED))
    session = job.session(1, steps)
    session._job_seams = dataclasses.replace(job.seams(1), open_store=lambda info, spec: None)
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        assert session.run(step_function(), 1, (1,)) == 11
    assert "no store to coordinate the ranks through" in caplog.text
    assert steps.summaries == ["ValueError: rank 1 broke"]


def test_a_single_process_never_looks_for_a_store(tmp_path: Path, job_module: Path) -> None:
    """Without launcher variables, nothing distributed happens (no store is opened)."""
    job = Job(tmp_path, 2)
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.before_outcome.append(lambda: job_module.write_text(FIXED))
    cfg = SessionConfig(workspace_dir=tmp_path / "ws", run_task_first=True)
    session = Session(
        cfg,
        _env=FakeEnvironment({"VSCODE_INTERACTIVE_ENABLE": "1"}),
        _steps=steps,
        _job_seams=job.seams(0),
    )
    assert session.run(step_function(), 1, (1,)) == 11
    assert job.opened == [] and job.store.data == {}


def test_the_open_store_option_names_the_store(tmp_path: Path, job_module: Path) -> None:
    """coordination_store (else $VSCODE_INTERACTIVE_STORE) is what the store opener gets."""
    seen: list[str | None] = []
    store = FakeStore()
    job = Job(tmp_path, 1, store)

    def open_store(info: RankInfo, spec: str | None) -> CoordinationStore:
        seen.append(spec)
        return store

    seams = job.seams(0)
    env = {"VSCODE_INTERACTIVE_ENABLE": "1", "RANK": "0", "WORLD_SIZE": "2"}
    cases: list[tuple[str | None, dict[str, str]]] = [
        ("tcp://a:1", {}),
        (None, {"VSCODE_INTERACTIVE_STORE": "file:///s"}),
    ]
    for option, extra in cases:
        session = Session(
            SessionConfig(
                workspace_dir=tmp_path / "ws", run_task_first=True, coordination_store=option
            ),
            _env=FakeEnvironment({**env, **extra}),
            _steps=FakeSteps(tmp_path, []),
            _job_seams=dataclasses.replace(seams, open_store=open_store),
        )
        assert session.run(step_function(), 0, ()) == 0
    assert seen == ["tcp://a:1", "file:///s"]
    assert store.data == {"vscode_interactive/job/finished": b"2"}
    job.close()


def test_parked_ranks_log_who_holds_the_session(
    job2: Job, job_module: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A parked rank logs the host rank, its host, and the URL once the IDE answers."""
    announced = threading.Event()
    host = FakeSteps(job2.tmp, [result(Outcome.IDLE_TIMEOUT)])

    def announce_then_wait() -> None:
        job2.store.set(job2.key("r0/session"), b"http://127.0.0.1:9/?folder=x")
        assert announced.wait(DEADLINE)

    host.before_outcome.append(announce_then_wait)
    with caplog.at_level(logging.INFO, logger="vscode_interactive"):
        first = job2.start(0, host, fail_on=(0, 1))
        wait_for(lambda: job2.store.check([job2.key("r0/host")]), "a host")
        second = job2.start(1, FakeSteps(job2.tmp, []), fail_on=(0, 1))
        wait_for(lambda: "is at http://127.0.0.1:9/?folder=x" in caplog.text, "the URL log")
        announced.set()
        for future in (first, second):
            with pytest.raises(IdleTimeoutError):
                future.result(DEADLINE)
    assert "rank 1 on node-1 parked after ValueError: rank 1 broke: rank 0 on node-0" in (
        caplog.text
    )


def test_sessions_before_the_call_open_one_ide_on_rank_0(job2: Job, job_module: Path) -> None:
    """run_task_first=False: every rank stops before calling; rank 0 hosts, both then call."""
    job2.tie_window = DEADLINE
    steps = [FakeSteps(job2.tmp, [result(Outcome.RESUMED)]) for _ in range(2)]
    sessions = [job2.session(rank, steps[rank], run_task_first=False) for rank in (0, 1)]

    def call(rank: int) -> int:
        return sessions[rank].run(step_function(), rank, ())

    futures = [job2.pool.submit(call, rank) for rank in (0, 1)]
    assert [f.result(DEADLINE) for f in futures] == [0, 10]
    assert steps[0].calls == ["install", "supervise", "prepare"] and steps[1].calls == []
    assert steps[0].summaries == ["Rank 0 of 2 on node-0 hosts the IDE for the whole job"]
    assert sorted(job2.rebuilds) == [(0, f"{NAMESPACE}/r0/pg"), (1, f"{NAMESPACE}/r0/pg")]


def test_a_host_that_cannot_open_the_ide_ends_every_rank(job2: Job, job_module: Path) -> None:
    """The host's install fails: its error propagates, and the parked rank stops too."""

    class BrokenSteps(FakeSteps):
        def install(self, config: SessionConfig) -> Any:
            raise RuntimeError("no code-server for this machine")

    job2.tie_window = DEADLINE
    futures = [
        job2.start(0, BrokenSteps(job2.tmp, []), fail_on=(0, 1)),
        job2.start(1, FakeSteps(job2.tmp, []), fail_on=(0, 1)),
    ]
    with pytest.raises(RuntimeError, match="no code-server"):
        futures[0].result(DEADLINE)
    with pytest.raises(IdleTimeoutError, match="ended because the host rank failed") as info:
        futures[1].result(DEADLINE)
    assert str(info.value.__cause__) == "rank 1 broke"


def test_abort_ends_the_host_with_its_failure_and_parks_with_idle_errors(
    job2: Job, job_module: Path
) -> None:
    """'abort' on the host: it raises its own failure (as one process would); the parked
    rank raises IdleTimeoutError saying the session was aborted, from its own failure."""
    job2.tie_window = DEADLINE
    futures = [
        job2.start(0, FakeSteps(job2.tmp, [result(Outcome.ABORTED)]), fail_on=(0, 1)),
        job2.start(1, FakeSteps(job2.tmp, []), fail_on=(0, 1)),
    ]
    with pytest.raises(ValueError, match="rank 0 broke"):
        futures[0].result(DEADLINE)
    with pytest.raises(IdleTimeoutError, match="was aborted from the IDE") as info:
        futures[1].result(DEADLINE)
    assert str(info.value.__cause__) == "rank 1 broke"


def test_hooks_run_around_every_round_on_every_rank(job2: Job, job_module: Path) -> None:
    """pre_execute/post_execute run once around each round a rank takes part in."""
    host = FakeSteps(job2.tmp, [result(Outcome.RESUMED), result(Outcome.RESUMED)])
    host.before_outcome += [lambda: None, lambda: job_module.write_text(FIXED)]
    job2.tie_window = DEADLINE
    sessions = {
        rank: job2.session(
            rank,
            host if rank == 0 else FakeSteps(job2.tmp, []),
            pre_execute=lambda rank=rank: job2.hooks.append(f"pre {rank}"),
        )
        for rank in (0, 1)
    }
    futures = [job2.pool.submit(sessions[r].run, step_function(), r, (0, 1)) for r in (0, 1)]
    assert [f.result(DEADLINE) for f in futures] == [1, 11]
    for rank in (0, 1):
        assert [h for h in job2.hooks if h.endswith(str(rank))] == [
            f"pre {rank}",
            f"post {rank}",
        ] * 2
