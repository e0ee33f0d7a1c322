"""Is everything installed already? The warm path of ``ensure_installed``, and nothing more.

:func:`installed_already` runs ``ensure_installed`` exactly as a session does (same config,
same cache, same environment), except that the cache is offline (a miss raises instead of
downloading) and the command runner refuses to start anything (installing an extension,
or asking a code-server without ``package.json`` its version, means "not warm"). So it
answers in a millisecond or two once the installer is imported, with no request and no
process, and whatever the session's install would do differently is by construction
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from .._ports import CommandResult, Environment
    from ._config import VscodeConfig

__all__ = ["installed_already"]


class _Refused(Exception):
    """The check would have had to start a command."""


class _NoCommands:
    """A :class:`~vscode_interactive.CommandRunner` that refuses every command."""

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        raise _Refused(argv[0] if argv else "")


class _Offline:
    """``env`` with ``$VSCODE_INTERACTIVE_OFFLINE=1``: the cache serves hits only."""

    def __init__(self, env: Environment) -> None:
        from ..cache._config import OFFLINE_ENV

        self._env = env
        self._name = OFFLINE_ENV

    def get(self, name: str) -> str | None:
        return "1" if name == self._name else self._env.get(name)

    def snapshot(self) -> dict[str, str]:
        return {**self._env.snapshot(), self._name: "1"}


def installed_already(vscode: VscodeConfig, cache_dir: str | None, env: Environment) -> bool:
    """Whether a session's install step (``vscode``, the cache at ``cache_dir`` or the
    default one, ``env``) would find code-server and every extension in place. Errors the
    install would raise (a bad pin, an unusable HOME) are raised."""
    from .._errors import NotCachedError
    from ..cache import Cache
    from ._ensure import ensure_installed

    offline = _Offline(env)
    cache = None if cache_dir is None else Cache(cache_dir, env=offline)
    try:
        ensure_installed(vscode, cache=cache, env=offline, runner=_NoCommands())
    except (NotCachedError, _Refused):
        return False
    return True
