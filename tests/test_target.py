"""Finding the function again from a fresh process: module, source file and sys.path root."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from vscode_interactive._reload._target import MAIN_ALIAS, import_root, resolve_target, target_of


@pytest.mark.parametrize(
    ("module", "source", "root"),
    [
        ("pkg.mod", "/x/pkg/mod.py", "/x"),
        ("pkg.sub", "/x/pkg/sub/__init__.py", "/x"),
        ("tasks", "/work/proj/tasks.py", "/work/proj"),
        ("renamed", "/x/pkg/mod.py", "/x/pkg"),  # name does not match the path
        ("pkg.mod", "/x/other/mod.py", "/x/other"),
    ],
)
def test_import_root_is_where_the_dotted_name_starts(module: str, source: str, root: str) -> None:
    """The sys.path entry is the source path minus the module's dotted name."""
    assert import_root(module, source) == root


def test_function_in_a_package_is_imported_by_name() -> None:
    """A package function keeps its module; the job's main script is loaded under the alias."""
    target = resolve_target("pkg.mod", "train", "/x/pkg/mod.py", main_source="/job/run.py")
    assert (target.module, target.import_root) == ("pkg.mod", "/x")
    assert (target.main_module, target.main_root) == (MAIN_ALIAS, "/job")
    assert target.name == "pkg.mod.train" and target.label == "pkg.mod.train()"


def test_function_in_the_main_script_is_loaded_under_the_alias() -> None:
    """A function of ``python run.py`` comes from run.py loaded as another module name."""
    target = resolve_target("__main__", "train", "/job/run.py", main_source="/job/run.py")
    assert target.module == MAIN_ALIAS == target.main_module
    assert (target.source, target.import_root) == ("/job/run.py", "/job")
    assert target.name == "train" and target.label == "train() in run.py"


def test_function_in_a_module_run_with_dash_m_is_imported_by_its_real_name() -> None:
    """Under ``python -m pkg.cli`` the main module is importable as ``pkg.cli``."""
    target = resolve_target(
        "__main__", "train", "/x/pkg/cli.py", main_spec_name="pkg.cli", main_source="/x/pkg/cli.py"
    )
    assert (target.module, target.import_root) == ("pkg.cli", "/x")
    assert (target.main_module, target.main_root) == ("pkg.cli", "/x")


def test_nested_functions_are_not_loadable() -> None:
    """A function defined inside another one cannot be reached by import."""
    assert not resolve_target("m", "outer.<locals>.inner", "/x/m.py").loadable
    assert resolve_target("m", "Class.method", "/x/m.py").loadable


def test_target_of_reads_the_function_and_main_module() -> None:
    """The live function gives its module, name and absolute source file."""
    main = types.ModuleType("__main__")
    main.__file__ = "/job/run.py"
    target = target_of(test_target_of_reads_the_function_and_main_module, main)
    assert target.module == __name__
    assert target.source == str(Path(__file__).absolute())
    assert target.main_source == "/job/run.py"
