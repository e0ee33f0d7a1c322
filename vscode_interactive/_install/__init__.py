"""Installation: where code-server and the extensions come from, and making them available.

* :mod:`._arch`: ``(system, machine)`` -> :class:`Arch` (pure);
* :mod:`._config`: :class:`VscodeConfig` and the ``VSCODE_INTERACTIVE_*`` overrides -> sources;
* :mod:`._locations`: data, user-data and extensions directories; the HOME fallback;
* :mod:`._extensions`: ``.vsix`` identity and ``extensions.json`` -> what is missing (pure);
* :mod:`._ensure`: :func:`ensure_installed`, explicit -> PATH -> cache -> download;
* :mod:`._executable`: which executable, the archive and ``.vsix`` fetched concurrently;
* :mod:`._extension_install`: identities of the fetched ``.vsix``, the one install call;
* :mod:`._warm`: :func:`installed_already`, the warm path of ``ensure_installed`` only;
* :mod:`._prefetch`: :class:`Prefetch`, the background install of a ``run_task_first``
  session (:mod:`._prefetch_request`: whether, and what the child is told;
  :mod:`._prefetch_seams`: its effects; :mod:`._prefetch_exit`: the exit hook;
  :mod:`._prefetch_child`: the child program).
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._arch import Arch, current_arch
    from ._config import VscodeConfig
    from ._ensure import Installation, ensure_installed

__all__ = ["Arch", "Installation", "VscodeConfig", "current_arch", "ensure_installed"]

__getattr__ = _lazy_getattr(
    __name__,
    {
        "Arch": "._arch",
        "current_arch": "._arch",
        "VscodeConfig": "._config",
        "Installation": "._ensure",
        "ensure_installed": "._ensure",
    },
)
