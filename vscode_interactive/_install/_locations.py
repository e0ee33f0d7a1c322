"""Where installed extensions and code-server's own files live, even without a usable HOME.

By default everything goes under the XDG data directory (``$XDG_DATA_HOME`` or
``~/.local/share``, the directory ``platformdirs.user_data_dir`` names on Linux):
``vscode-interactive/extensions`` and ``vscode-interactive/user-data``. code-server itself
also writes ``~/.config/code-server`` and ``~/.local/share/code-server`` whatever
``--user-data-dir`` says, and dies with ``EACCES: permission denied, mkdir '/.config'`` in
containers whose HOME is ``/`` or read-only. When HOME (or the XDG directories) is unset,
does not exist (it is never created: ``HOME=/nonexistent`` means "no home") or is not
writable we say so and fall back to ``<tmp>/vscode-interactive-<uid>``, and return
HOME/XDG variables that every code-server child must get. That directory is used only if
it is a real directory of ours that nobody else can write (another user could have
created it first, with a ``.bashrc`` that the IDE's terminal would run); otherwise a fresh
private one (``mkdtemp``, 0700) is made for this run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import InstallError
from .._ports import Environment

__all__ = [
    "APP_NAME",
    "ENV_DATA_DIR",
    "Locations",
    "code_server_heartbeat_path",
    "resolve_locations",
    "which_in",
]

logger = logging.getLogger("vscode_interactive.install")

APP_NAME = "vscode-interactive"
ENV_DATA_DIR = "VSCODE_INTERACTIVE_DATA_DIR"


@dataclass(frozen=True, slots=True)
class Locations:
    """Directories for one installation, and the environment code-server children need.

    ``child_env`` is empty when HOME is usable; otherwise it holds HOME and XDG_* overrides
    pointing into ``fallback_dir``, and ``fallback_reason`` says why.
    """

    data_dir: Path
    user_data_dir: Path
    extensions_dir: Path
    heartbeat_path: Path
    child_env: dict[str, str] = field(default_factory=dict)
    fallback_reason: str | None = None
    fallback_dir: Path | None = None


def code_server_heartbeat_path(env: Mapping[str, str] | Environment, cwd: Path) -> Path:
    """Where a code-server started with environment ``env`` in directory ``cwd`` writes its
    heartbeat: ``<data home>/code-server/heartbeat``.

    This follows code-server, not the XDG rule: code-server (its ``env-paths``
    dependency, on Linux) takes ``$XDG_DATA_HOME`` whenever it is set and non-empty, a
    relative value included, which then names a directory under code-server's working
    directory; otherwise ``$HOME/.local/share``, and with HOME unset or empty the
    account's home directory (Node's ``os.homedir()``). Our own directories
    (:func:`resolve_locations`) do follow the XDG rule and ignore a relative value.
    """
    data_home = env.get("XDG_DATA_HOME")
    if data_home:
        base = cwd / data_home  # an absolute value stays as it is
    else:
        base = Path(env.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir) / ".local" / "share"
    return base / "code-server" / "heartbeat"


def _xdg_dir(env: Environment, variable: str, home: str | None, default: str) -> Path | None:
    """``$variable`` when it is an absolute path (the XDG rule), else ``$HOME/default``
    when HOME is an existing directory (a missing HOME is never created)."""
    value = env.get(variable)
    if value and Path(value).is_absolute():
        return Path(value)
    if home and Path(home).is_absolute() and Path(home).is_dir():
        return Path(home) / default
    return None


def _home_problem(home: str | None) -> str:
    """Why HOME cannot hold code-server's directories (it is unset, relative or missing)."""
    if not home:
        return "HOME is not set"
    if not Path(home).is_absolute():
        return f"HOME={home!r} is not an absolute path"
    return f"HOME={home!r} does not exist (or is not a directory)"


