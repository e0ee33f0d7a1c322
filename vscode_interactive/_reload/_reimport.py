"""Resume reload: find a function again after the user edited its source file.

Before the IDE opens, the session records *where* the function came from as a
:class:`~vscode_interactive._reload._target.CallTarget` (module, qualified name, source file; the
same description the debug entry script uses). On resume, :func:`reload_function`
imports that source again, so the edits count, looks the function up by its qualified
name, and peels off decorators (ours included: calling the decorated version would open
another IDE) by following ``__wrapped__`` chains.

Three homes are handled:

* a module of an installed package or a sibling module: re-executed in place with
  :func:`importlib.reload`, so relative imports and other modules' references keep working;
* a script that was run as ``__main__``: its file is executed as a fresh module named
  :data:`~vscode_interactive._reload._target.MAIN_ALIAS`, so its ``if __name__ == "__main__":``
  block does not run again;
* a nested function (``<locals>`` in its qualified name) cannot be found again by name:
  the original object is returned and a warning says the edits were not picked up.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .._errors import ReloadError
from ._target import MAIN_ALIAS, CallTarget, load_module_from_path

__all__ = ["reload_function", "unwrap_function"]

logger = logging.getLogger("vscode_interactive")


def unwrap_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Follow ``__wrapped__`` through our decorator and any ``functools.wraps`` layers."""
    unwrapped: Callable[..., Any] = inspect.unwrap(fn)
    return unwrapped


def _reload_error(error: BaseException, path: Path) -> ReloadError:
    if isinstance(error, ReloadError):
        return error
    if isinstance(error, SyntaxError):
        where = error.filename or str(path)
        return ReloadError(
            f"{where}, line {error.lineno}: {type(error).__name__}: {error.msg}; fix the file "
            "in the IDE and resume again",
            source_path=where,
            line=error.lineno,
        )
    line = None
    tb = error.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return ReloadError(
        f"{path}{f', line {line}' if line else ''}: importing the edited file raised "
        f"{type(error).__name__}: {error}; fix the file in the IDE and resume again",
        source_path=str(path),
        line=line,
    )


def _drop_bytecode(source: Path) -> None:
    """Delete the cached ``.pyc`` of ``source``.

    Bytecode is validated by the source's mtime in whole seconds and its size, so an edit
    that keeps the size (``1`` -> ``2``) within the same second would otherwise be ignored.
    """
    try:
        cached = Path(importlib.util.cache_from_source(str(source)))
    except (NotImplementedError, ValueError):
        return
    cached.unlink(missing_ok=True)


def _import_again(target: CallTarget) -> ModuleType:
    source = Path(target.source) if target.source else Path(target.module)
    if target.module == MAIN_ALIAS and target.source is None:
        raise ReloadError(
            "the function was defined in an interactive __main__ with no source file; "
            "define it in a .py file to resume with edits"
        )
    if target.module != MAIN_ALIAS:
        if target.source:
            _drop_bytecode(source)
        if target.import_root and target.import_root not in sys.path:
            sys.path.insert(0, target.import_root)
        importlib.invalidate_caches()
    try:
        if target.module == MAIN_ALIAS:
            return load_module_from_path(MAIN_ALIAS, source)
        module = sys.modules.get(target.module)
        if module is None:
            return importlib.import_module(target.module)
        return importlib.reload(module)
    except Exception as error:
        raise _reload_error(error, source) from error


def _lookup(module: ModuleType, qualname: str) -> Any:
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _current_object(target: CallTarget) -> object | None:
    module = sys.modules.get(target.module)
    if module is None or target.module == MAIN_ALIAS:
        return None
    try:
        found: object = _lookup(module, target.qualname)
    except AttributeError:
        return None
    return found


def reload_function(
    target: CallTarget, original: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """Import ``target``'s source again and return the (edited) function, unwrapped.

    ``original`` is returned, with a warning, for nested functions that cannot be found by
    name. Raises :class:`ReloadError` (with file and line) when the edited source does not
    import, or when the function is no longer defined under its name.
    """
    where = target.source or target.module
    if not target.loadable:
        if original is None:
            raise ReloadError(f"{target.qualname} is a nested function and cannot be re-imported")
        logger.warning(
            "%s is a nested function; it cannot be re-imported, so edits to it are not "
            "picked up on resume (move it to module level)",
            target.qualname,
        )
        return unwrap_function(original)
    stale = _current_object(target)
    module = _import_again(target)
    try:
        found = _lookup(module, target.qualname)
        if stale is not None and found is stale:
            # importlib.reload keeps names that the new source no longer defines.
            raise AttributeError(target.qualname)
    except AttributeError as error:
        raise ReloadError(
            f"{target.qualname} is no longer defined in {where}; restore it (same name) and "
            "resume again",
            source_path=target.source or "",
        ) from error
    if not callable(found):
        raise ReloadError(
            f"{target.qualname} in {where} is now a {type(found).__name__}, not a function",
            source_path=target.source or "",
        )
    return unwrap_function(found)
