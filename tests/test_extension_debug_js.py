"""The extension's debug adapter choice (debug.js), VS Code-free parts run under Node.

Which adapter serves a configuration, and whether the extension serves the ``debugpy``
type at all; the VS Code side is exercised on the real code-server (tests/e2e).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from vscode_interactive._extension._pack import EXTENSION_ROOT

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="no node on PATH")


def adapter_for(configuration: dict[str, Any], env: dict[str, str], default: str | None) -> Any:
    assert NODE is not None
    script = (
        f"const d = require({json.dumps(str(EXTENSION_ROOT / 'debug.js'))});"
        f"console.log(JSON.stringify(d.adapterFor({json.dumps(configuration)}, "
        f"{json.dumps(env)}, {json.dumps(default)})));"
    )
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_post_mortem_attach_connects_to_the_jobs_own_debugger() -> None:
    """An attach with connect goes straight to that loopback port (the job speaks DAP)."""
    post_mortem = {"request": "attach", "connect": {"host": "127.0.0.1", "port": 40123}}
    assert adapter_for(post_mortem, {}, None) == {
        "kind": "server",
        "host": "127.0.0.1",
        "port": 40123,
    }


def test_launch_runs_debugpys_adapter_from_the_configured_interpreter() -> None:
    """A launch runs `<python> -m debugpy.adapter`: the configuration's python first, then
    the job's interpreter from the environment, then the workspace setting."""
    launch = {"request": "launch", "program": "entry.py", "python": "/job/bin/python"}
    env = {"VSCODE_INTERACTIVE_PYTHON": "/env/python"}
    assert adapter_for(launch, env, "/setting/python") == {
        "kind": "executable",
        "command": "/job/bin/python",
        "args": ["-m", "debugpy.adapter"],
    }
    no_python = {"request": "launch", "program": "entry.py"}
    assert adapter_for(no_python, env, "/setting/python")["command"] == "/env/python"
    assert adapter_for(no_python, {}, "/setting/python")["command"] == "/setting/python"
    assert adapter_for(no_python, {}, None)["command"] == "python3"


def test_the_type_is_served_only_without_the_python_debugger_extension() -> None:
    """With ms-python.debugpy installed the extension registers no second factory."""
    assert NODE is not None
    script = (
        f"const d = require({json.dumps(str(EXTENSION_ROOT / 'debug.js'))});"
        "console.log(JSON.stringify(["
        "d.shouldServe(() => undefined),"
        "d.shouldServe((id) => id === 'ms-python.debugpy' ? {id} : undefined)]));"
    )
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [True, False]


def test_package_json_contributes_the_debugpy_type_and_the_abort_command() -> None:
    """The manifest declares the debugpy debugger, breakpoints in Python files (VS Code
    refuses a breakpoint in a language no debugger declares) and the Abort job command."""
    manifest = json.loads((EXTENSION_ROOT / "package.json").read_text())
    assert [d["type"] for d in manifest["contributes"]["debuggers"]] == ["debugpy"]
    assert manifest["contributes"]["breakpoints"] == [{"language": "python"}]
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    assert "vscode-interactive.abort" in commands
    assert "onDebugResolve:debugpy" in manifest["activationEvents"]
