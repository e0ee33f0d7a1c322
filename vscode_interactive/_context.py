"""Execution context: tells the decorator whether it runs locally or in a remote job.

A process-wide stack of :class:`ExecutionContext` with the reference's context-manager
shape (``current_context``, ``with_context``, ``push_context``, ``pop_context``,
``initialize``, ``size``). When the current context says *local execution*, ``@vscode``
just calls the function: nobody wants an IDE server started by a unit test or a laptop run.

:func:`runs_locally` is the question the session asks. A context someone set on this stack
answers it; otherwise, in a job that uses flytekit, flytekit's own execution state does (a
local ``pyflyte run`` or workflow call is local, a task running on a Flyte cluster is not);
otherwise the default context does (remote).

The stack is process-wide (not per thread) on purpose: a job runner sets the context once,
and the decorated function may then run in any worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["ExecutionContext", "ExecutionContextManager", "runs_locally"]


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """Where the code is running. ``local_execution=True`` disables the IDE."""

    local_execution: bool = False
    name: str = "remote"

    def is_local_execution(self) -> bool:
        return self.local_execution


_DEFAULT = ExecutionContext()


class ExecutionContextManager:
    """A stack of contexts; the top one is current. All methods are class-level."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _stack: ClassVar[list[ExecutionContext]] = [_DEFAULT]

    @classmethod
    def initialize(cls, root: ExecutionContext | None = None) -> ExecutionContext:
        """Reset the stack to a single ``root`` context (default: remote execution)."""
        with cls._lock:
            cls._stack = [root or _DEFAULT]
            return cls._stack[0]

    @classmethod
    def explicitly_set(cls) -> bool:
        """Whether a caller chose the context: one is pushed, or ``initialize`` got a root."""
        with cls._lock:
            return len(cls._stack) > 1 or cls._stack[0] is not _DEFAULT

    @classmethod
    def current_context(cls) -> ExecutionContext:
        with cls._lock:
            return cls._stack[-1]

    @classmethod
    def push_context(cls, context: ExecutionContext) -> ExecutionContext:
        with cls._lock:
            cls._stack.append(context)
            return context

    @classmethod
    def pop_context(cls) -> ExecutionContext:
        """Remove and return the top context; the root context is never popped."""
        with cls._lock:
            if len(cls._stack) == 1:
                raise IndexError("pop_context: only the root execution context is left")
            return cls._stack.pop()

    @classmethod
    def size(cls) -> int:
        with cls._lock:
            return len(cls._stack)

    @classmethod
    @contextmanager
    def with_context(cls, context: ExecutionContext) -> Iterator[ExecutionContext]:
        """Make ``context`` current inside the ``with`` block."""
        cls.push_context(context)
        try:
            yield context
        finally:
            cls.pop_context()


def runs_locally() -> bool:
    """Whether the current call is a local run (``@vscode`` then just calls the function).

    Our own stack wins when a context was set on it; else flytekit's execution state, when
    the job uses flytekit and a flytekit execution is under way; else the default context.
    """
    if not ExecutionContextManager.explicitly_set():
        from ._compat._flytekit import flytekit_local_execution

        flytekit_says = flytekit_local_execution()
        if flytekit_says is not None:
            return flytekit_says
    return ExecutionContextManager.current_context().is_local_execution()
