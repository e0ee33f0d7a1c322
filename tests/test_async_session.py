"""``Session.arun`` on fakes: the flow in a worker thread, the coroutine in the caller's task.

The steps are :class:`tests.test_session.FakeSteps` (scripted supervision results); a
``before_outcome`` callback runs inside ``supervise``, in the worker thread, while the IDE
would be open: it is where these tests wait for the event loop to tick, for a cancellation
or for a forwarded signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import importlib
import signal
import sys
import textwrap
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeEnvironment, FakeInterrupts
from tests.test_session import FakeSteps, result
from tests.waiting import wait_until, wait_until_async
from vscode_interactive import IdleTimeoutError, ServerExitedError, Session, SessionConfig
from vscode_interactive._ports import Interrupts
from vscode_interactive._session._async import THREAD_NAME, run_async
from vscode_interactive._supervision._policy import Outcome
from vscode_interactive._supervision._seams import SupervisionResult, WhileStarting
from vscode_interactive._supervision._server import ServerOptions

DEADLINE = 30.0

CONTEXT = """
import contextvars

REQUEST = contextvars.ContextVar("REQUEST", default="none")
SEEN = []
"""

JOB = """
import asyncio

from vi_async_context import REQUEST, SEEN


async def divide(a, b):
    SEEN.append((REQUEST.get(), asyncio.current_task()))
    await asyncio.sleep(0)
    return a / b
"""


@dataclass
class ThreadSteps(FakeSteps):
    """FakeSteps that also record the interrupts and the thread of each ``supervise``."""

    interrupts: list[Interrupts | None] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def supervise(
        self,
        options: ServerOptions,
        *,
        failure_summary: str | None,
        interrupts: Interrupts | None = None,
        while_starting: WhileStarting | None = None,
    ) -> SupervisionResult:
        self.interrupts.append(interrupts)
        self.threads.append(threading.current_thread().name)
        return super().supervise(
            options,
            failure_summary=failure_summary,
            interrupts=interrupts,
            while_starting=while_starting,
        )

    def wait_for_interrupt(self, ready: threading.Event) -> list[int]:
        """In ``supervise``: subscribe like a supervisor, say so, wait for an interrupt."""
        port = self.interrupts[-1]
        assert port is not None
        received: list[int] = []
        got = threading.Event()

        def on_interrupt(signum: int) -> None:
            received.append(signum)
            got.set()

        unsubscribe = port.subscribe(on_interrupt)
        ready.set()
        try:
            assert got.wait(DEADLINE), "no interrupt reached the supervisor"
        finally:
            unsubscribe()
        return received

    def wait_for_subscription(self, subscribed: threading.Event) -> None:
        """In ``supervise``: subscribe like a supervisor, say so, wait for ``release``."""
        port = self.interrupts[-1]
        assert port is not None
        unsubscribe = port.subscribe(lambda signum: None)
        subscribed.set()
        try:
            assert self.release.wait(DEADLINE)
        finally:
            unsubscribe()


class RecordingSignals(FakeInterrupts):
    """FakeInterrupts that note the thread each subscription was made in."""

    def __init__(self) -> None:
        super().__init__()
        self.subscribed_in: list[str] = []

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        self.subscribed_in.append(threading.current_thread().name)
        return super().subscribe(callback)


@pytest.fixture
def job_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module ``vi_async_job`` with a failing ``async def divide`` tests fix on disk; it
    notes each call's context variable and task in ``vi_async_context`` (not re-imported)."""
    source = tmp_path / "src" / "vi_async_job.py"
    source.parent.mkdir()
    source.write_text(textwrap.dedent(JOB))
    (tmp_path / "src" / "vi_async_context.py").write_text(textwrap.dedent(CONTEXT))
    monkeypatch.syspath_prepend(str(source.parent))
    yield source
    sys.modules.pop("vi_async_job", None)
    sys.modules.pop("vi_async_context", None)


def load_divide() -> Callable[[float, float], Coroutine[Any, Any, float]]:
    fn: Callable[[float, float], Coroutine[Any, Any, float]] = importlib.import_module(
        "vi_async_job"
    ).divide
    return fn


def fix_divide(source: Path) -> None:
    source.write_text(
        source.read_text().replace("return a / b", "return a / b if b else float('inf')")
    )


