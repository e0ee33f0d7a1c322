"""``@vscode``: a thin decorator over :class:`~vscode_interactive._session.Session`.

Both spellings work and keep the function's name, docstring, signature and type::

    @vscode
    def train(epochs: int) -> float: ...

    @vscode(run_task_first=True, max_idle_seconds=3600)
    def train(epochs: int) -> float: ...

The decorated object is a :class:`VscodeTask`: calling it runs a session; it also keeps
the reference's ``ClassDecorator`` interface (``execute()``, ``get_extra_config()``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from ._compat import VSCODE_TYPE_VALUE
from ._session import Session, SessionConfig

if TYPE_CHECKING:
    from ._install._config import VscodeConfig
    from ._supervision._server import AuthMode

__all__ = ["ClassDecorator", "VscodeTask", "vscode"]

P = ParamSpec("P")
R = TypeVar("R")

#: Marks our wrappers; the debug entry script calls through them instead of nesting a session.
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
        super().__init__(task_function)
        self.session_config = config

    def execute(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return Session(self.session_config).run(self.task_function, *args, **kwargs)

    def get_extra_config(self) -> dict[str, str]:
        return {self.LINK_TYPE_KEY: VSCODE_TYPE_VALUE, self.PORT_KEY: str(self.session_config.port)}


@overload
def vscode(task_function: Callable[P, R], /) -> VscodeTask[P, R]: ...


@overload
def vscode(
    task_function: None = None,
    *,
    max_idle_seconds: float | None = None,
    port: int | None = None,
    enable: bool | None = None,
    run_task_first: bool | None = None,
    pre_execute: Callable[[], object] | None = None,
    post_execute: Callable[[], object] | None = None,
    config: VscodeConfig | None = None,
    host: str | None = None,
    auth: AuthMode | None = None,
    allow_unauthenticated: bool | None = None,
    workspace_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    start_timeout: float | None = None,
    max_lifetime_seconds: float | None = None,
    session_config: SessionConfig | None = None,
) -> Callable[[Callable[P, R]], VscodeTask[P, R]]: ...


def vscode(
    task_function: Callable[P, R] | None = None,
    *,
    max_idle_seconds: float | None = None,
    port: int | None = None,
    enable: bool | None = None,
    run_task_first: bool | None = None,
    pre_execute: Callable[[], object] | None = None,
    post_execute: Callable[[], object] | None = None,
    config: VscodeConfig | None = None,
    host: str | None = None,
    auth: AuthMode | None = None,
    allow_unauthenticated: bool | None = None,
    workspace_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    start_timeout: float | None = None,
    max_lifetime_seconds: float | None = None,
    session_config: SessionConfig | None = None,
) -> VscodeTask[P, R] | Callable[[Callable[P, R]], VscodeTask[P, R]]:
    """Open a browser VS Code (code-server) when the decorated function runs remotely.

    The reference's parameters: ``max_idle_seconds`` (default 10 hours), ``port``
    (8080), ``enable``, ``run_task_first`` (call the function first and open the IDE only
    if it raises), ``pre_execute``/``post_execute`` (called once before the IDE starts and
    once after it stops), ``config`` (a :class:`VscodeConfig`: code-server and extension
    sources). Session options: ``host``, ``auth``, ``allow_unauthenticated``,
    ``workspace_dir``, ``cache_dir``, ``start_timeout``, ``max_lifetime_seconds``, or a
    whole ``session_config`` that these override.
    """
    base = session_config if session_config is not None else SessionConfig()
    overrides: dict[str, Any] = {
        "max_idle_seconds": max_idle_seconds,
        "port": port,
        "enable": enable,
        "run_task_first": run_task_first,
        "pre_execute": pre_execute,
        "post_execute": post_execute,
        "vscode": config,
        "host": host,
        "auth": auth,
        "allow_unauthenticated": allow_unauthenticated,
        "workspace_dir": workspace_dir,
        "cache_dir": cache_dir,
        "start_timeout": start_timeout,
        "max_lifetime_seconds": max_lifetime_seconds,
    }
    from ._session import with_overrides

    resolved = with_overrides(base, **overrides)

    def decorate(fn: Callable[P, R]) -> VscodeTask[P, R]:
        return VscodeTask(fn, resolved)

    if task_function is not None:
        return decorate(task_function)
    return decorate
