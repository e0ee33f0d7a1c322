"""Getting the wanted extensions into the extensions directory, for
:func:`~._ensure.ensure_installed`.

Each fetched ``.vsix`` is known by its identity (read once, then remembered by sha256 in
an on-disk memo); the library's own extension is added when configured. What the
extensions directory lacks (compared by identity, see :mod:`._extensions`) is installed
with one ``code-server --install-extension`` call under a file lock, then checked. For
another arch's code-server nothing is run: the missing extensions are only named.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .._errors import InstallError
from .._system._files import temp_path_beside
from ._extensions import (
    ExtensionIdentity,
    install_argv,
    load_identity_memo,
    missing_extensions,
    read_installed,
    read_vsix_identity,
    save_identity_memo,
)

if TYPE_CHECKING:
    from pathlib import Path

    from .._ports import CommandRunner, Environment
    from ._arch import Arch
    from ._config import Artifact
    from ._locations import Locations

__all__ = ["install_wanted", "vsix_identities"]

logger = logging.getLogger("vscode_interactive.install")

_INSTALL_TIMEOUT = 900.0


def vsix_identities(
    seen: tuple[Artifact, ...], vsix_files: list[Path], memo_path: Path
) -> list[tuple[ExtensionIdentity, Path]]:
    """Each ``.vsix``'s identity, from the on-disk memo when its sha256 is known there."""
    memo = load_identity_memo(memo_path) if seen else {}
    wanted = []
    learned = False
    for item, vsix in zip(seen, vsix_files, strict=True):
        identity = memo.get(item.sha256) if item.sha256 else None
        if identity is None:
            identity = read_vsix_identity(vsix, url=item.url)
            if item.sha256:
                memo[item.sha256] = identity
                learned = True
        wanted.append((identity, vsix))
    if learned:
        save_identity_memo(memo_path, memo)
    return wanted


def _vsix_named(vsix: Path, identity: ExtensionIdentity, staging: Path) -> Path:
    """A path ending in ``.vsix`` for ``vsix`` (code-server treats other args as ids)."""
    if vsix.suffix.lower() == ".vsix":
        return vsix
    staging.mkdir(parents=True, exist_ok=True)
    link = staging / f"{identity.id}-{identity.version}.vsix"
    temporary = temp_path_beside(link)
    temporary.symlink_to(vsix)
    temporary.replace(link)
    return link


def _install_extensions(
    executable: Path,
    missing: list[tuple[ExtensionIdentity, Path]],
    locations: Locations,
    runner: CommandRunner,
    env: Environment,
) -> None:
    """One ``code-server --install-extension ...`` call, then check it really installed."""
    import filelock  # deferred: only needed when something is missing

    lock = filelock.FileLock(str(locations.data_dir / "install.lock"))
    with lock:
        # Another process may have installed them while we waited for the lock.
        missing = missing_extensions(missing, read_installed(locations.extensions_dir))
        if not missing:
            return
        staging = locations.data_dir / "vsix"
        argv = install_argv(
            executable,
            [_vsix_named(vsix, identity, staging) for identity, vsix in missing],
            extensions_dir=locations.extensions_dir,
            user_data_dir=locations.user_data_dir,
        )
        names = ", ".join(f"{identity.id}@{identity.version}" for identity, _ in missing)
        logger.info("installing %s into %s", names, locations.extensions_dir)
        child_env = {**env.snapshot(), **locations.child_env}
        try:
            result = runner.run(argv, env=child_env, timeout=_INSTALL_TIMEOUT)
        except OSError as error:
            raise InstallError(f"cannot run {executable}: {error}") from error
        still = missing_extensions(missing, read_installed(locations.extensions_dir))
        if result.returncode != 0 or still:
            failed = ", ".join(f"{identity.id}@{identity.version}" for identity, _ in still)
            raise InstallError(
                f"code-server could not install {failed or names} into "
                f"{locations.extensions_dir} (exit code {result.returncode}); its output:\n"
                f"{result.output or '(none)'}",
                output=result.output,
            )


def _own_extension(locations: Locations) -> tuple[ExtensionIdentity, Path]:
    """The library's own extension: its identity (a hash of a few small files, well under a
    millisecond) and where its ``.vsix`` goes; the zip is written only when it is missing."""
    from .._extension._pack import own_extension

    own = own_extension()
    return ExtensionIdentity(own.id, own.version), locations.data_dir / "vsix" / own.file_name


def _write_own_extension(vsix: Path) -> None:
    from .._extension._pack import own_extension, write_vsix

    write_vsix(own_extension(), vsix.parent)


def _defer_extensions(
    missing: list[tuple[ExtensionIdentity, Path]], target: Arch, host: Arch
) -> tuple[str, ...]:
    """Extensions fetched for another arch's code-server: named, logged, not installed."""
    pending = tuple(f"{identity.id}@{identity.version}" for identity, _ in missing)
    logger.warning(
        "not installing %s: the %s code-server cannot run on this %s machine; they are "
        "cached and will be installed on first use there",
        ", ".join(pending),
        target.value,
        host.value,
    )
    return pending


def install_wanted(
    executable: Path,
    wanted: list[tuple[ExtensionIdentity, Path]],
    *,
    own: bool,
    locations: Locations,
    runner: CommandRunner,
    env: Environment,
    target: Arch,
    host: Arch,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Install what of ``wanted`` (and of our own extension when ``own``) is missing, with
    one call; for another arch's code-server (``target`` is not ``host``) only name it.

    Returns the ids of the wanted extensions now in place and the pending
    ``id@version`` (installed on first use on ``target``).
    """
    own_item = _own_extension(locations) if own else None
    if own_item is not None:
        wanted = [*wanted, own_item]
    runnable = target is host
    missing = missing_extensions(wanted, read_installed(locations.extensions_dir))
    if own_item is not None and runnable and own_item in missing:
        _write_own_extension(own_item[1])
    pending: tuple[str, ...] = ()
    if missing and runnable:
        _install_extensions(executable, missing, locations, runner, env)
    elif missing:
        pending = _defer_extensions(missing, target, host)
    not_installed = {identity.key for identity, _ in missing} if pending else set()
    installed = tuple(identity.id for identity, _ in wanted if identity.key not in not_installed)
    return installed, pending
