"""Whether a session installs in the background, and what its child is told.

:func:`prefetch_wanted` decides from the option, ``run_task_first`` and
``$VSCODE_INTERACTIVE_PREFETCH``; :class:`PrefetchRequest` is what the child
(:mod:`._prefetch_child`) reads from ``$VSCODE_INTERACTIVE_PREFETCH_REQUEST``, and
:func:`child_argv` its command line. Pure: :mod:`._prefetch` does the starting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from .._errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from ._config import VscodeConfig

__all__ = ["ENV_PREFETCH", "ENV_REQUEST", "PrefetchRequest", "child_argv", "prefetch_wanted"]

#: ``0`` turns the background install off, ``1`` on (for ``run_task_first`` sessions).
ENV_PREFETCH = "VSCODE_INTERACTIVE_PREFETCH"
#: How the child learns what to install (JSON; removed from its environment at once).
ENV_REQUEST = "VSCODE_INTERACTIVE_PREFETCH_REQUEST"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def prefetch_wanted(option: bool | None, *, run_task_first: bool, env_value: str | None) -> bool:
    """Whether a session installs in the background while its function runs.

    Only with ``run_task_first`` (otherwise the install starts at once anyway).
    ``$VSCODE_INTERACTIVE_PREFETCH`` (``0``/``1``) wins over the option, and the option
    (None = default) over the default, which is on.
    """
    if not run_task_first:
        return False
    if env_value is not None and env_value.strip():
        lowered = env_value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(
            f"{ENV_PREFETCH}={env_value!r} is not a switch; use 1 (install code-server while "
            "the task runs) or 0 (only once it fails), or unset it"
        )
    return True if option is None else option


@dataclass(frozen=True, slots=True)
class PrefetchRequest:
    """What to install: the session's :class:`VscodeConfig` and its cache directory."""

    vscode: VscodeConfig
    cache_dir: str | None = None

    def to_json(self, parent: int) -> str:
        import json

        return json.dumps(
            {"parent": parent, "vscode": asdict(self.vscode), "cache": self.cache_dir}
        )


def child_argv(python: str, package_parent: Path) -> list[str]:
    """The child's command line: this interpreter, our package importable, no shell."""
    code = (
        f"import sys; sys.path.insert(0, {str(package_parent)!r}); "
        "from vscode_interactive._install._prefetch_child import main; sys.exit(main())"
    )
    return [python, "-c", code]
