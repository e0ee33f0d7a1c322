"""Where a session keeps its files: one place that every module asks.

A session has a *workspace* (the folder the IDE opens, normally the user's project) and a
*state directory* inside it, ``<workspace>/.vscode-interactive/``, that holds everything
the session generates and nothing the user wrote: captured inputs, the server log, the
password file, the resume channel. The state directory ignores itself for git.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "INTERACTIVE_DEBUGGING_FILE_NAME",
    "MAX_SOCKET_PATH_BYTES",
    "RESUME_ADDRESS_NAME",
    "RESUME_SOCKET_NAME",
    "RESUME_TASK_FILE_NAME",
    "STATE_DIR_NAME",
    "StateLayout",
    "fits_socket_address",
]

STATE_DIR_NAME = ".vscode-interactive"
# File names of the generated scripts (the reference library's names for the same files).
INTERACTIVE_DEBUGGING_FILE_NAME = "vscode_interactive_entrypoint.py"
RESUME_TASK_FILE_NAME = "vscode_interactive_resume_task.py"
#: The supervisor's resume/status socket in the state directory.
RESUME_SOCKET_NAME = "resume.sock"
#: Where the channel records its random abstract socket name when the path is too long.
RESUME_ADDRESS_NAME = "resume.address"

MAX_SOCKET_PATH_BYTES = 107
"""Longest path a Unix socket can be bound at: ``sun_path`` (108 bytes) minus its NUL."""


def fits_socket_address(path: Path | str) -> bool:
    """True when ``path`` can be bound as a Unix socket (at most 107 bytes, encoded)."""
    return len(os.fsencode(path)) <= MAX_SOCKET_PATH_BYTES


@dataclass(frozen=True, slots=True)
class StateLayout:
    """Paths of one session's files. Pure: computing a path creates nothing."""

    workspace: Path

    @classmethod
    def for_workspace(cls, workspace: Path | str) -> StateLayout:
        return cls(Path(workspace).absolute())

    @property
    def root(self) -> Path:
        """The state directory itself."""
        return self.workspace / STATE_DIR_NAME

    @property
    def gitignore(self) -> Path:
        return self.root / ".gitignore"

    @property
    def inputs(self) -> Path:
        """Pickled positional and keyword arguments of the captured call."""
        return self.root / "inputs.pkl"

    @property
    def session_info(self) -> Path:
        """JSON describing the live session (URL, pid, started, state) for ``status``."""
        return self.root / "session.json"

    @property
    def session_lock(self) -> Path:
        """Locked (``flock``) by the session that holds the workspace; holds its pid."""
        return self.root / "session.lock"

    @property
    def password_file(self) -> Path:
        """The generated code-server password, mode 0600."""
        return self.root / "password"

    @property
    def server_config(self) -> Path:
        """code-server's ``--config`` file: the password, read once at start (mode 0600)."""
        return self.root / "code-server.yaml"

    @property
    def server_log(self) -> Path:
        """code-server's stdout and stderr."""
        return self.root / "code-server.log"

    @property
    def editor_registry(self) -> Path:
        """code-server's ``--session-socket``: where IDE windows register their CLI socket."""
        return self.root / "code-server-ipc.sock"

    @property
    def resume_socket(self) -> Path:
        """Unix socket the supervisor listens on for resume requests."""
        return self.root / RESUME_SOCKET_NAME

    @property
    def resume_address_file(self) -> Path:
        """The channel's abstract socket name, when :attr:`resume_socket` is too long to bind."""
        return self.root / RESUME_ADDRESS_NAME

    @property
    def front_page(self) -> Path:
        """The Markdown page opened first in the IDE (what failed, what to do next)."""
        return self.root / "DEBUGGING.md"

    @property
    def workspace_file(self) -> Path:
        """The ``.code-workspace`` file code-server opens: the workspace folder, our launch
        configurations and settings. Named after the folder (VS Code shows its name)."""
        return self.root / f"{self.workspace.name or 'workspace'}.code-workspace"

    @property
    def traceback(self) -> Path:
        """The failure's traceback as plain text (absent when nothing failed)."""
        return self.root / "traceback.txt"

    @property
    def changes_patch(self) -> Path:
        """The edits of the latest session, as a patch; kept after the session ends."""
        return self.root / "changes.patch"

    def session_patch(self, session_id: str) -> Path:
        """The copy of one session's patch, kept beside the latest one."""
        return self.root / f"changes-{session_id}.patch"

    def edits_base(self, session_id: str) -> Path:
        """Start-of-session copies of the files the patch may need (removed at the end)."""
        return self.root / f".edits-base-{session_id}.pack"

    @property
    def vscode_dir(self) -> Path:
        """The user's ``.vscode`` folder: sessions only read it (``prepare_launch_json``, a
        reference helper, still merges into it)."""
        return self.workspace / ".vscode"

    @property
    def entry_script(self) -> Path:
        """Debug entry script: calls the function again with the captured inputs."""
        return self.root / INTERACTIVE_DEBUGGING_FILE_NAME

    @property
    def resume_script(self) -> Path:
        """Asks the supervisor, through its channel, to stop the IDE and resume the job."""
        return self.root / RESUME_TASK_FILE_NAME

    @property
    def launch_json(self) -> Path:
        return self.vscode_dir / "launch.json"

    @property
    def settings_json(self) -> Path:
        return self.vscode_dir / "settings.json"
