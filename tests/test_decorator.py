"""``@vscode``: both spellings, metadata kept, reference interface, thin over Session."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import inspect
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from vscode_interactive import (
    AsyncVscodeTask,
    ClassDecorator,
    ExecutionContext,
    ExecutionContextManager,
    SessionConfig,
    VscodeConfig,
    VscodeOptions,
    VscodeTask,
    vscode,
)
from vscode_interactive._decorator import OPTION_FIELDS, WRAPPER_ATTRIBUTE


def add(x: int, y: int = 2) -> int:
    """Add two numbers."""
    return x + y


def test_bare_decorator_keeps_name_doc_signature() -> None:
    """@vscode keeps __name__, __doc__, __wrapped__ and the signature."""
    task = vscode(add)
    assert isinstance(task, VscodeTask)
    assert task.__name__ == "add"
    assert task.__doc__ == "Add two numbers."
    assert task.__wrapped__ is add
    assert str(inspect.signature(task)) == str(inspect.signature(add))
    assert getattr(task, WRAPPER_ATTRIBUTE) is True


def test_called_decorator_applies_reference_parameters(tmp_path: Path) -> None:
    """@vscode(...) accepts the reference's parameters and the session options."""
    hooks: list[str] = []
    cfg = VscodeConfig(extension_remote_paths=[])
    task = vscode(
        max_idle_seconds=120,
        port=9000,
        enable=False,
        run_task_first=True,
        pre_execute=lambda: hooks.append("pre"),
        post_execute=lambda: hooks.append("post"),
        config=cfg,
        host="0.0.0.0",
        auth="password",
        workspace_dir=tmp_path,
        cache_dir=tmp_path / "cache",
        start_timeout=5,
    )(add)
    config = task.session_config
    assert (config.max_idle_seconds, config.port, config.enable) == (120, 9000, False)
    assert config.run_task_first and config.vscode is cfg
    assert (config.host, config.auth, config.workspace_dir) == ("0.0.0.0", "password", tmp_path)
    assert config.start_timeout == 5
    assert config.cache_dir == tmp_path / "cache"


def test_session_config_is_the_base_for_overrides() -> None:
    """Explicit keyword arguments override a given session_config; others are kept."""
    base = SessionConfig(port=7000, max_idle_seconds=5, check_interval=1.0)
    task = vscode(session_config=base, port=7100)(add)
    assert task.session_config.port == 7100
    assert task.session_config.max_idle_seconds == 5
    assert task.session_config.check_interval == 1.0


def test_get_extra_config_names_link_type_and_port() -> None:
    """get_extra_config() is what a task runner shows: link type and port as strings."""
    assert vscode(port=8123)(add).get_extra_config() == {"link_type": "vscode", "port": "8123"}
    assert vscode(add).get_extra_config() == {"link_type": "vscode", "port": "8080"}


def test_disabled_decorator_is_a_plain_call() -> None:
    """enable=False: calling the task calls the function (no server, no files)."""
    task = vscode(enable=False)(add)
    assert task(1) == 3
    assert task(1, y=5) == 6
    assert task.execute(2, 2) == 4


def test_local_execution_context_calls_function_directly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a local execution context even an enabled task just runs the function."""
    monkeypatch.delenv("VSCODE_INTERACTIVE_ENABLE", raising=False)
    task = vscode(add)
    with ExecutionContextManager.with_context(ExecutionContext(local_execution=True)):
        assert task(40) == 42


def test_environment_switch_disables_without_code_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """VSCODE_INTERACTIVE_ENABLE=0 turns an enabled task into a plain call."""
    monkeypatch.setenv("VSCODE_INTERACTIVE_ENABLE", "0")
    assert vscode(add)(1, 1) == 2


def test_methods_bind_like_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decorated method receives its instance."""
    monkeypatch.setenv("VSCODE_INTERACTIVE_ENABLE", "0")

    class Job:
        factor = 3

        @vscode
        def run(self, x: int) -> int:
            return x * self.factor

    assert Job().run(2) == 6
    assert isinstance(Job.__dict__["run"], VscodeTask)


def test_class_decorator_base_requires_execute() -> None:
    """The base class names what a subclass must implement."""
    with pytest.raises(NotImplementedError, match="execute"):
        ClassDecorator(add)(1)
    assert ClassDecorator(add).get_extra_config() == {}


def test_options_are_declared_once_and_agree_with_session_config() -> None:
    """Every @vscode option but session_config names a SessionConfig field (config ->
    vscode); the SessionConfig fields without an option are exactly the session-only ones."""
    options = set(VscodeOptions.__annotations__)
    assert len(options) == 19
    assert set(OPTION_FIELDS) == options - {"session_config"}
    fields = {field.name for field in dataclasses.fields(SessionConfig)}
    assert set(OPTION_FIELDS.values()) <= fields
    assert fields - set(OPTION_FIELDS.values()) == {"check_interval", "grace_seconds"}
    assert OPTION_FIELDS["config"] == "vscode"


