"""F5 starts the held failure's post-mortem (postmortem.js), run under Node with a fake
``vscode`` module.

The fake records the commands registered and executed, the context keys set and the debug
sessions started, and fires the debug and configuration events a test asks for. The real
keybinding on the real code-server is checked in tests/e2e/test_post_mortem.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from vscode_interactive._extension._pack import EXTENSION_ROOT
from vscode_interactive._workspace._vscode import POST_MORTEM_CONFIGURATION_NAME

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="no node on PATH")

POST_MORTEM = {
    "name": POST_MORTEM_CONFIGURATION_NAME,
    "type": "debugpy",
    "request": "attach",
    "connect": {"host": "127.0.0.1", "port": 40123},
}
MY_APP = {"name": "My App", "type": "debugpy", "request": "launch", "program": "app.py"}

# A fake `vscode`: `launch` holds the workspace file's configurations (`workspace`) and each
# folder's (`folders`, by folder name); `log` records what the extension did.
FAKE_VSCODE = """
const Module = require('module');
const launch = { workspace: undefined, folders: {} };
const log = { context: [], executed: [], started: [] };
const commands = new Map();
const listeners = { debug: [], config: [] };
const folders = [{ name: 'project', uri: { path: '/project' }, index: 0 }];
const vscode = {
  workspace: {
    workspaceFolders: folders,
    getConfiguration(section, resource) {
      return { inspect(key) {
        if (resource) return { workspaceFolderValue: launch.folders[resource.path.slice(1)] };
        return { workspaceValue: launch.workspace };
      } };
    },
    onDidChangeConfiguration(fn) { listeners.config.push(fn); return { dispose() {} }; },
  },
  commands: {
    registerCommand(id, fn) { commands.set(id, fn); return { dispose() {} }; },
    async executeCommand(id, ...args) {
      if (id === 'setContext') log.context.push([args[0], args[1]]);
      else log.executed.push(id);
    },
  },
  debug: {
    onDidStartDebugSession(fn) { listeners.debug.push(fn); return { dispose() {} }; },
    async startDebugging(folder, what) {
      log.started.push([folder ? folder.name : null, what]); return true;
    },
  },
};
const realLoad = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : realLoad.call(this, request, ...rest);
};
const context = { subscriptions: [] };
const fire = {
  debugStarted: (name) => listeners.debug.forEach((fn) => fn({ configuration: { name } })),
  launchChanged: () => listeners.config.forEach(
    (fn) => fn({ affectsConfiguration: (s) => s === 'launch' })),
};
const press = async (id) => { await commands.get(id)(); };
const settle = () => new Promise((resolve) => setImmediate(resolve));
"""


def run_js(body: str) -> Any:
    """Run the async ``body`` with the fake ``vscode``; it returns one JSON-able value."""
    assert NODE is not None
    script = (
        f"const root = {json.dumps(str(EXTENSION_ROOT))};\n{FAKE_VSCODE}\n"
        "const pm = require(root + '/postmortem.js');\n"
        f"(async () => {{ {body} }})().then((value) => console.log(JSON.stringify(value)),"
        " (error) => { console.error(error); process.exit(1); });"
    )
    done = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_f5_starts_the_workspace_files_post_mortem_though_the_project_has_its_own() -> None:
    """With the user's launch.json ("My App") and ours, the key is on and F5 starts our
    Post-mortem configuration itself (VS Code finds no workspace-file configuration by
    name), in the project's folder."""
    result = run_js(f"""
launch.workspace = [{json.dumps(POST_MORTEM)}];
launch.folders.project = [{json.dumps(MY_APP)}];
pm.activate(context);
await settle();
await press(pm.START);
return log;
""")
    assert result["context"] == [["vscodeInteractive.postMortemPending", True]]
    assert result["started"] == [["project", POST_MORTEM]]
    assert result["executed"] == []