def make_session(tmp_path: Path, steps: FakeSteps, **config: Any) -> Session:
    cfg = SessionConfig(workspace_dir=tmp_path / "ws", **config)
    return Session(cfg, _env=FakeEnvironment({}), _steps=steps)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Yield to the loop until ``condition()`` holds (deadline: DEADLINE seconds)."""
    await wait_until_async(condition, timeout=DEADLINE, what=what)


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def no_worker_left() -> bool:
    for thread in worker_threads():
        thread.join(DEADLINE)
    return not worker_threads()


def test_resume_awaits_the_edited_coroutine_in_the_callers_task(
    tmp_path: Path, job_module: Path
) -> None:
    """run_task_first fails inside the coroutine -> IDE (worker thread) -> source fixed ->
    the edited coroutine function is awaited in the caller's task -> its value returns."""
    steps = ThreadSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.before_outcome.append(lambda: fix_divide(job_module))
    session = make_session(tmp_path, steps, run_task_first=True)
    context = importlib.import_module("vi_async_context")
    request: contextvars.ContextVar[str] = context.REQUEST

    async def main() -> tuple[float, asyncio.Task[Any] | None]:
        request.set("job-7")
        value = await session.arun(load_divide(), 1, 0)
        return value, asyncio.current_task()

    value, task = asyncio.run(main())
    assert value == float("inf")
    assert steps.calls == ["install", "supervise", "post-mortem", "prepare", "close post-mortem"]
    assert steps.threads == [THREAD_NAME]
    assert steps.summaries == ["ZeroDivisionError: division by zero"]
    # Both calls, the original and the re-imported one, ran in the awaiting task, with its
    # context variables.
    seen = context.SEEN
    assert seen == [("job-7", task), ("job-7", task)]
    failure = steps.failures_shown[0]
    assert isinstance(failure, ZeroDivisionError)
    frame = failure.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    assert frame is not None and frame.tb_frame.f_code.co_name == "divide"
    assert frame.tb_frame.f_locals == {"a": 1, "b": 0}
    assert no_worker_left()


def test_the_event_loop_keeps_running_while_the_ide_is_open(
    tmp_path: Path, job_module: Path
) -> None:
    """Another task of the loop ticks while supervise blocks: supervise returns only after
    it has seen 50 ticks happen during the IDE phase."""
    ticks: list[int] = []
    during_ide: list[int] = []

    def ide_open() -> None:
        start = len(ticks)
        with contextlib.suppress(AssertionError):  # the count asserted below says it all
            wait_until(lambda: len(ticks) >= start + 50, timeout=DEADLINE, what="50 ticks")
        during_ide.append(len(ticks) - start)

    steps = ThreadSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.before_outcome.append(ide_open)
    session = make_session(tmp_path, steps)  # no run_task_first: straight to the IDE

    async def ticker() -> None:
        while True:
            ticks.append(len(ticks))
            await asyncio.sleep(0.001)

    async def main() -> float:
        ticking = asyncio.create_task(ticker())
        try:
            return await session.arun(load_divide(), 3, 1)
        finally:
            ticking.cancel()

    assert asyncio.run(main()) == 3.0
    assert during_ide and during_ide[0] >= 50


def test_cancelling_the_awaiting_task_stops_the_ide_and_runs_post_execute_once(
    tmp_path: Path, job_module: Path
) -> None:
    """Cancel while the IDE is open: the supervisor is interrupted (as by SIGTERM),
    post_execute runs once, the worker ends, and the task ends cancelled."""
    hooks: list[str] = []
    supervising = threading.Event()
    received: list[list[int]] = []
    steps = ThreadSteps(tmp_path, [result(Outcome.INTERRUPTED, signal=signal.SIGTERM)])
    steps.before_outcome.append(lambda: received.append(steps.wait_for_interrupt(supervising)))
    session = make_session(
        tmp_path,
        steps,
        run_task_first=True,
        pre_execute=lambda: hooks.append("pre"),
        post_execute=lambda: hooks.append(f"post in {threading.current_thread().name}"),
    )

    async def main() -> None:
        task = asyncio.create_task(
            run_async(session, load_divide(), (1, 0), {}, _signals=FakeInterrupts())
        )
        await until(supervising.is_set, "the supervision to start")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
        # What ran before CancelledError: the supervisor's interrupt and post_execute.
        assert received == [[signal.SIGTERM]]
        assert hooks == ["pre", f"post in {THREAD_NAME}"]

    asyncio.run(main())
    assert no_worker_left()


def test_cancelling_during_the_first_call_cancels_the_coroutine_and_opens_nothing(
    tmp_path: Path,
) -> None:
    """Cancelled while the function itself runs (run_task_first): the coroutine sees the
    CancelledError, no hook runs, nothing is installed, the task ends cancelled."""
    steps = ThreadSteps(tmp_path, [])
    hooks: list[str] = []
    session = make_session(
        tmp_path, steps, run_task_first=True, pre_execute=lambda: hooks.append("pre")
    )
    seen: list[str] = []

    async def main() -> None:
        running = asyncio.Event()

        async def forever() -> None:
            running.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                seen.append("cancelled inside the coroutine")
                raise

        task = asyncio.create_task(session.arun(forever))
        await asyncio.wait_for(running.wait(), DEADLINE)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert seen == ["cancelled inside the coroutine"]
    assert steps.calls == [] and hooks == []
    assert no_worker_left()


