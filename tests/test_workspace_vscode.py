"""launch.json and settings.json: golden renders and merges that never clobber the user."""

from __future__ import annotations

import json
import re
from pathlib import Path

from vscode_interactive._workspace._vscode import (
    NOISE_SETTINGS,
    merge_launch,
    merge_settings,
    render_launch_configurations,
    render_settings,
    workspace_relative,
)

WS = Path("/work/proj")
PY = "/opt/venv/bin/python"


def _ours() -> list[dict[str, object]]:
    return render_launch_configurations(
        entry_script=WS / ".vscode-interactive" / "entry.py",
        resume_script=WS / ".vscode-interactive" / "resume.py",
        workspace=WS,
        python=PY,
    )


def test_launch_configurations_golden() -> None:
    """The two configurations: debug entry under debugpy and resume, both in the terminal."""
    assert _ours() == [
        {
            "name": "Interactive Debugging",
            "type": "debugpy",
            "request": "launch",
            "program": "${workspaceFolder}/.vscode-interactive/entry.py",
            "python": PY,
            "cwd": "${workspaceFolder}",
            "console": "integratedTerminal",
            "justMyCode": True,
        },
        {
            "name": "Resume Task",
            "type": "debugpy",
            "request": "launch",
            "program": "${workspaceFolder}/.vscode-interactive/resume.py",
            "python": PY,
            "cwd": "${workspaceFolder}",
            "console": "integratedTerminal",
            "justMyCode": True,
        },
    ]


def test_settings_golden() -> None:
    """Our settings: the job's interpreter first, the front page as rendered Markdown, then
    the start-up-noise settings."""
    assert render_settings(PY) == {
        "python.defaultInterpreterPath": PY,
        "workbench.editorAssociations": {
            "**/.vscode-interactive/*.md": "vscode.markdown.preview.editor"
        },
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "chat.disableAIFeatures": True,
    }


def test_new_launch_json_golden_text() -> None:
    """Without a launch.json the file is version 0.2.0 plus ours, indented by four spaces."""
    result = merge_launch(None, _ours())
    assert result.changed and result.error is None
    assert (
        result.text == json.dumps({"version": "0.2.0", "configurations": _ours()}, indent=4) + "\n"
    )


def test_program_outside_workspace_is_absolute() -> None:
    """A script outside the workspace is referenced by its absolute path."""
    assert workspace_relative(Path("/elsewhere/x.py"), WS) == "/elsewhere/x.py"


def test_existing_configurations_are_kept_and_ours_replaced_by_name() -> None:
    """User entries stay in order; a same-named old one of ours is replaced in place."""
    existing = {
        "version": "0.2.0",
        "configurations": [
            {"name": "My app", "type": "debugpy", "request": "launch", "program": "app.py"},
            {"name": "Interactive Debugging", "type": "python", "program": "old.py"},
            {"name": "Attach", "type": "debugpy", "request": "attach"},
        ],
        "compounds": [{"name": "Both", "configurations": ["My app", "Attach"]}],
    }
    merged = json.loads(merge_launch(json.dumps(existing), _ours()).text or "")
    names = [c["name"] for c in merged["configurations"]]
    assert names == ["My app", "Interactive Debugging", "Attach", "Resume Task"]
    assert merged["configurations"][0] == existing["configurations"][0]
    assert merged["configurations"][1] == _ours()[0]
    assert merged["compounds"] == existing["compounds"]


def test_launch_with_comments_and_trailing_commas_is_merged() -> None:
    """A hand-written launch.json with comments and trailing commas keeps its entries."""
    text = """{
        // my configurations
        "version": "0.2.0",
        "configurations": [
            {"name": "Tests", "type": "debugpy", "request": "launch", "module": "pytest",},
        ],
    }"""
    result = merge_launch(text, _ours())
    merged = json.loads(result.text or "")
    assert [c["name"] for c in merged["configurations"]] == [
        "Tests",
        "Interactive Debugging",
        "Resume Task",
    ]
    assert result.changed


def test_merging_into_our_own_output_changes_nothing() -> None:
    """A second session in the same workspace leaves an up-to-date file alone."""
    first = merge_launch(None, _ours()).text
    again = merge_launch(first, _ours())
    assert again.text == first and not again.changed


def test_unparseable_launch_reports_position_and_offers_ours_alone() -> None:
    """A broken file yields no text, an error with line and column, and ours for a side file."""
    result = merge_launch(
        '{\n  "configurations": [\n    {"name": "x"} {"name": "y"}\n  ]\n}', _ours()
    )
    assert result.text is None and not result.changed
    assert result.error is not None and "line 3 column 19" in result.error
    assert json.loads(result.side_text or "") == {"version": "0.2.0", "configurations": _ours()}


