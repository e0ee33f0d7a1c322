"""``@vscode``: a thin decorator over :class:`~vscode_interactive._session.Session`.

Both spellings work and keep the function's name, docstring, signature and type::

    @vscode
    def train(epochs: int) -> float: ...

    @vscode(run_task_first=True, max_idle_seconds=3600)
    def train(epochs: int) -> float: ...

The decorated object is a :class:`VscodeTask`: calling it runs a session; it also keeps
the reference's ``ClassDecorator`` interface (``execute()``, ``get_extra_config()``). An
``async def`` function becomes an :class:`AsyncVscodeTask` (a ``VscodeTask`` whose call
returns a coroutine: ``await Session(...).arun(...)``); generator and async generator
functions are refused with ``TypeError`` when decorated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypedDict, TypeVar, overload

from ._compat import VSCODE_TYPE_VALUE

if TYPE_CHECKING:
    from pathlib import Path

    # Unpack is needed by the type checker only: the package does not pay its import.
    from typing_extensions import Unpack

    from ._install._config import VscodeConfig
    from ._session import SessionConfig
    from ._supervision._defaults import AuthMode

__all__ = [
    "OPTION_FIELDS",
    "WRAPPER_ATTRIBUTE",
    "AsyncVscodeTask",
    "ClassDecorator",
    "VscodeOptions",
    "VscodeTask",
    "function_kind",
    "resolve_options",
    "vscode",
]

P = ParamSpec("P")
R = TypeVar("R")

#: Marks our wrappers: the generated debug entry script (``_workspace._scripts``) calls what
#: they wrap, so debugging the function does not start a second session.
WRAPPER_ATTRIBUTE = "__vscode_interactive_wrapper__"


class ClassDecorator(Generic[P, R]):
    """A decorator object that wraps one function and runs it through :meth:`execute`.

    Subclasses implement :meth:`execute` and may extend :meth:`get_extra_config`, the
    key/value pairs a task runner shows next to the job (for example a link to the IDE).
    """

    LINK_TYPE_KEY = "link_type"
    PORT_KEY = "port"

    # Set by functools.update_wrapper from the wrapped function.
    __name__: str
    __qualname__: str
    __wrapped__: Callable[P, R]

    def __init__(self, task_function: Callable[P, R]) -> None:
        self.task_function = task_function
        functools.update_wrapper(self, task_function)
        setattr(self, WRAPPER_ATTRIBUTE, True)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.execute(*args, **kwargs)

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        """Bind like a function when decorating a method."""
        if instance is None:
            return self
        return functools.partial(self.execute, instance)  # type: ignore[arg-type]

    def execute(self, *args: P.args, **kwargs: P.kwargs) -> R:
        raise NotImplementedError(f"{type(self).__name__} must implement execute()")

    def get_extra_config(self) -> dict[str, str]:
        return {}


class VscodeTask(ClassDecorator[P, R]):
    """A function that opens a VS Code debugging session when called (see ``vscode``)."""

    def __init__(self, task_function: Callable[P, R], config: SessionConfig) -> None:
        kind = function_kind(task_function, "@vscode")  # refuses generator functions
        if kind == "async" and not isinstance(self, AsyncVscodeTask):
            raise TypeError(
                f"VscodeTask wraps plain functions and {_name(task_function)} is a coroutine "
                "function: decorate it with @vscode, which makes an AsyncVscodeTask of it"
            )
        super().__init__(task_function)
        self.session_config = config
        # In a Flyte job, flytekit must see a ClassDecorator to put the console link into
        # the task template (nothing happens, and flytekit stays unimported, otherwise).
        from ._compat._flytekit import recognise_as_class_decorator

        recognise_as_class_decorator(type(self))

    def execute(self, *args: P.args, **kwargs: P.kwargs) -> R:
        from ._session import Session

        return Session(self.session_config).run(self.task_function, *args, **kwargs)

    def get_extra_config(self) -> dict[str, str]:
        return {self.LINK_TYPE_KEY: VSCODE_TYPE_VALUE, self.PORT_KEY: str(self.session_config.port)}


class AsyncVscodeTask(
    VscodeTask[P, Coroutine[Any, Any, R]], functools.partial[Coroutine[Any, Any, R]]
):
    """An ``async def`` function that opens a debugging session when awaited.

    Calling it returns a coroutine running ``await Session(config).arun(fn, ...)``: the
    function is awaited in the caller's task, the IDE phase runs in a worker thread (see
    :mod:`vscode_interactive._session._async`). ``inspect.iscoroutinefunction`` is true for
    it on every supported Python, and task runners check it (flytekit runs such a task as
    an async task). Before Python 3.12 that check recognises only functions, methods and
    ``functools.partial`` objects around them, so this class is also a ``partial`` of its own
    :meth:`execute`; calls still go through :meth:`ClassDecorator.__call__`, which comes
    first in the method resolution order.
    """

    def __new__(
        cls, task_function: Callable[P, Coroutine[Any, Any, R]], config: SessionConfig
    ) -> AsyncVscodeTask[P, R]:
        task: AsyncVscodeTask[P, R] = functools.partial.__new__(cls, cls.execute)
        return task

    async def execute(self, *args: P.args, **kwargs: P.kwargs) -> R:
        from ._session import Session

        return await Session(self.session_config).arun(self.task_function, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__module__}.{self.__qualname__}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # partial's own would rebuild it from execute alone.
        return (type(self), (self.task_function, self.session_config))


def _name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def function_kind(fn: Callable[..., object], where: str) -> Literal["sync", "async"]:
    """``"async"`` for a coroutine function, ``"sync"`` for any other callable.

    Generator and async generator functions raise ``TypeError``: a session runs one call to
    its end, but a generator's body runs later, item by item, outside the session.
    """
    import inspect

    if inspect.isasyncgenfunction(fn):
        kind, made, remedy = (
            "an async generator function",
            "an async generator",
            "an async def function that collects it (`return [x async for x in gen(...)]`)",
        )
    elif inspect.isgeneratorfunction(fn):
        kind, made, remedy = (
            "a generator function",
            "a generator",
            "a function that consumes it (e.g. `return list(gen(...))`)",
        )
    else:
        return "async" if _is_coroutine_function(fn) else "sync"
    try:
        code = getattr(inspect.unwrap(fn), "__code__", None)
    except ValueError:  # a __wrapped__ cycle
        code = None
    at = f" ({code.co_filename}, line {code.co_firstlineno})" if code is not None else ""
    raise TypeError(
        f"{where} cannot debug {_name(fn)}{at}: it is {kind}, so calling it only creates "
        f"{made} whose body runs later, item by item, outside the session. "
        f"Decorate (or run) {remedy} instead"
    )


def _is_coroutine_function(fn: Callable[..., object]) -> bool:
    """``async def`` functions (also behind ``functools.partial`` or a method), and objects
    whose ``__call__`` is one."""
    import inspect

    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - not callable(): its __call__'s kind
    )


class VscodeOptions(TypedDict, total=False):
    """The keyword options of :func:`vscode`, declared once.

    Each names the :class:`SessionConfig` field of the same name (``config`` fills
    ``SessionConfig.vscode``); ``session_config`` is the base they override. ``None`` (or
    leaving an option out) keeps the base's value.
    """

    max_idle_seconds: float | None
    port: int | None
    enable: bool | None
    run_task_first: bool | None
    pre_execute: Callable[[], object] | None
    post_execute: Callable[[], object] | None
    config: VscodeConfig | None
    host: str | None
    auth: AuthMode | None
    allow_unauthenticated: bool | None
    workspace_dir: Path | str | None
    cache_dir: Path | str | None
    start_timeout: float | None
    max_lifetime_seconds: float | None
    coordination_store: str | None
    save_to: str | None
    save_inputs: bool | None
    prefetch: bool | None
    session_config: SessionConfig | None


#: Option name -> the SessionConfig field it sets (all but ``session_config``).
OPTION_FIELDS: dict[str, str] = {
    name: "vscode" if name == "config" else name
    for name in VscodeOptions.__annotations__
    if name != "session_config"
}


def resolve_options(options: VscodeOptions) -> SessionConfig:
    """The :class:`SessionConfig` that ``vscode(**options)`` runs with.

    Raises ``TypeError`` for an unknown option, as a keyword parameter would.
    """
    unknown = sorted(set(options) - set(VscodeOptions.__annotations__))
    if unknown:
        raise TypeError(f"vscode() got an unexpected keyword argument {unknown[0]!r}")
    # Deferred to decoration time: importing ``vscode`` costs no dataclasses machinery.
    from dataclasses import replace

    from ._session import SessionConfig

    base = options.get("session_config") or SessionConfig()
    changes: dict[str, Any] = {
        OPTION_FIELDS[name]: value
        for name, value in options.items()
        if name != "session_config" and value is not None
    }
    return replace(base, **changes)


@overload
def vscode(task_function: Callable[P, Coroutine[Any, Any, R]], /) -> AsyncVscodeTask[P, R]: ...


@overload
def vscode(task_function: Callable[P, R], /) -> VscodeTask[P, R]: ...


@overload
def vscode(
    task_function: None = None, /, **options: Unpack[VscodeOptions]
) -> Callable[[Callable[P, R]], VscodeTask[P, R]]: ...


def vscode(
    task_function: Callable[P, R] | None = None, **options: Unpack[VscodeOptions]
) -> VscodeTask[P, R] | Callable[[Callable[P, R]], VscodeTask[P, R]]:
    """Open a browser VS Code (code-server) when the decorated function runs remotely.

    The reference's parameters: ``max_idle_seconds`` (default 10 hours), ``port``
    (8080), ``enable``, ``run_task_first`` (call the function first and open the IDE only
    if it raises), ``pre_execute``/``post_execute`` (called once before the IDE starts and
    once after it stops), ``config`` (a :class:`VscodeConfig`: code-server and extension
    sources). Session options: ``host``, ``auth``, ``allow_unauthenticated``,
    ``workspace_dir``, ``cache_dir``, ``start_timeout``, ``max_lifetime_seconds``,
    ``coordination_store`` (multi-process jobs: where the ranks agree), ``save_to`` (an
    fsspec URL that receives the patch of the session's edits, the front page and the
    traceback), ``save_inputs`` (the captured inputs too), ``prefetch`` (install
    code-server in the background while a ``run_task_first`` function runs; on by default
    with it), or a whole
    ``session_config`` that these override (:class:`VscodeOptions` declares them).

    An ``async def`` function becomes an :class:`AsyncVscodeTask` (await it; the IDE phase
    does not block the event loop); a generator function raises ``TypeError``.
    """
    resolved = resolve_options(options)

    def decorate(fn: Callable[P, R]) -> VscodeTask[P, R]:
        if function_kind(fn, "@vscode") == "async":
            task: VscodeTask[P, Any] = AsyncVscodeTask(fn, resolved)  # type: ignore[arg-type]
            return task
        return VscodeTask(fn, resolved)

    if task_function is not None:
        return decorate(task_function)
    return decorate
