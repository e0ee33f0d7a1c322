"""Resume reload: find a function again after the user edited its source file.

A session records *where* the function came from (:class:`FunctionRef`: module, qualified
name, source file) before opening the IDE. On resume, :func:`reload_function` imports that
source again — so the edits count — looks the function up by its qualified name, and peels
off decorators (ours included: calling the decorated version would open another IDE) by
following ``__wrapped__`` chains.

Three homes are handled:

* a module of an installed package or a sibling module: re-executed in place with
  :func:`importlib.reload`, so relative imports and other modules' references keep working;
* a script that was run as ``__main__``: its file is executed as a fresh module under a
  private name, so its ``if __name__ == "__main__":`` block does not run again;
* a nested function (``<locals>`` in its qualified name) cannot be found again by name: the
  original object is returned and a warning says the edits were not picked up.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ._errors import ReloadError

__all__ = ["MAIN_ALIAS", "FunctionRef", "function_ref", "reload_function", "unwrap_function"]

logger = logging.getLogger("vscode_interactive")

#: Module name a ``__main__`` script is loaded under when it is imported again.
MAIN_ALIAS = "__vscode_interactive_main__"


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """Where a function lives, in terms that survive editing its file."""

    module: str
    qualname: str
    source_path: str | None

    @property
    def is_main(self) -> bool:
        """True when the function was defined in the script run as ``__main__``."""
        return self.module in ("__main__", MAIN_ALIAS)

    @property
    def findable(self) -> bool:
        """False for nested functions, which no import can reach by name."""
        return "<locals>" not in self.qualname


def unwrap_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Follow ``__wrapped__`` through our decorator and any ``functools.wraps`` layers."""
    unwrapped: Callable[..., Any] = inspect.unwrap(fn)
    return unwrapped


def function_ref(fn: Callable[..., Any]) -> FunctionRef:
    """Record where ``fn`` (after unwrapping) is defined."""
    target = unwrap_function(fn)
    module = getattr(target, "__module__", None) or "__main__"
    qualname = str(getattr(target, "__qualname__", None) or getattr(target, "__name__", ""))
    try:
        source = inspect.getsourcefile(target)
    except TypeError:
        source = None
    return FunctionRef(
        module=module,
        qualname=qualname,
        source_path=str(Path(source).absolute()) if source else None,
    )


def load_source_as_module(name: str, path: Path) -> ModuleType:
    """Execute ``path`` as a new module called ``name`` (registered in ``sys.modules``).

    Raises :class:`ReloadError` naming the file and line when the source does not compile
    or its top level raises.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ReloadError(
            f"cannot load {path} as a Python module; check that the file exists and ends in .py",
            source_path=str(path),
        )
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        raise _reload_error(error, path) from error
    return module


def _reload_error(error: BaseException, path: Path) -> ReloadError:
    if isinstance(error, SyntaxError):
        where = error.filename or str(path)
        line = error.lineno
        return ReloadError(
            f"{where}, line {line}: {type(error).__name__}: {error.msg}; fix the file in the "
            "IDE and resume again",
            source_path=where,
            line=line,
        )
    frame_line = _innermost_line(error, path)
    return ReloadError(
        f"{path}{f', line {frame_line}' if frame_line else ''}: importing the edited file "
        f"raised {type(error).__name__}: {error}; fix the file in the IDE and resume again",
        source_path=str(path),
        line=frame_line,
    )


def _innermost_line(error: BaseException, path: Path) -> int | None:
    line = None
    tb = error.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _import_again(ref: FunctionRef) -> ModuleType:
    if ref.is_main:
        if ref.source_path is None:
            raise ReloadError(
                "the function was defined in an interactive __main__ with no source file; "
                "define it in a .py file to resume with edits"
            )
        return load_source_as_module(MAIN_ALIAS, Path(ref.source_path))
    module = sys.modules.get(ref.module)
    source = Path(ref.source_path) if ref.source_path else Path(ref.module)
    if ref.source_path:
        _drop_bytecode(Path(ref.source_path))
    try:
        if module is None:
            return importlib.import_module(ref.module)
        importlib.invalidate_caches()
        return importlib.reload(module)
    except ReloadError:
        raise
    except Exception as error:
        raise _reload_error(error, source) from error


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


def _lookup(module: ModuleType, qualname: str) -> Any:
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _current_object(ref: FunctionRef) -> object | None:
    module = sys.modules.get(ref.module)
    if module is None or ref.is_main:
        return None
    try:
        found: object = _lookup(module, ref.qualname)
    except AttributeError:
        return None
    return found


def reload_function(
    ref: FunctionRef, original: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """Import ``ref``'s source again and return the (edited) function, unwrapped.

    ``original`` is returned, with a warning, for nested functions that cannot be found by
    name. Raises :class:`ReloadError` (with file and line) when the edited source does not
    import, or when the function is no longer defined under its name.
    """
    if not ref.findable:
        if original is None:
            raise ReloadError(f"{ref.qualname} is a nested function and cannot be re-imported")
        logger.warning(
            "%s is a nested function; it cannot be re-imported, so edits to it are not "
            "picked up on resume (move it to module level)",
            ref.qualname,
        )
        return unwrap_function(original)
    stale = _current_object(ref)
    module = _import_again(ref)
    try:
        found = _lookup(module, ref.qualname)
        if stale is not None and found is stale:
            # importlib.reload keeps names the new source no longer defines.
            raise AttributeError(ref.qualname)
    except AttributeError as error:
        raise ReloadError(
            f"{ref.qualname} is no longer defined in {ref.source_path or ref.module}; "
            "restore it (same name) and resume again",
            source_path=ref.source_path or "",
        ) from error
    if not callable(found):
        raise ReloadError(
            f"{ref.qualname} in {ref.source_path or ref.module} is now a "
            f"{type(found).__name__}, not a function",
            source_path=ref.source_path or "",
        )
    return unwrap_function(found)
