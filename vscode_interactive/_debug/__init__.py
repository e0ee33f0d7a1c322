"""Post-mortem debugging: the job keeps its failure alive for a debugger to inspect.

* :mod:`._postmortem`: :func:`open_post_mortem` starts a debugpy listener on loopback in
  the job process at failure time and stops every attaching client on the saved exception.

Importing this package imports nothing else: debugpy is loaded only when a failure is
shown, never by ``import vscode_interactive``.
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._postmortem import PostMortem, open_post_mortem

__all__ = ["PostMortem", "open_post_mortem"]

__getattr__ = _lazy_getattr(
    __name__,
    {"PostMortem": "._postmortem", "open_post_mortem": "._postmortem"},
)
