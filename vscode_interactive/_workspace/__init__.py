"""The workspace a session opens: the files generated for the user, and the one entry point.

:func:`prepare_workspace` (in :mod:`._prepare`) captures the call's inputs and writes the
session's files atomically; :func:`plan_landing` says beforehand, without capturing or
writing anything, where the IDE will land (so code-server can start meanwhile). Everything
they decide is done by pure renderers:

* :mod:`._capture`: the call's inputs, each pickled once, with previews;
* :mod:`._vscode` / :mod:`._jsonc`: launch configurations and settings, merged with the user's;
* :mod:`._scripts`: the entry (re-run) and resume scripts;
* :mod:`._front_page`: ``DEBUGGING.md`` and the line the IDE should open first;
* :mod:`._writer`: the one place that writes them.
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._front_page import SourceLocation
    from ._landing import WorkspaceLanding, plan_landing
    from ._prepare import WorkspaceFiles, prepare_workspace

__all__ = [
    "SourceLocation",
    "WorkspaceFiles",
    "WorkspaceLanding",
    "plan_landing",
    "prepare_workspace",
]

__getattr__ = _lazy_getattr(
    __name__,
    {
        "SourceLocation": "._front_page",
        "WorkspaceFiles": "._prepare",
        "WorkspaceLanding": "._landing",
        "plan_landing": "._landing",
        "prepare_workspace": "._prepare",
    },
)