def test_once_a_post_mortem_started_f5_is_vs_codes_own_again() -> None:
    """Another session (My App) leaves the key on; the Post-mortem session turns it off,
    and a later change of the launch configurations does not turn it back on."""
    result = run_js(f"""
launch.workspace = [{json.dumps(POST_MORTEM)}];
launch.folders.project = [{json.dumps(MY_APP)}];
pm.activate(context);
fire.debugStarted('My App');
await settle();
const before = log.context.slice();
fire.debugStarted(pm.POST_MORTEM_NAME);
launch.folders.project = [];
fire.launchChanged();
await settle();
return {{ before, after: log.context.slice(before.length) }};
""")
    assert result["before"] == [["vscodeInteractive.postMortemPending", True]]
    assert result["after"] == [
        ["vscodeInteractive.postMortemPending", False],
        ["vscodeInteractive.postMortemPending", False],
    ]


def test_without_a_post_mortem_configuration_f5_is_the_plain_start() -> None:
    """No held failure (no Post-mortem configuration): the key is off, and the command, if
    run anyway, is VS Code's own Start Debugging."""
    result = run_js(f"""
launch.workspace = [];
launch.folders.project = [{json.dumps(MY_APP)}];
pm.activate(context);
await settle();
await press(pm.START);
return log;
""")
    assert result["context"] == [["vscodeInteractive.postMortemPending", False]]
    assert result["executed"] == ["workbench.action.debug.start"]
    assert result["started"] == []


def test_a_post_mortem_written_after_activation_turns_the_key_on() -> None:
    """The workspace file's launch configurations changing (VS Code's configuration event)
    re-reads them."""
    result = run_js(f"""
pm.activate(context);
launch.workspace = [{json.dumps(POST_MORTEM)}];
fire.launchChanged();
await settle();
return log.context;
""")
    assert result == [
        ["vscodeInteractive.postMortemPending", False],
        ["vscodeInteractive.postMortemPending", True],
    ]


def test_locate_takes_the_first_source_holding_the_name() -> None:
    """The workspace file's configuration before a folder's; malformed entries skipped."""
    result = run_js("""
const a = {name: 'P', port: 1}, b = {name: 'P', port: 2};
return [
  pm.locate([{folder: 'w', configurations: [null, 3, a]}, {folder: 'f', configurations: [b]}], 'P'),
  pm.locate([{folder: 'w', configurations: 'oops'}, {folder: 'f', configurations: [b]}], 'P'),
  pm.locate([{folder: 'w', configurations: undefined}], 'P'),
];
""")
    assert result == [
        {"folder": "w", "configuration": {"name": "P", "port": 1}},
        {"folder": "f", "configuration": {"name": "P", "port": 2}},
        None,
    ]


def test_outside_a_session_f5_is_left_alone() -> None:
    """extension.js activates the F5 part only in a session (the channel in the
    environment): no command, no context key otherwise."""
    result = run_js(f"""
launch.workspace = [{json.dumps(POST_MORTEM)}];
delete process.env.VSCODE_INTERACTIVE_CHANNEL;
vscode.extensions = {{ getExtension: () => ({{ id: 'ms-python.debugpy' }}) }};
require(root + '/extension.js').activate(context);
await settle();
return {{ commands: [...commands.keys()], context: log.context }};
""")
    assert result == {"commands": [], "context": []}


def test_the_js_name_is_the_workspace_files_and_f5_is_bound_to_it() -> None:
    """postmortem.js looks for the name the workspace writer gives the configuration, and
    package.json binds F5 to its command only while the key is on and nothing is debugged."""
    name = run_js("return pm.POST_MORTEM_NAME;")
    assert name == POST_MORTEM_CONFIGURATION_NAME
    manifest = json.loads((EXTENSION_ROOT / "package.json").read_text())
    assert manifest["contributes"]["keybindings"] == [
        {
            "command": "vscode-interactive.startPostMortem",
            "key": "f5",
            "when": "vscodeInteractive.postMortemPending && !inDebugMode",
        }
    ]
