"""The session's .code-workspace file: one folder, our launch section, merged settings."""

from __future__ import annotations

import json
from pathlib import Path

from vscode_interactive._workspace._vscode import LAUNCH_VERSION, NOISE_SETTINGS
from vscode_interactive._workspace._workspace_file import (
    render_workspace_file,
    workspace_settings,
)


def test_workspace_file_names_the_folder_our_launch_and_settings() -> None:
    """The file opens exactly the user's folder (absolute) and carries launch + settings."""
    configurations = [{"name": "Interactive Debugging", "type": "debugpy"}]
    text = render_workspace_file(
        folder=Path("/work/project"), configurations=configurations, settings={"a": 1}
    )
    assert json.loads(text) == {
        "folders": [{"path": "/work/project"}],
        "settings": {"a": 1},
        "launch": {"version": LAUNCH_VERSION, "configurations": configurations},
    }
    assert text.endswith("}\n")


def test_user_settings_are_repeated_and_their_startup_choices_win() -> None:
    """JSONC user settings come first; ours are added; the user's start-up choice is kept."""
    ours = {"python.defaultInterpreterPath": "/py", **NOISE_SETTINGS}
    user = '{\n  // mine\n  "editor.tabSize": 2, "workbench.startupEditor": "readme",\n}'
    merged = workspace_settings(user, ours)
    assert list(merged)[:2] == ["editor.tabSize", "workbench.startupEditor"]
    assert merged["workbench.startupEditor"] == "readme"
    assert merged["python.defaultInterpreterPath"] == "/py"


def test_absent_or_broken_user_settings_give_ours_alone() -> None:
    """No settings.json, or one that does not parse: only our settings."""
    ours = {"python.defaultInterpreterPath": "/py"}
    assert workspace_settings(None, ours) == ours
    assert workspace_settings('{"a": 1 "b": 2}', ours) == ours