def _writable_dir(path: Path) -> bool:
    """Create ``path`` if needed; True when we can create files in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _ours_and_private(path: Path) -> bool:
    """A real directory (not a symlink) owned by us that nobody else can write."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _fallback_in(directory: Path) -> Path | None:
    """``<directory>/vscode-interactive-<uid>`` if it is ours and private (or we make it);
    otherwise a fresh private directory beside it; None if ``directory`` is unusable."""
    name = f"{APP_NAME}-{os.getuid()}"
    fixed = directory / name
    with contextlib.suppress(OSError):
        fixed.mkdir(mode=0o700)
    if _ours_and_private(fixed):
        with contextlib.suppress(OSError):
            fixed.chmod(0o700)
        if os.access(fixed, os.W_OK | os.X_OK):
            return fixed
    elif fixed.exists() or fixed.is_symlink():
        logger.warning(
            "%s is not a private directory of this user (a symlink, another owner, or "
            "writable by others); using a fresh private one instead",
            fixed,
        )
    try:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=directory))  # mode 0700
    except OSError:
        return None


def _fallback_base(env: Environment) -> Path:
    candidates = [env.get("TMPDIR") or "", tempfile.gettempdir()]
    for candidate in candidates:
        if candidate and Path(candidate).is_absolute() and _writable_dir(Path(candidate)):
            found = _fallback_in(Path(candidate))
            if found is not None:
                return found
    raise InstallError(
        f"HOME is not usable and no temporary directory is writable (tried "
        f"{', '.join(repr(c) for c in candidates if c)}); set HOME or TMPDIR to a writable "
        "directory"
    )


def resolve_locations(env: Environment, data_dir: Path | str | None = None) -> Locations:
    """Pick (and create) the data, user-data and extensions directories.

    ``data_dir`` (else ``$VSCODE_INTERACTIVE_DATA_DIR``) overrides where our data goes;
    HOME is still checked because code-server writes there on its own. Raises
    :class:`InstallError` when nothing is writable.
    """
    home = env.get("HOME")
    config_home = _xdg_dir(env, "XDG_CONFIG_HOME", home, ".config")
    data_home = _xdg_dir(env, "XDG_DATA_HOME", home, ".local/share")
    child_env: dict[str, str] = {}
    reason: str | None = None
    base: Path | None = None
    if config_home is None or data_home is None:
        reason = _home_problem(home)
    elif not (_writable_dir(config_home) and _writable_dir(data_home)):
        reason = f"{config_home} or {data_home} cannot be created or written (HOME={home!r})"
    if reason is not None or config_home is None or data_home is None:
        base = _fallback_base(env)
        fake_home = base / "home"
        config_home = fake_home / ".config"
        data_home = fake_home / ".local" / "share"
        child_env = {
            "HOME": str(fake_home),
            "XDG_CONFIG_HOME": str(config_home),
            "XDG_DATA_HOME": str(data_home),
            "XDG_CACHE_HOME": str(fake_home / ".cache"),
        }
        for directory in (config_home, data_home, fake_home / ".cache"):
            _writable_dir(directory)
        logger.warning(
            "%s; using %s instead for code-server's settings and data (HOME and XDG_* are "
            "set to it for code-server). Set HOME to a writable directory to keep them.",
            reason,
            base,
        )
        default_data = base / "data"
    else:
        default_data = data_home / APP_NAME
    if data_dir is None and env.get(ENV_DATA_DIR):
        data_dir = env.get(ENV_DATA_DIR)
    root = Path(data_dir) if data_dir is not None else default_data
    locations = Locations(
        data_dir=root,
        user_data_dir=root / "user-data",
        extensions_dir=root / "extensions",
        heartbeat_path=code_server_heartbeat_path({**env.snapshot(), **child_env}, Path.cwd()),
        child_env=child_env,
        fallback_reason=reason,
        fallback_dir=base,
    )
    for directory in (locations.user_data_dir, locations.extensions_dir):
        if not _writable_dir(directory):
            raise InstallError(
                f"cannot create or write {directory}; pass a writable data_dir or fix its "
                "permissions"
            )
    return locations


def which_in(env: Environment) -> Callable[[str], str | None]:
    """A ``shutil.which`` that searches the PATH of ``env`` (not of this process)."""
    path = env.get("PATH") or os.defpath

    def which(name: str) -> str | None:
        return shutil.which(name, path=path)

    return which
