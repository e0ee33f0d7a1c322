"""Make code-server and the configured extensions available: :func:`ensure_installed`.

Order of sources for the executable (the first that applies wins):

1. an explicit executable: ``$VSCODE_INTERACTIVE_CODE_SERVER``, then
   ``VscodeConfig.code_server_path``;
2. ``code-server`` on PATH;
3. the release archive already in the artifact cache;
4. the release archive downloaded through the cache (pinned hash verified; an unpinned URL
   is trusted on first use).

The archive and every ``.vsix`` are fetched concurrently (:mod:`._executable`). Extensions
are compared with the extensions directory by identity (see :mod:`._extensions`) and all
missing ones are installed with one ``code-server`` call (:mod:`._extension_install`). When
everything is present nothing is downloaded and code-server is not started.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .._ports import ArtifactStore, CommandRunner, Environment
from ._arch import Arch, current_arch, parse_arch
from ._config import Artifact, VscodeConfig, resolve_sources
from ._executable import EXECUTABLE_NAME, InstallSource, executable_version, obtain_executable
from ._extension_install import install_wanted, vsix_identities
from ._locations import Locations, resolve_locations, which_in

__all__ = [
    "EXECUTABLE_NAME",
    "InstallSource",
    "Installation",
    "default_store",
    "ensure_installed",
]


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


def _seen(store: ArtifactStore, item: Artifact) -> Artifact:
    return Artifact(item.url, item.sha256 or store.recorded_sha256(item.url))


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

    chosen = obtain_executable(sources, store, runnable, which or which_in(env))
    version = executable_version(chosen.path, runner, runnable)
    seen = tuple(_seen(store, item) for item in sources.extensions)
    wanted = vsix_identities(seen, chosen.vsix_files, locations.data_dir / "vsix-identities.json")
    installed, pending = install_wanted(
        chosen.path,
        wanted,
        own=sources.own_extension,
        locations=locations,
        runner=runner,
        env=env,
        target=target,
        host=host,
    )
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
        installed_extensions=installed,
        pending_extensions=pending,
    )
