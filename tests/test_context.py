"""Execution context stack: the reference's context-manager shape."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from vscode_interactive._context import ExecutionContext, ExecutionContextManager, runs_locally


@pytest.fixture(autouse=True)
def fresh_stack() -> Iterator[None]:
    ExecutionContextManager.initialize()
    yield
    ExecutionContextManager.initialize()


def test_default_context_is_remote() -> None:
    """With nothing pushed, execution is not local, so the IDE may open."""
    assert ExecutionContextManager.size() == 1
    assert not ExecutionContextManager.current_context().is_local_execution()


def test_with_context_pushes_and_pops() -> None:
    """Inside with_context the pushed context is current; after it the previous one is."""
    local = ExecutionContext(local_execution=True, name="local")
    with ExecutionContextManager.with_context(local) as ctx:
        assert ctx is local
        assert ExecutionContextManager.current_context() is local
        assert ExecutionContextManager.size() == 2
    assert ExecutionContextManager.size() == 1
    assert not ExecutionContextManager.current_context().local_execution


def test_with_context_pops_on_error() -> None:
    """An exception inside the block still restores the stack."""
    with pytest.raises(KeyError), ExecutionContextManager.with_context(ExecutionContext(True)):
        raise KeyError("x")
    assert ExecutionContextManager.size() == 1


def test_push_pop_and_root_protection() -> None:
    """push/pop work in LIFO order and the root context cannot be popped."""
    a, b = ExecutionContext(name="a"), ExecutionContext(name="b")
    ExecutionContextManager.push_context(a)
    ExecutionContextManager.push_context(b)
    assert ExecutionContextManager.pop_context() is b
    assert ExecutionContextManager.pop_context() is a
    with pytest.raises(IndexError, match="root"):
        ExecutionContextManager.pop_context()


def test_initialize_resets_to_given_root() -> None:
    """initialize() drops pushed contexts and installs the given root."""
    ExecutionContextManager.push_context(ExecutionContext(name="x"))
    root = ExecutionContextManager.initialize(ExecutionContext(local_execution=True))
    assert ExecutionContextManager.size() == 1
    assert ExecutionContextManager.current_context() is root


def test_context_is_visible_from_worker_threads() -> None:
    """A context set by the job runner applies to a function running in another thread."""
    seen: list[bool] = []
    with ExecutionContextManager.with_context(ExecutionContext(local_execution=True)):
        thread = threading.Thread(
            target=lambda: seen.append(ExecutionContextManager.current_context().local_execution)
        )
        thread.start()
        thread.join()
    assert seen == [True]


def test_context_counts_as_explicit_only_when_someone_set_it() -> None:
    """The default root is not a choice; a pushed context or a root given to initialize is."""
    assert not ExecutionContextManager.explicitly_set()
    with ExecutionContextManager.with_context(ExecutionContext(local_execution=True)):
        assert ExecutionContextManager.explicitly_set()
    assert not ExecutionContextManager.explicitly_set()
    ExecutionContextManager.initialize(ExecutionContext(name="job runner"))
    assert ExecutionContextManager.explicitly_set()
    ExecutionContextManager.initialize()
    assert not ExecutionContextManager.explicitly_set()


def test_runs_locally_follows_our_stack_without_flytekit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a job that never imported flytekit, our stack alone says local or remote."""
    monkeypatch.delitem(sys.modules, "flytekit", raising=False)
    assert not runs_locally()
    with ExecutionContextManager.with_context(ExecutionContext(local_execution=True)):
        assert runs_locally()
    assert "flytekit" not in sys.modules