@pytest.mark.parametrize(
    ("signum", "expected"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit)]
)
def test_signals_are_handled_in_the_loop_thread_and_reach_the_ide(
    tmp_path: Path, job_module: Path, signum: int, expected: type[BaseException]
) -> None:
    """The loop's thread subscribes to SIGTERM/SIGINT for the supervisor in the worker; a
    signal ends the IDE as in the sync case (KeyboardInterrupt / SystemExit(128+n)), after
    post_execute; the handlers are removed afterwards."""
    hooks: list[str] = []
    supervising = threading.Event()
    signals = RecordingSignals()
    steps = ThreadSteps(tmp_path, [result(Outcome.INTERRUPTED, signal=signum)])
    steps.before_outcome.append(lambda: steps.wait_for_interrupt(supervising))
    session = make_session(tmp_path, steps, post_execute=lambda: hooks.append("post"))

    async def main() -> None:
        task = asyncio.create_task(run_async(session, load_divide(), (4, 2), {}, _signals=signals))
        await until(
            lambda: supervising.is_set() and bool(signals.callbacks),
            "the supervision to subscribe to signals",
        )
        signals.fire(signum)
        await task

    with pytest.raises(expected) as info:
        asyncio.run(main())
    if isinstance(info.value, SystemExit):
        assert info.value.code == 128 + signal.SIGTERM
    assert signals.subscribed_in == [threading.current_thread().name]  # the loop's thread
    assert signals.callbacks == []  # restored once the supervisor stopped
    assert hooks == ["post"]
    assert no_worker_left()


def test_idle_timeout_is_chained_to_the_failure_inside_the_coroutine(
    tmp_path: Path, job_module: Path
) -> None:
    """IDLE_TIMEOUT -> IdleTimeoutError raised in the caller's task, caused by the
    ZeroDivisionError raised inside the coroutine."""
    steps = ThreadSteps(tmp_path, [result(Outcome.IDLE_TIMEOUT, idle_seconds=61.0)])
    session = make_session(tmp_path, steps, run_task_first=True, max_idle_seconds=60)
    with pytest.raises(IdleTimeoutError) as info:
        asyncio.run(session.arun(load_divide(), 1, 0))
    cause = info.value.__cause__
    assert isinstance(cause, ZeroDivisionError)
    names = []
    tb = cause.__traceback__
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert names[-1] == "divide"
    assert no_worker_left()


def test_server_exit_raises_server_exited_error(tmp_path: Path, job_module: Path) -> None:
    """SERVER_EXITED (exit code 0) is an error for arun too, never a resume."""
    steps = ThreadSteps(tmp_path, [result(Outcome.SERVER_EXITED, exit_code=0)])
    with pytest.raises(ServerExitedError):
        asyncio.run(make_session(tmp_path, steps).arun(load_divide(), 1, 1))


def test_hooks_and_steps_run_in_the_order_of_the_sync_flow(
    tmp_path: Path, job_module: Path
) -> None:
    """pre_execute, install, prepare, supervise, post_execute: once each, as for run()."""
    order: list[str] = []
    steps = ThreadSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.calls = order
    session = make_session(
        tmp_path,
        steps,
        pre_execute=lambda: order.append("pre"),
        post_execute=lambda: order.append("post"),
    )
    assert asyncio.run(session.arun(load_divide(), 4, 2)) == 2.0
    assert order == ["pre", "install", "supervise", "prepare", "post"]


def test_a_resumed_coroutine_that_fails_again_opens_the_next_round(
    tmp_path: Path, job_module: Path
) -> None:
    """The rounds of the sync flow hold for arun: a resumed coroutine that raises again
    opens the IDE on the new failure (hooks around each round, its own post-mortem);
    ABORTED then raises that failure chained to the first, in the caller's task."""
    hooks: list[str] = []
    steps = ThreadSteps(tmp_path, [result(Outcome.RESUMED), result(Outcome.ABORTED)])
    steps.before_outcome.append(
        lambda: job_module.write_text(
            "async def divide(a, b):\n    return [a][b + 1]\n"  # IndexError now
        )
    )
    session = make_session(
        tmp_path,
        steps,
        run_task_first=True,
        pre_execute=lambda: hooks.append("pre"),
        post_execute=lambda: hooks.append("post"),
    )
    with pytest.raises(IndexError) as raised:
        asyncio.run(session.arun(load_divide(), 1, 0))
    assert isinstance(raised.value.__cause__, ZeroDivisionError)
    assert [type(f).__name__ for f in steps.failures_shown] == ["ZeroDivisionError", "IndexError"]
    assert [held.failure for held in steps.post_mortems] == steps.failures_shown
    assert all(held.closed for held in steps.post_mortems)
    assert hooks == ["pre", "post", "pre", "post"]
    assert steps.threads == [THREAD_NAME, THREAD_NAME]
    assert no_worker_left()


