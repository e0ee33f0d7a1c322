"""Where the function lives, said so that a fresh ``python`` process can find it again.

Three cases matter: a function in an installed package (``import`` finds it), a module
that was importable only because the job's directory was on ``sys.path`` (the script
puts that directory back), and a function defined in the script the job ran as
``__main__``. The last one is loaded from its source file under another name
(:data:`MAIN_ALIAS`), so its ``if __name__ == "__main__":`` block does not run; pickled
values whose class was defined in ``__main__`` are resolved against that module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .._errors import ReloadError

__all__ = [
    "MAIN_ALIAS",
    "CallTarget",
    "import_root",
    "load_module_from_path",
    "resolve_target",
    "target_of",
]

MAIN_ALIAS = "__vscode_interactive_main__"


@dataclass(frozen=True, slots=True)
class CallTarget:
    """How to import the function and the job's ``__main__`` in another process.

    ``module`` is never ``"__main__"``: a function from the job's main script is found
    in :data:`MAIN_ALIAS`. ``main_module`` is the name the job's ``__main__`` is loaded
    under (``None`` when it has no source file, e.g. an interactive interpreter).
    """

    module: str
    qualname: str
    source: str | None
    import_root: str | None
    main_module: str | None = None
    main_source: str | None = None
    main_root: str | None = None

    @property
    def name(self) -> str:
        """The function's dotted name: ``pkg.mod.train``, or ``train`` in a main script."""
        return self.qualname if self.module == MAIN_ALIAS else f"{self.module}.{self.qualname}"

    @property
    def label(self) -> str:
        """For sentences: ``pkg.mod.train()``, or ``train() in run.py``."""
        if self.module == MAIN_ALIAS:
            where = Path(self.source).name if self.source else "the job's __main__"
            return f"{self.qualname}() in {where}"
        return f"{self.name}()"

    @property
    def loadable(self) -> bool:
        """False for functions an import cannot reach: nested functions, lambdas."""
        return "<" not in self.qualname


def import_root(module: str, source: str | None) -> str | None:
    """The ``sys.path`` entry from which ``module`` imports as ``source``.

    ``("pkg.mod", "/x/pkg/mod.py") -> "/x"``; when the path does not end with the
    module's dotted name, the source's own directory.
    """
    if not source:
        return None
    path = Path(source)
    parts = module.split(".")
    if path.stem == "__init__":
        names = parts
    elif path.stem == parts[-1]:
        names = parts[:-1]
    else:
        return str(path.parent)
    directory = path.parent
    for name in reversed(names):
        if directory.name != name:
            return str(path.parent)
        directory = directory.parent
    return str(directory)


def resolve_target(
    module: str,
    qualname: str,
    source: str | None,
    *,
    main_spec_name: str | None = None,
    main_source: str | None = None,
) -> CallTarget:
    """Pure: the function's ``__module__``/``__qualname__``/source and how the job started.

    ``main_spec_name`` is ``__main__.__spec__.name`` (set by ``python -m pkg.cli``);
    ``main_source`` is ``__main__.__file__``.
    """
    main_module: str | None = None
    main_root: str | None = None
    if main_spec_name:
        main_module = main_spec_name
        main_root = import_root(main_spec_name, main_source)
    elif main_source:
        main_module = MAIN_ALIAS
        main_root = str(Path(main_source).parent)
    if module == "__main__":
        module = main_module or MAIN_ALIAS
        source = source or main_source
    if module == MAIN_ALIAS:
        root = str(Path(source).parent) if source else None
    else:
        root = import_root(module, source)
    return CallTarget(module, qualname, source, root, main_module, main_source, main_root)


def _source_of(function: Callable[..., object]) -> str | None:
    with contextlib.suppress(ValueError):  # a __wrapped__ cycle: keep the outer object
        function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    filename = getattr(code, "co_filename", None)
    if isinstance(filename, str) and not filename.startswith("<"):
        return str(Path(filename).absolute())
    return None


def target_of(function: Callable[..., object], main: ModuleType | None = None) -> CallTarget:
    """Describe ``function``; ``main`` defaults to this process's ``__main__`` module."""
    if main is None:
        main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    main_file = getattr(main, "__file__", None)
    return resolve_target(
        getattr(function, "__module__", None) or "__main__",
        getattr(function, "__qualname__", getattr(function, "__name__", "?")),
        _source_of(function),
        main_spec_name=getattr(spec, "name", None),
        main_source=str(Path(main_file).absolute()) if isinstance(main_file, str) else None,
    )


def load_module_from_path(module_name: str, path: str | os.PathLike[str]) -> ModuleType:
    """Execute the Python file at ``path`` as module ``module_name`` and return it.

    The module is registered in ``sys.modules`` while it runs (dataclasses and pickling
    need that); if running it fails, the previous entry is put back. A ``__main__``
    guard in the file does not run unless ``module_name`` is ``"__main__"``. A missing
    file or a syntax error raises :class:`ReloadError` (an ``ImportError``) naming the
    file and line; any other exception raised by the module's code propagates.
    """
    source = Path(path)
    spec = importlib.util.spec_from_file_location(module_name, source)
    if spec is None or spec.loader is None or not source.is_file():
        raise ReloadError(
            f"cannot load {module_name} from {source}: no such Python file; "
            "check the path (the file may have been moved or renamed)",
            source_path=str(source),
        )
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
        if isinstance(error, SyntaxError):
            raise ReloadError(
                f"cannot load {module_name}: syntax error in {source} line {error.lineno}: "
                f"{error.msg}; fix the file and try again",
                source_path=str(source),
                line=error.lineno,
            ) from error
        raise
    return module
