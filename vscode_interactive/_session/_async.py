"""``Session.arun``: the session's one flow in a worker thread, the user's coroutine in the
caller's task.

The flow (``Session._run_enabled``: run_task_first, pre_execute, install, workspace,
code-server, re-import on resume, post_execute) is synchronous and blocks for as long as
the IDE is open, so it runs in a worker thread named :data:`THREAD_NAME`. Whenever it calls
the user's function, the call is sent to the caller's task, which awaits it there (same
task, same context variables, same loop) and sends the outcome back::

    caller's task (event loop thread)           worker thread (vscode-interactive-session)
    arun(fn, *args) --- start ----------------> Session._run_enabled(call=Bridge.call)
      serve: wait for a message                   run_task_first: call(fn) --+ (blocks)
      <-- Call(fn, args, kwargs) --------------------------------------------+
      value = await fn(*args, **kwargs)
      --- its value or exception ------------->   failed: pre_execute, install, workspace,
      (the loop's other tasks keep running)       supervise code-server, re-import on resume,
      <-- Call(edited fn, args, kwargs) -------   post_execute, call(edited fn) (blocks)
      value = await edited fn(*args, **kwargs)
      --- its value or exception ------------->   returns it, or raises
      <-- Finished(value or exception) --------
      return value / raise exception

Signals: Python runs signal handlers only in the main thread, so a supervisor in the worker
cannot install its own. It subscribes to a :class:`LoopInterrupts` instead, which installs
SIGTERM/SIGINT handlers from the loop's thread (when that is the main thread) for as long as
the supervisor runs and restores the previous ones afterwards: a signal ends the IDE as in
the sync case (``SystemExit(128 + n)`` or ``KeyboardInterrupt``, raised in the caller's task).

Debuggers: while a debugger holds the failure (post-mortem, :mod:`vscode_interactive._debug`)
debugpy suspends every thread it traces. The loop's thread must keep running its other
tasks, so whenever the flow is not inside a call of the user's function, that thread carries
pydevd's ``pydev_do_not_trace`` flag (:class:`KeepRunning`; a flag someone else set is left
alone). Without debugpy loaded the flag means nothing.

Cancellation: when the awaiting task is cancelled, :meth:`LoopInterrupts.cancel` stops the
IDE as SIGTERM would, and calls the flow asks for afterwards are refused. The task then waits,
ignoring further cancellation, until the worker has finished (post_execute has run, no
process is left), and only then raises ``CancelledError``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .._ports import Interrupts
    from ._run import Session

__all__ = [
    "DO_NOT_TRACE",
    "THREAD_NAME",
    "Bridge",
    "KeepRunning",
    "LoopInterrupts",
    "TaskCancelled",
    "run_async",
]

#: The worker thread's name. The library's own threads all start with ``vscode-interactive``.
THREAD_NAME = "vscode-interactive-session"

#: The attribute that makes pydevd (debugpy) neither trace nor suspend a thread.
DO_NOT_TRACE = "pydev_do_not_trace"

#: How long the worker waits for the loop's thread to install signal handlers.
SUBSCRIBE_TIMEOUT = 5.0
#: How often a worker waiting for a call's outcome checks that the loop still exists.
_REPLY_POLL = 1.0

T = TypeVar("T")

logger = logging.getLogger("vscode_interactive")


class TaskCancelled(BaseException):
    """Unwinds the worker's flow after the awaiting task was cancelled.

    A ``BaseException``, so ``run_task_first``'s ``except Exception`` does not take it for
    the function's failure. It never reaches the caller: ``arun`` raises ``CancelledError``.
    """


@dataclass(eq=False)
class Call:
    """One call of the user's function, asked for by the worker, made by the caller's task."""

    fn: Callable[..., Any]
    args: tuple[object, ...]
    kwargs: Mapping[str, object]
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None

    def settle(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        self.done.set()


@dataclass(frozen=True, eq=False)
class Finished:
    """The worker's flow ended with ``value``, or raised ``error``."""

    value: Any = None
    error: BaseException | None = None


