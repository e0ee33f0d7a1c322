"""Session file layout: every generated file lives in one state directory."""

from __future__ import annotations

from pathlib import Path

from vscode_interactive._layout import STATE_DIR_NAME, StateLayout


def test_state_files_live_under_the_state_dir(tmp_path: Path) -> None:
    """Generated files are all inside <workspace>/.vscode-interactive, nothing elsewhere."""
    layout = StateLayout.for_workspace(tmp_path)
    assert layout.root == tmp_path / STATE_DIR_NAME
    for path in (
        layout.inputs,
        layout.session_info,
        layout.password_file,
        layout.server_log,
        layout.resume_socket,
        layout.front_page,
        layout.gitignore,
        layout.entry_script,
        layout.resume_script,
    ):
        assert path.parent == layout.root
    assert layout.vscode_dir == tmp_path / ".vscode"
    assert layout.launch_json.parent == layout.settings_json.parent == layout.vscode_dir
    assert not layout.root.exists()


def test_relative_workspace_becomes_absolute() -> None:
    """A relative workspace is resolved against the current directory."""
    layout = StateLayout.for_workspace(Path("proj"))
    assert layout.workspace.is_absolute()
    assert layout.workspace.name == "proj"
