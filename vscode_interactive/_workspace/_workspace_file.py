"""The ``.code-workspace`` file a session opens, so the user's ``.vscode/`` stays theirs.

VS Code reads ``launch`` and ``settings`` from a workspace file as well as from each
folder's ``.vscode/``; code-server opens such a file when it is its last command-line
argument (``/?workspace=<file>``). The session's file lives in the state directory and
names one folder, the user's workspace, so:

* our launch configurations appear in Run and Debug next to the user's own (those of
  ``.vscode/launch.json`` are listed with the folder's name);
* the user's ``.vscode/settings.json`` still applies as folder settings. In a workspace,
  VS Code takes only resource-scoped settings from a folder, so the user's settings are
  also repeated here (merged with ours by :func:`~._vscode.merge_settings`): their
  window-scoped ones (theme, ...) keep working too;
* nothing is written into the user's tree: ``git status`` shows only the user's edits.

Pure: text in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._vscode import LAUNCH_VERSION, dump_json, merge_settings

__all__ = ["render_workspace_file", "workspace_settings"]


def workspace_settings(user_settings: str | None, ours: Mapping[str, object]) -> dict[str, object]:
    """The user's ``.vscode/settings.json`` (JSONC text, ``None`` if absent) with ours merged in.

    Where the user's file cannot be parsed, only ours: VS Code reports the user's file itself.
    """
    result = merge_settings(user_settings, ours)
    if result.text is None:
        return dict(ours)
    value = json.loads(result.text)  # merge_settings' own JSON output: always an object
    return value if isinstance(value, dict) else dict(ours)


def render_workspace_file(
    *,
    folder: Path,
    configurations: Sequence[Mapping[str, object]],
    settings: Mapping[str, object],
) -> str:
    """The workspace file: ``folder`` (absolute), ``settings``, and ``configurations`` as its
    ``launch`` section."""
    return dump_json(
        {
            "folders": [{"path": str(folder)}],
            "settings": dict(settings),
            "launch": {
                "version": LAUNCH_VERSION,
                "configurations": [dict(item) for item in configurations],
            },
        }
    )