def test_disabled_session_awaits_the_function_without_a_thread(
    tmp_path: Path, job_module: Path
) -> None:
    """enable=False: arun is a plain await (no worker, no steps)."""
    steps = ThreadSteps(tmp_path, [])
    session = make_session(tmp_path, steps, enable=False)

    async def main() -> tuple[float, list[threading.Thread]]:
        value = await session.arun(load_divide(), 9, 3)
        return value, worker_threads()

    assert asyncio.run(main()) == (3.0, [])
    with pytest.raises(ZeroDivisionError):
        asyncio.run(session.arun(load_divide(), 1, 0))
    assert steps.calls == []


def test_run_refuses_a_coroutine_function_and_arun_a_plain_one(tmp_path: Path) -> None:
    """Each twin names the other when handed the wrong kind of function."""
    session = make_session(tmp_path, ThreadSteps(tmp_path, []))

    async def fetch() -> int:
        return 1

    def compute() -> int:
        return 1

    with pytest.raises(TypeError, match=r"coroutine function .*fetch.*await Session"):
        session.run(fetch)  # type: ignore[unused-coroutine]  # the point of the test
    with pytest.raises(TypeError, match=r"compute is a plain one; call it with Session.run"):
        asyncio.run(session.arun(compute))  # type: ignore[arg-type]


def test_generator_functions_are_refused_by_both_twins(tmp_path: Path) -> None:
    """A generator or async generator function is a TypeError saying what and where."""
    session = make_session(tmp_path, ThreadSteps(tmp_path, []))

    def numbers() -> Iterator[int]:
        yield 1

    async def stream() -> Any:
        yield 1

    with pytest.raises(TypeError, match=r"numbers \(.*test_async_session.py, line \d+\).*list"):
        session.run(numbers)
    with pytest.raises(TypeError, match=r"stream .*async generator function"):
        asyncio.run(session.arun(stream))


def test_an_edit_that_makes_the_function_sync_still_returns_its_value(
    tmp_path: Path, job_module: Path
) -> None:
    """The user turned ``async def`` into ``def`` while editing: its value is returned."""
    steps = ThreadSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.before_outcome.append(
        lambda: job_module.write_text("def divide(a, b):\n    return 'sync now'\n")
    )
    session = make_session(tmp_path, steps, run_task_first=True)
    fn: Callable[[float, float], Awaitable[object]] = load_divide()
    assert asyncio.run(session.arun(fn, 1, 0)) == "sync now"


def test_a_loop_outside_the_main_thread_runs_the_session_without_signal_handlers(
    tmp_path: Path, job_module: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop in another thread (flytekit runs async tasks so): the real signal port installs
    nothing there, says so, and the session resumes as usual."""
    steps = ThreadSteps(tmp_path, [result(Outcome.RESUMED)])
    subscribed = threading.Event()
    steps.before_outcome.append(lambda: steps.wait_for_subscription(subscribed))
    session = make_session(tmp_path, steps)
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    during: list[dict[int, object]] = []
    values: list[float] = []

    def in_thread() -> None:
        values.append(asyncio.run(session.arun(load_divide(), 6, 3)))

    with caplog.at_level("INFO", logger="vscode_interactive"):
        thread = threading.Thread(target=in_thread, name="job-loop")
        thread.start()
        assert subscribed.wait(DEADLINE)
        during.append({signum: signal.getsignal(signum) for signum in before})
        steps.release.set()
        thread.join(DEADLINE)
    assert values == [2.0]
    assert during == [before]
    assert "the event loop runs outside the main thread" in caplog.text


def test_in_the_main_thread_signal_handlers_live_as_long_as_the_supervisor(
    tmp_path: Path, job_module: Path
) -> None:
    """With the loop in the main thread, real SIGTERM/SIGINT handlers are installed while the
    supervisor is subscribed and the previous ones are back afterwards."""
    steps = ThreadSteps(tmp_path, [result(Outcome.RESUMED)])
    subscribed = threading.Event()
    steps.before_outcome.append(lambda: steps.wait_for_subscription(subscribed))
    session = make_session(tmp_path, steps)
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    during: list[dict[int, object]] = []

    async def main() -> float:
        task = asyncio.create_task(session.arun(load_divide(), 6, 3))
        await until(subscribed.is_set, "the subscription")
        during.append({signum: signal.getsignal(signum) for signum in before})
        steps.release.set()
        return await task

    assert asyncio.run(main()) == 2.0
    assert all(during[0][signum] is not before[signum] for signum in before)
    assert {signum: signal.getsignal(signum) for signum in before} == before