Message = Call | Finished


class Bridge:
    """The worker's side of the link to the caller's task: post messages, make calls."""

    def __init__(self, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[Message]) -> None:
        self._loop = loop
        self._inbox = inbox

    def post(self, message: Message) -> bool:
        """Hand ``message`` to the caller's task; False once the loop is closed."""
        try:
            self._loop.call_soon_threadsafe(self._inbox.put_nowait, message)
        except RuntimeError:  # the loop is closed: nobody waits for us any more
            return False
        return True

    def call(
        self, fn: Callable[..., Any], args: tuple[object, ...], kwargs: Mapping[str, object]
    ) -> Any:
        """The flow's call strategy: ``fn(*args, **kwargs)`` awaited in the caller's task;
        its value returned, its exception raised here (worker thread)."""
        request = Call(fn, args, kwargs)
        if not self.post(request):
            raise TaskCancelled
        while not request.done.wait(_REPLY_POLL):
            if self._loop.is_closed():
                raise TaskCancelled
        if request.error is not None:
            raise request.error
        return request.value


class LoopInterrupts:
    """:class:`~vscode_interactive._ports.Interrupts` for a supervisor in the worker thread.

    ``subscribe`` (worker thread) has ``signals.subscribe`` run in the loop's thread (real
    handlers when that is the main thread, nothing otherwise) and undoes it there on
    unsubscribe. :meth:`cancel` (loop thread) interrupts subscribed supervisors as SIGTERM
    would, and every supervisor that subscribes later, at once.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, signals: Interrupts | None = None) -> None:
        if signals is None:
            from .._system._os import SignalInterrupts

            signals = SignalInterrupts()
        self._loop = loop
        self._signals = signals
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[int], None]] = []
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)
            cancelled = self._cancelled
        if cancelled:
            callback(signal.SIGTERM)
        restore = self._in_loop_thread(lambda: self._install(callback))

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)
            if restore is not None:
                self._soon(restore)

        return unsubscribe

    def _install(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """In the loop's thread: subscribe ``callback`` to SIGTERM/SIGINT."""
        if threading.current_thread() is not threading.main_thread():
            logger.info(
                "SIGTERM/SIGINT cannot reach this IDE session: the event loop runs outside "
                "the main thread, and Python runs signal handlers only there; if the job is "
                "killed, its guardian still stops code-server"
            )
        return self._signals.subscribe(callback)

    def cancel(self) -> None:
        """Interrupt every supervisor subscribed now or later (the awaiting task was
        cancelled)."""
        with self._lock:
            self._cancelled = True
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback(signal.SIGTERM)

    def _soon(self, fn: Callable[[], object]) -> None:
        try:
            self._loop.call_soon_threadsafe(fn)
        except RuntimeError:  # loop closed: its thread installs nothing any more
            logger.debug("event loop closed; signal handlers are left as they are")

    def _in_loop_thread(self, fn: Callable[[], T]) -> T | None:
        """``fn()`` run in the loop's thread; ``None`` if the loop is closed or too busy."""
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not done.set_running_or_notify_cancel():
                return
            try:
                done.set_result(fn())
            except BaseException as error:
                done.set_exception(error)

        try:
            self._loop.call_soon_threadsafe(run)
        except RuntimeError:
            return None
        try:
            return done.result(timeout=SUBSCRIBE_TIMEOUT)
        except concurrent.futures.TimeoutError:
            if not done.cancel():  # it started meanwhile: take its result, to undo it later
                return done.result()
            logger.warning(
                "the event loop did not run a callback within %g s (does a task block it?); "
                "SIGTERM and SIGINT do not reach this IDE session",
                SUBSCRIBE_TIMEOUT,
            )
            return None


def _name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


