"""Which code-server executable :func:`~._ensure.ensure_installed` uses, and getting it.

:func:`obtain_executable` chooses the executable (explicit, then PATH, then the release
archive of the target arch) and fetches, concurrently, the archive and every ``.vsix``;
:func:`executable_version` reads the version the chosen executable reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .._errors import ConfigError, InstallError
from ._config import ENV_CODE_SERVER, Artifact, Sources

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .._ports import ArtifactStore, CommandRunner

__all__ = [
    "EXECUTABLE_NAME",
    "ChosenExecutable",
    "InstallSource",
    "executable_version",
    "obtain_executable",
]

EXECUTABLE_NAME = "code-server"
_VERSION_TIMEOUT = 60.0

InstallSource = Literal["env", "config", "path", "cache", "download"]
"""Where :func:`ensure_installed` found the executable (the order it tries them in)."""


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


def executable_version(executable: Path, runner: CommandRunner, runnable: bool) -> str:
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


@dataclass(frozen=True, slots=True)
class ChosenExecutable:
    """The code-server chosen: its path, where it came from, and the archive it came in;
    ``vsix_files`` are the extensions' files, fetched alongside (in ``sources`` order)."""

    path: Path
    source: InstallSource
    archive: Artifact | None
    vsix_files: list[Path]


def obtain_executable(
    sources: Sources, store: ArtifactStore, runnable: bool, which: Callable[[str], str | None]
) -> ChosenExecutable:
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
    return ChosenExecutable(executable, source, archive, vsix_files)


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
