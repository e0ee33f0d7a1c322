"""Session file layout: every generated file lives in one state directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vscode_interactive import ResumeError
from vscode_interactive._layout import (
    MAX_SOCKET_PATH_BYTES,
    STATE_DIR_NAME,
    StateLayout,
    fits_socket_address,
)
from vscode_interactive._supervision._channel import channel_address


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
        layout.workspace_file,
        layout.traceback,
        layout.changes_patch,
        layout.session_patch("20250101T000000Z-abc123"),
        layout.edits_base("20250101T000000Z-abc123"),
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


def test_socket_paths_are_limited_in_encoded_bytes() -> None:
    """A Unix socket path fits when its encoded form has at most 107 bytes (not characters)."""
    assert fits_socket_address("/" + "a" * (MAX_SOCKET_PATH_BYTES - 1))
    assert not fits_socket_address("/" + "a" * MAX_SOCKET_PATH_BYTES)
    two_byte = "é" * ((MAX_SOCKET_PATH_BYTES - 1) // 2 + 1)  # fewer characters, too many bytes
    assert len("/" + two_byte) <= MAX_SOCKET_PATH_BYTES
    assert not fits_socket_address("/" + two_byte)


def test_the_channel_listens_where_the_layout_names_the_resume_socket(tmp_path: Path) -> None:
    """The resume channel's address is the layout's resume socket while it fits; beyond
    107 bytes clients read the abstract name the server recorded."""
    layout = StateLayout.for_workspace(tmp_path.resolve())
    assert channel_address(layout.root) == str(layout.resume_socket)
    room = MAX_SOCKET_PATH_BYTES - len(os.fsencode(layout.resume_socket))
    exact = StateLayout.for_workspace(tmp_path.resolve() / ("d" * (room - 1)))
    assert len(os.fsencode(exact.resume_socket)) == MAX_SOCKET_PATH_BYTES
    assert channel_address(exact.root) == str(exact.resume_socket)
    over = StateLayout.for_workspace(tmp_path.resolve() / ("d" * room))
    with pytest.raises(ResumeError, match="no abstract socket name is recorded"):
        channel_address(over.root)  # the server picks a random name and records it
