"""Resume reload: edited functions are imported again from their source file."""

from __future__ import annotations

import functools
import logging
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vscode_interactive import ReloadError
from vscode_interactive._reload._reimport import reload_function, unwrap_function
from vscode_interactive._reload._target import MAIN_ALIAS, resolve_target, target_of

DECORATOR = """
import functools

def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return ("wrapped", fn(*args, **kwargs))
    return wrapper
"""


@pytest.fixture
def code_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path whose modules are forgotten after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def test_package_module_is_reloaded_with_edits(code_dir: Path) -> None:
    """A function in a package module returns the edited behaviour after reload."""
    write(code_dir / "pkg_a" / "__init__.py", "")
    write(code_dir / "pkg_a" / "helpers.py", "OFFSET = 1\n")
    mod = write(
        code_dir / "pkg_a" / "job.py",
        "from .helpers import OFFSET\n\ndef compute(x):\n    return x + OFFSET\n",
    )
    import importlib

    fn = importlib.import_module("pkg_a.job").compute
    ref = target_of(fn)
    assert (ref.module, ref.qualname, ref.source) == ("pkg_a.job", "compute", str(mod))
    assert ref.import_root == str(code_dir)
    mod.write_text(mod.read_text().replace("x + OFFSET", "x * 10 + OFFSET"))
    assert reload_function(ref)(2) == 21


def test_sibling_module_edit_of_same_size_is_seen(code_dir: Path) -> None:
    """An edit that keeps the file size within the same second is not hidden by stale .pyc."""
    mod = write(code_dir / "sibling_b.py", "def f():\n    return 1\n")
    import importlib

    ref = target_of(importlib.import_module("sibling_b").f)
    mod.write_text("def f():\n    return 2\n")
    assert reload_function(ref)() == 2


def test_decorators_are_unwrapped(code_dir: Path) -> None:
    """wraps-chains (our decorator included) are peeled so resume calls the plain function."""
    write(code_dir / "deco_c.py", DECORATOR)
    write(
        code_dir / "wrapped_c.py",
        "from deco_c import traced\n\n@traced\n@traced\ndef g(x):\n    return x\n",
    )
    import importlib

    decorated = importlib.import_module("wrapped_c").g
    assert decorated(1) == ("wrapped", ("wrapped", 1))
    ref = target_of(decorated)
    assert ref.qualname == "g"
    assert reload_function(ref)(5) == 5


def test_main_script_reloaded_without_running_main_block(code_dir: Path) -> None:
    """A __main__ function is re-imported from its file without its __main__ block."""
    marker = code_dir / "main_ran.txt"
    script = write(
        code_dir / "script_d.py",
        f"""
        from pathlib import Path

        def job(x):
            return x - 1

        if __name__ == "__main__":
            Path({str(marker)!r}).write_text("ran")
        """,
    )
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(script)}
    exec(compile(script.read_text(), str(script), "exec"), namespace)  # noqa: S102
    marker.unlink()
    ref = resolve_target("__main__", "job", str(script), main_source=str(script))
    assert ref.module == MAIN_ALIAS and ref.source == str(script)
    assert target_of(namespace["job"]).qualname == "job"
    script.write_text(script.read_text().replace("x - 1", "x + 100"))
    fn = reload_function(ref)
    assert fn(1) == 101
    assert fn.__module__ == MAIN_ALIAS
    assert not marker.exists()


def test_syntax_error_names_file_and_line(code_dir: Path) -> None:
    """A syntax error in the edited file is reported with its file and line."""
    mod = write(code_dir / "broken_e.py", "def f():\n    return 1\n")
    import importlib

    ref = target_of(importlib.import_module("broken_e").f)
    mod.write_text("def f():\n    return (1\n\n")
    with pytest.raises(ReloadError) as info:
        reload_function(ref)
    assert info.value.source_path == str(mod)
    assert info.value.line is not None
    assert str(mod) in str(info.value) and "line" in str(info.value)
    assert isinstance(info.value, ImportError)


def test_error_at_import_time_names_line(code_dir: Path) -> None:
    """A top-level exception in the edited file is reported with the raising line."""
    mod = write(code_dir / "raiser_f.py", "def f():\n    return 1\n")
    import importlib

    ref = target_of(importlib.import_module("raiser_f").f)
    mod.write_text("def f():\n    return 1\n\nraise RuntimeError('top level')\n")
    with pytest.raises(ReloadError, match=r"line 4.*RuntimeError: top level") as info:
        reload_function(ref)
    assert info.value.line == 4


def test_main_script_syntax_error(code_dir: Path) -> None:
    """A broken __main__ script raises ReloadError and leaves no half-loaded module."""
    script = write(code_dir / "script_g.py", "def job():\n    return 1\n")
    ref = resolve_target("__main__", "job", str(script), main_source=str(script))
    script.write_text("def job(:\n")
    with pytest.raises(ReloadError, match="line 1"):
        reload_function(ref)
    assert MAIN_ALIAS not in sys.modules


def test_removed_function_is_reported(code_dir: Path) -> None:
    """If the edit deleted or renamed the function, the error says so and where."""
    mod = write(code_dir / "gone_h.py", "def f():\n    return 1\n")
    import importlib

    ref = target_of(importlib.import_module("gone_h").f)
    mod.write_text("def renamed():\n    return 1\n")
    with pytest.raises(ReloadError, match="no longer defined"):
        reload_function(ref)


def test_method_found_by_qualified_name(code_dir: Path) -> None:
    """A static method is found through its class by qualified name."""
    mod = write(
        code_dir / "cls_i.py",
        "class Jobs:\n    @staticmethod\n    def run():\n        return 'a'\n",
    )
    import importlib

    ref = target_of(importlib.import_module("cls_i").Jobs.run)
    assert ref.qualname == "Jobs.run"
    mod.write_text(mod.read_text().replace("'a'", "'b'"))
    assert reload_function(ref)() == "b"


def test_nested_function_falls_back_with_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A nested function cannot be re-imported: the original runs and a warning says why."""

    def nested(x: int) -> int:
        return x * 3

    ref = target_of(nested)
    assert not ref.loadable
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        assert reload_function(ref, nested)(2) == 6
    assert "nested function" in caplog.text
    with pytest.raises(ReloadError):
        reload_function(ref)


def test_unwrap_function_follows_functools_wraps() -> None:
    """unwrap_function returns the innermost function of a wraps-chain."""

    def base() -> int:
        return 1

    @functools.wraps(base)
    def layer() -> int:
        return base() + 1

    wrapped: Callable[[], int] = layer
    assert unwrap_function(wrapped) is base