class KeepRunning:
    """Marks a thread so a debugger holding a failure does not suspend it (see above)."""

    def __init__(self, thread: threading.Thread) -> None:
        self._thread = thread
        self._ours = not getattr(thread, DO_NOT_TRACE, False)

    def __enter__(self) -> KeepRunning:
        self.hold(True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.hold(False)

    def hold(self, on: bool) -> None:
        """Set (``on``) or clear the flag, unless someone else had set it."""
        if not self._ours:
            return
        if on:
            setattr(self._thread, DO_NOT_TRACE, True)
        else:
            with contextlib.suppress(AttributeError):
                delattr(self._thread, DO_NOT_TRACE)


def _work(
    session: Session,
    fn: Callable[..., Any],
    args: tuple[object, ...],
    kwargs: Mapping[str, object],
    bridge: Bridge,
    interrupts: LoopInterrupts,
) -> None:
    """The worker thread: the session's flow, its end posted to the caller's task."""
    try:
        value = session._run_enabled(fn, args, kwargs, call=bridge.call, interrupts=interrupts)
    except BaseException as error:
        bridge.post(Finished(error=error))
    else:
        bridge.post(Finished(value=value))


async def _call(call: Call) -> None:
    """Make ``call`` in this task and settle it with the value or exception."""
    try:
        result = call.fn(*call.args, **call.kwargs)
        # Awaitable unless the user turned the function into a plain one while editing.
        value = await result if inspect.isawaitable(result) else result
    except asyncio.CancelledError:
        call.settle(error=TaskCancelled())
        raise
    except BaseException as error:
        call.settle(error=error)
    else:
        call.settle(value=value)


async def _serve(inbox: asyncio.Queue[Message], interrupts: LoopInterrupts) -> Any:
    """The caller's side: make the worker's calls until it finishes; its end is ours."""
    with KeepRunning(threading.current_thread()) as loop_thread:
        return await _serve_until_finished(inbox, interrupts, loop_thread)


async def _serve_until_finished(
    inbox: asyncio.Queue[Message], interrupts: LoopInterrupts, loop_thread: KeepRunning
) -> Any:
    cancellation: asyncio.CancelledError | None = None
    while True:
        try:
            message = await inbox.get()
            if isinstance(message, Call):
                if cancellation is not None:
                    message.settle(error=TaskCancelled())
                    continue
                loop_thread.hold(False)  # the user's code: debuggable like any other
                try:
                    await _call(message)
                finally:
                    loop_thread.hold(True)
                continue
        except asyncio.CancelledError as error:
            if cancellation is None:
                cancellation = error
                logger.warning(
                    "the task awaiting the debugging session was cancelled: stopping the IDE; "
                    "CancelledError follows once the session has ended"
                )
                interrupts.cancel()
            continue
        if cancellation is not None:
            raise cancellation
        if message.error is not None:
            raise message.error
        return message.value


async def run_async(
    session: Session,
    fn: Callable[..., Awaitable[Any]],
    args: tuple[object, ...],
    kwargs: Mapping[str, object],
    *,
    _signals: Interrupts | None = None,
) -> Any:
    """``Session.arun``: see the module docstring. ``_signals`` (private, for tests)
    replaces the real SIGTERM/SIGINT handlers installed in the loop's thread."""
    from .._decorator import function_kind

    if function_kind(fn, "Session.arun()") != "async":  # refuses generator functions
        raise TypeError(
            f"Session.arun() needs an async def function, and {_name(fn)} is a plain one; "
            "call it with Session.run() instead, or wrap it in an async def"
        )
    if not session.enabled():
        return await fn(*args, **kwargs)
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    interrupts = LoopInterrupts(loop, _signals)
    worker = threading.Thread(
        target=contextvars.copy_context().run,
        args=(_work, session, fn, args, kwargs, Bridge(loop, inbox), interrupts),
        name=THREAD_NAME,
        daemon=True,
    )
    worker.start()
    return await _serve(inbox, interrupts)