def test_options_override_session_config_and_none_keeps_its_value(tmp_path: Path) -> None:
    """Given options replace the base's fields; None (or leaving one out) keeps the base's."""
    base = SessionConfig(port=9000, host="localhost", check_interval=1.0, workspace_dir=tmp_path)
    config = VscodeConfig(code_server_path="/opt/code-server/bin/code-server")
    task = vscode(session_config=base, port=0, host=None, config=config)(add)
    assert task.session_config == dataclasses.replace(base, port=0, vscode=config)
    assert vscode(add).session_config == SessionConfig()


def test_an_unknown_option_is_a_type_error_naming_it() -> None:
    """A misspelt option fails at decoration, like an unknown keyword argument."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'prot'"):
        vscode(prot=8080)  # type: ignore[call-overload]  # the point of the test


async def fetch(url: str, retries: int = 3) -> str:
    """Fetch a page."""
    return f"{url} after {retries}"


def test_an_async_function_becomes_a_coroutine_function_task() -> None:
    """@vscode on ``async def`` (both spellings): an AsyncVscodeTask that is a coroutine
    function for ``inspect`` and keeps name, doc, signature, marker and the task interface."""
    for task in (vscode(fetch), vscode(port=0)(fetch)):
        assert type(task) is AsyncVscodeTask
        assert isinstance(task, VscodeTask)  # a VscodeTask whose call returns a coroutine
        assert inspect.iscoroutinefunction(task)
        assert task.__name__ == "fetch" and task.__doc__ == "Fetch a page."
        assert task.__wrapped__ is fetch and task.task_function is fetch
        assert str(inspect.signature(task)) == str(inspect.signature(fetch))
        assert getattr(task, WRAPPER_ATTRIBUTE) is True
        assert repr(task) == f"<AsyncVscodeTask {__name__}.fetch>"
    assert vscode(port=8123)(fetch).get_extra_config() == {"link_type": "vscode", "port": "8123"}


def test_a_disabled_async_task_is_awaited_like_the_function() -> None:
    """enable=False: calling returns a coroutine; awaiting it returns the function's value."""
    task = vscode(enable=False)(fetch)
    assert asyncio.run(task("u")) == "u after 3"
    assert asyncio.run(task.execute("u", retries=1)) == "u after 1"


def test_async_methods_bind_like_coroutine_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decorated ``async def`` method receives its instance and is a coroutine function."""
    monkeypatch.setenv("VSCODE_INTERACTIVE_ENABLE", "0")

    class Job:
        factor = 3

        @vscode
        async def run(self, x: int) -> int:
            return x * self.factor

    assert inspect.iscoroutinefunction(Job().run)
    assert asyncio.run(Job().run(2)) == 6
    assert isinstance(Job.__dict__["run"], AsyncVscodeTask)


def test_an_async_task_copies_with_its_function_and_config() -> None:
    """copy/pickle protocol: rebuilt from the task function and the session config."""
    task = vscode(port=9001)(fetch)
    clone = copy.copy(task)
    assert isinstance(clone, AsyncVscodeTask)
    assert clone.task_function is fetch and clone.session_config == task.session_config


def numbers(n: int) -> Iterator[int]:
    yield from range(n)


async def stream(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


@pytest.mark.parametrize(
    ("fn", "kind", "remedy"),
    [
        (numbers, "a generator function", r"list\(gen"),
        (stream, "an async generator function", r"async for x in gen"),
    ],
)
def test_generator_functions_are_refused_at_decoration(
    fn: Callable[..., object], kind: str, remedy: str
) -> None:
    """A generator or async generator function is a TypeError when decorated (both
    spellings): what it is, where it is defined, what to decorate instead."""
    line = fn.__code__.co_firstlineno
    where = rf"{fn.__name__} \({re.escape(__file__)}, line {line}\): it is {kind}"
    with pytest.raises(TypeError, match=rf"@vscode cannot debug {where}.*{remedy}"):
        vscode(fn)
    with pytest.raises(TypeError, match=where):
        vscode(port=0)(fn)


def test_vscode_task_refuses_a_coroutine_function() -> None:
    """VscodeTask built directly around ``async def`` says to use @vscode (AsyncVscodeTask)."""
    with pytest.raises(TypeError, match=r"fetch is a coroutine function.*@vscode"):
        VscodeTask(fetch, SessionConfig())
