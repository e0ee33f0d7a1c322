"""Resume reload: where a function lives, and importing it again from its edited source.

* :mod:`._target`: :class:`CallTarget`, said so that a fresh process (or a resume) finds it;
* :mod:`._reimport`: :func:`reload_function`, which re-imports the edited file.
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._reimport import reload_function
    from ._target import CallTarget, load_module_from_path, target_of

__all__ = ["CallTarget", "load_module_from_path", "reload_function", "target_of"]

__getattr__ = _lazy_getattr(
    __name__,
    {
        "reload_function": "._reimport",
        "CallTarget": "._target",
        "load_module_from_path": "._target",
        "target_of": "._target",
    },
)
