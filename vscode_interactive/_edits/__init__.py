"""The record of what a user edits during a session, and where it is saved.

Nothing typed in the IDE is lost: at the start a session notes the workspace (git's view,
or sizes, times and copies of small files); at every end it writes
``.vscode-interactive/changes.patch``, a patch ``git apply``/``patch -p1`` applies to the
original tree, and saves it (with the front page, the traceback and, if asked, the inputs)
under ``save_to``.

* :mod:`._tree`: reading the workspace (no links followed, large files never read);
* :mod:`._git`: git through the :class:`~vscode_interactive._ports.BytesCommandRunner` port;
* :mod:`._snapshot`: the start, and the changes since (pure comparisons, one base pack);
* :mod:`._patch`: the pure patch renderer;
* :mod:`._save`: the session's folder under ``save_to``, uploads that never fail a job;
* :mod:`._record`: :class:`EditRecord`, what a session composes.
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._record import ENV_SAVE_TO, EditRecord

__all__ = ["ENV_SAVE_TO", "EditRecord"]

__getattr__ = _lazy_getattr(__name__, {"ENV_SAVE_TO": "._record", "EditRecord": "._record"})