def test_launch_of_the_wrong_shape_is_not_rewritten() -> None:
    """Valid JSON that is not a launch file (a list, or non-list configurations) is left alone."""
    assert merge_launch("[1, 2]", _ours()).error == "launch.json must be a JSON object, found list"
    wrong = merge_launch('{"configurations": {"name": "x"}}', _ours())
    assert wrong.text is None
    assert wrong.error == '"configurations" must be a list, found dict'


def test_user_settings_are_kept_and_interpreter_is_ours() -> None:
    """Other user settings stay; the interpreter path is replaced by the job's."""
    existing = (
        '{\n  "editor.fontSize": 15, // big\n'
        '  "python.defaultInterpreterPath": "/usr/bin/python3",\n}'
    )
    result = merge_settings(existing, render_settings(PY))
    merged = json.loads(result.text or "")
    assert merged["editor.fontSize"] == 15
    assert merged["python.defaultInterpreterPath"] == PY
    assert list(merged)[:2] == ["editor.fontSize", "python.defaultInterpreterPath"]


def test_users_own_noise_settings_win() -> None:
    """A user who chose a start-up editor or AI features keeps that choice."""
    existing = json.dumps({"workbench.startupEditor": "readme", "chat.disableAIFeatures": True})
    result = merge_settings(existing, render_settings(PY))
    merged = json.loads(result.text or "")
    assert merged["workbench.startupEditor"] == "readme"
    assert result.kept_user == ("workbench.startupEditor",)
    for key, value in NOISE_SETTINGS.items():
        if key != "workbench.startupEditor":
            assert merged[key] == value


def test_unparseable_settings_are_not_rewritten() -> None:
    """A settings.json with a syntax error gives an error and our settings alone."""
    result = merge_settings('{"a": 1,, }', render_settings(PY))
    assert result.text is None
    # json's reason is its own (its wording changed in 3.13); ours is where it failed.
    assert result.error is not None
    assert re.fullmatch(r".+ at line 1 column ([1-9]|1[01])", result.error), result.error
    assert json.loads(result.side_text or "") == render_settings(PY)


def test_editor_associations_are_merged_not_replaced() -> None:
    """The user's own editor associations stay; ours is added beside them."""
    user = json.dumps({"workbench.editorAssociations": {"*.ipynb": "jupyter-notebook"}})
    merged = json.loads(merge_settings(user, render_settings(PY)).text or "{}")
    assert merged["workbench.editorAssociations"] == {
        "*.ipynb": "jupyter-notebook",
        "**/.vscode-interactive/*.md": "vscode.markdown.preview.editor",
    }


def test_post_mortem_configuration_attaches_to_the_job_and_comes_first() -> None:
    """With a held failure, "Post-mortem: inspect the failure" attaches to its loopback port
    and is the first configuration of a merged launch.json, ahead of the user's."""
    ours = render_launch_configurations(
        entry_script=WS / ".vscode-interactive" / "entry.py",
        resume_script=WS / ".vscode-interactive" / "resume.py",
        workspace=WS,
        python=PY,
        post_mortem=("127.0.0.1", 40123),
    )
    assert ours[0] == {
        "name": "Post-mortem: inspect the failure",
        "type": "debugpy",
        "request": "attach",
        "connect": {"host": "127.0.0.1", "port": 40123},
        "justMyCode": False,
    }
    user = {"version": "0.2.0", "configurations": [{"name": "Mine", "type": "node"}]}
    merged = json.loads(merge_launch(json.dumps(user), ours).text or "")
    names = [item["name"] for item in merged["configurations"]]
    assert names == [
        "Post-mortem: inspect the failure",
        "Mine",
        "Interactive Debugging",
        "Resume Task",
    ]


def test_a_stale_post_mortem_configuration_is_removed_when_there_is_none() -> None:
    """A post-mortem entry of an earlier failure (its port is gone) does not survive."""
    stale = {
        "configurations": [
            {"name": "Post-mortem: inspect the failure", "connect": {"port": 1}},
            {"name": "Mine"},
        ]
    }
    merged = json.loads(merge_launch(json.dumps(stale), _ours()).text or "")
    names = [item["name"] for item in merged["configurations"]]
    assert names == ["Mine", "Interactive Debugging", "Resume Task"]
