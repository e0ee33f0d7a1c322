"""Make code-server and the configured extensions available: :func:`ensure_installed`.

Order of sources for the executable (the first that applies wins):

1. an explicit executable: ``$VSCODE_INTERACTIVE_CODE_SERVER``, then
   ``VscodeConfig.code_server_path``;
2. ``code-server`` on PATH;
3. the release archive already in the artifact cache;
4. the release archive downloaded through the cache (pinned hash verified; an unpinned URL
   is trusted on first use).

The archive and every ``.vsix`` are fetched concurrently. Extensions are compared with the
extensions directory by identity (see :mod:`._extensions`) and all missing ones are
installed with one ``code-server`` call. When everything is present nothing is downloaded
and code-server is not started.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .._errors import ConfigError, InstallError
from .._ports import ArtifactStore, CommandRunner, Environment
from .._system._files import temp_path_beside
from ._arch import Arch, current_arch, parse_arch
from ._config import ENV_CODE_SERVER, Artifact, Sources, VscodeConfig, resolve_sources
from ._extensions import (
    ExtensionIdentity,
    install_argv,
    load_identity_memo,
    missing_extensions,
    read_installed,
    read_vsix_identity,
    save_identity_memo,
)
from ._locations import Locations, resolve_locations, which_in

__all__ = [
    "EXECUTABLE_NAME",
    "InstallSource",
    "Installation",
    "default_store",
    "ensure_installed",
]

if TYPE_CHECKING:
    from concurrent.futures import Future

logger = logging.getLogger("vscode_interactive.install")

EXECUTABLE_NAME = "code-server"
_INSTALL_TIMEOUT = 900.0
_VERSION_TIMEOUT = 60.0


InstallSource = Literal["env", "config", "path", "cache", "download"]
"""Where :func:`ensure_installed` found the executable (the order it tries them in)."""


@dataclass(frozen=True, slots=True)
class Installation:
    """A usable code-server and where its state lives.

    ``source`` says where the executable came from: ``"env"``, ``"config"``, ``"path"``,
    ``"cache"`` or ``"download"``. ``env`` holds variables every code-server child must get
    on top of the inherited environment (HOME/XDG_* when HOME is unusable; empty otherwise).
    ``archive`` and ``extensions`` carry the URLs used with the sha256 seen for each, ready
    to be pinned. ``pending_extensions`` lists extensions fetched but not installed because
    the executable was built for another arch.
    """

    executable: Path
    version: str
    user_data_dir: Path
    extensions_dir: Path
    source: InstallSource
    arch: Arch
    heartbeat_path: Path
    env: dict[str, str] = field(default_factory=dict)
    archive: Artifact | None = None
    extensions: tuple[Artifact, ...] = ()
    installed_extensions: tuple[str, ...] = ()
    pending_extensions: tuple[str, ...] = ()

    @property
    def pins(self) -> dict[str, str]:
        """URL -> sha256 of every artifact used (for pinning them in a config)."""
        items = ((self.archive,) if self.archive else ()) + self.extensions
        return {item.url: item.sha256 for item in items if item.sha256}


def default_store(env: Environment, locations: Locations) -> ArtifactStore:
    """The artifact cache, moved beside our data when HOME is unusable."""
    from ..cache import Cache  # deferred: the cache pulls in filelock and friends

    root: Path | None = None
    if locations.fallback_dir is not None and not env.get("VSCODE_INTERACTIVE_CACHE"):
        root = locations.fallback_dir / "cache"
    return Cache(root, env=env)


def _check_executable(path: Path, origin: str) -> Path:
    where = f"{ENV_CODE_SERVER}={path}" if origin == "env" else f"code_server_path={path!s}"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ConfigError(
            f"{where} is not an executable file; point it at code-server's bin/code-server, "
            "or unset it to download code-server"
        )
    return path.absolute()


def _package_version(start: Path) -> str | None:
    """``version`` from code-server's ``package.json`` at or above ``start`` (3 levels)."""
    for directory in (start, *list(start.parents)[:2]):
        try:
            manifest = json.loads((directory / "package.json").read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("name") in (None, EXECUTABLE_NAME):
            version = manifest.get("version")
            if isinstance(version, str) and version:
                return version
    return None


def _executable_version(executable: Path, runner: CommandRunner, runnable: bool) -> str:
    """From the release's ``package.json`` when present; else ``code-server --version``."""
    version = _package_version(executable.resolve().parent.parent)
    if version is not None or not runnable:
        return version or "unknown"
    try:
        result = runner.run([str(executable), "--version"], timeout=_VERSION_TIMEOUT)
    except OSError as error:
        raise InstallError(f"cannot run {executable} --version: {error}") from error
    words = result.stdout.split()
    if result.returncode != 0 or not words:
        raise InstallError(
            f"{executable} --version failed (exit code {result.returncode}); is it code-server?",
            output=result.output,
        )
    return words[0]


def _release_root(extracted: Path, dir_name: str | None, url: str) -> Path:
    """The directory holding ``bin/code-server`` inside an extracted release archive."""
    if dir_name is not None:
        root = extracted / dir_name
        if (root / "bin" / EXECUTABLE_NAME).is_file():
            return root
    elif (extracted / "bin" / EXECUTABLE_NAME).is_file():
        return extracted
    else:
        candidates = [
            child
            for child in sorted(extracted.iterdir())
            if (child / "bin" / EXECUTABLE_NAME).is_file()
        ]
        if len(candidates) == 1:
            return candidates[0]
    found = ", ".join(sorted(child.name for child in extracted.iterdir())) or "nothing"
    expected = f"{dir_name}/bin/{EXECUTABLE_NAME}" if dir_name else f"*/bin/{EXECUTABLE_NAME}"
    raise InstallError(
        f"the archive {url} has no {expected} (its top level holds: {found}); check the URL "
        "or VscodeConfig.code_server_dir_names"
    )


def _fetch_all(
    store: ArtifactStore, archive: Artifact | None, extensions: tuple[Artifact, ...]
) -> tuple[Path | None, list[Path]]:
    """Fetch the archive and every ``.vsix`` at once; raise the first failure, archive first."""
    if archive is None and not extensions:
        return None, []
    from concurrent.futures import ThreadPoolExecutor  # deferred: keeps import time low

    with ThreadPoolExecutor(max_workers=len(extensions) + 1) as pool:
        archive_job: Future[Path] | None = None
        if archive is not None:
            archive_job = pool.submit(store.fetch_archive, archive.url, archive.sha256)
        jobs = [pool.submit(store.fetch, item.url, item.sha256) for item in extensions]
    # Leaving the block waited for every job, so result() never blocks here.
    extracted = archive_job.result() if archive_job is not None else None
    return extracted, [job.result() for job in jobs]


def _seen(store: ArtifactStore, item: Artifact) -> Artifact:
    return Artifact(item.url, item.sha256 or store.recorded_sha256(item.url))


def _identities(
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


@dataclass(frozen=True, slots=True)
class _Executable:
    """The code-server chosen: its path, where it came from, and the archive it came in."""

    path: Path
    source: InstallSource
    archive: Artifact | None
    vsix_files: list[Path]


def _obtain_executable(
    sources: Sources, store: ArtifactStore, runnable: bool, which: Callable[[str], str | None]
) -> _Executable:
    """Choose the executable and fetch (concurrently) what it and the extensions need."""
    executable, source, archive = _choose_executable(sources, runnable, which)
    if archive is not None and store.contains(archive.url, archive.sha256):
        source = "cache"
    extracted, vsix_files = _fetch_all(store, archive, sources.extensions)
    if extracted is not None and archive is not None:
        root = _release_root(extracted, sources.dir_name, archive.url)
        executable = root / "bin" / EXECUTABLE_NAME
        if not os.access(executable, os.X_OK):
            raise InstallError(
                f"{executable} from {archive.url} is not executable; the archive is damaged"
            )
    if executable is None:  # pragma: no cover - _choose_executable gives one or the other
        raise InstallError("internal error: neither an executable nor an archive was chosen")
    return _Executable(executable, source, archive, vsix_files)


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


def ensure_installed(
    config: VscodeConfig | None = None,
    *,
    cache: ArtifactStore | None = None,
    env: Environment | None = None,
    runner: CommandRunner | None = None,
    arch: Arch | str | None = None,
    data_dir: Path | str | None = None,
    which: Callable[[str], str | None] | None = None,
) -> Installation:
    """Make sure code-server and the configured extensions are installed; say where.

    ``arch`` other than this machine's fetches that arch's archive and the extensions (for
    baking an image) without running anything: explicit and PATH executables are skipped,
    and the extensions are left in ``Installation.pending_extensions``. ``cache``, ``env``
    and ``runner`` are the seams (:class:`~vscode_interactive.ArtifactStore`,
    :class:`~vscode_interactive.Environment`, :class:`~vscode_interactive.CommandRunner`);
    the real ones are used when they are not given.
    """
    from .._system._os import OsEnvironment
    from .._system._processes import SubprocessRunner

    config = config if config is not None else VscodeConfig()
    env = env if env is not None else OsEnvironment()
    runner = runner if runner is not None else SubprocessRunner()
    host = current_arch()
    target = host if arch is None else (arch if isinstance(arch, Arch) else parse_arch(arch))
    runnable = target is host
    sources = resolve_sources(config, env, target)
    locations = resolve_locations(env, data_dir)
    store = cache if cache is not None else default_store(env, locations)

    chosen = _obtain_executable(sources, store, runnable, which or which_in(env))
    version = _executable_version(chosen.path, runner, runnable)
    seen = tuple(_seen(store, item) for item in sources.extensions)
    wanted = _identities(seen, chosen.vsix_files, locations.data_dir / "vsix-identities.json")
    own = _own_extension(locations) if sources.own_extension else None
    if own is not None:
        wanted.append(own)
    missing = missing_extensions(wanted, read_installed(locations.extensions_dir))
    if own is not None and runnable and own in missing:
        _write_own_extension(own[1])
    pending: tuple[str, ...] = ()
    if missing and runnable:
        _install_extensions(chosen.path, missing, locations, runner, env)
    elif missing:
        pending = _defer_extensions(missing, target, host)
    not_installed = {identity.key for identity, _ in missing} if pending else set()
    return Installation(
        executable=chosen.path,
        version=version,
        user_data_dir=locations.user_data_dir,
        extensions_dir=locations.extensions_dir,
        source=chosen.source,
        arch=target,
        heartbeat_path=locations.heartbeat_path,
        env=dict(locations.child_env),
        archive=_seen(store, chosen.archive) if chosen.archive is not None else None,
        extensions=seen,
        installed_extensions=tuple(
            identity.id for identity, _ in wanted if identity.key not in not_installed
        ),
        pending_extensions=pending,
    )


def _choose_executable(
    sources: Sources, runnable: bool, which: Callable[[str], str | None]
) -> tuple[Path | None, InstallSource, Artifact | None]:
    """(executable, source, archive to fetch): explicit, then PATH, then the archive."""
    if runnable and sources.executable is not None:
        origin = sources.executable_origin or "config"
        return _check_executable(sources.executable, origin), origin, None
    if runnable:
        found = which(EXECUTABLE_NAME)
        if found:
            return Path(found).absolute(), "path", None
    return None, "download", sources.require_archive()
