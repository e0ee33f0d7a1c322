"""Importing the package (and ``@vscode``) loads only what defining a task needs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import vscode_interactive

# Needed only once a session runs (installer, cache, supervisor, workspace, HTTP, reload).
_LATE_MODULES = (
    "fsspec",
    "filelock",
    "platformdirs",
    "urllib.request",
    "http.client",
    "ssl",
    "concurrent.futures",
    "vscode_interactive.cache",
    "vscode_interactive._install._ensure",
    "vscode_interactive._install._executable",
    "vscode_interactive._install._extension_install",
    "vscode_interactive._supervision._supervisor",
    "vscode_interactive._supervision._server",
    "vscode_interactive._supervision._policy",
    "vscode_interactive._system._os",
    "vscode_interactive._system._network",
    "vscode_interactive._system._processes",
    "vscode_interactive._system._files",
    "vscode_interactive._workspace._prepare",
    "vscode_interactive._reload._reimport",
    "vscode_interactive._supervision._channel",
)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout))


def test_package_import_loads_no_submodule() -> None:
    """``import vscode_interactive`` imports none of its modules until a name is used (only
    the few lines of the lazy-export helper itself)."""
    loaded = _modules_after("import vscode_interactive")
    ours = sorted(name for name in loaded if name.startswith("vscode_interactive."))
    assert ours == ["vscode_interactive._lazy"]


def test_decorator_import_leaves_session_machinery_for_later() -> None:
    """``from vscode_interactive import vscode`` (and decorating) loads no installer,
    supervisor, workspace writer, cache or HTTP stack."""
    loaded = _modules_after(
        "from vscode_interactive import SessionConfig, vscode\n"
        "@vscode(run_task_first=True, session_config=SessionConfig(check_interval=1))\n"
        "def task() -> int:\n    return 1"
    )
    assert "vscode_interactive._decorator" in loaded
    assert sorted(loaded.intersection(_LATE_MODULES)) == []


def test_every_exported_name_resolves_from_its_module() -> None:
    """Each name in ``__all__`` has a home in the lazy table and resolves to that object."""
    exports = vscode_interactive._EXPORTS
    assert set(exports) | {"__version__"} == set(vscode_interactive.__all__)
    for name, module in exports.items():
        value = getattr(vscode_interactive, name)
        home = sys.modules[f"vscode_interactive{module}"]
        assert value is getattr(home, name), name
    assert set(vscode_interactive.__all__) <= set(dir(vscode_interactive))


def test_unknown_attribute_is_an_attribute_error() -> None:
    """A name that is not exported raises AttributeError naming it (so hasattr works)."""
    assert not hasattr(vscode_interactive, "no_such_name")
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(vscode_interactive, "no_such_name")  # noqa: B009 - the point of the test
