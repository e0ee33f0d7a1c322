"""The reference's installer helpers, kept by name with their documented behaviour.

Code written against the reference keeps working; each helper now goes through the
artifact cache and reads ``extensions.json`` instead of starting code-server:

* :func:`get_installed_extensions` - ids of the extensions installed in the default
  extensions directory (the reference ran ``code-server --list-extensions``).
* :func:`is_extension_installed` - whether an extension (URL, ``.vsix`` path or id) is in
  such a list, by identity rather than by substring.
* :func:`download_file` - a URL's bytes as a file in ``target_dir``; returns its path.
* :func:`download_vscode` - :func:`~vscode_interactive.ensure_installed`, then put the
  executable's directory first on this process's PATH, as the reference did.

``DOWNLOAD_DIR`` is the reference's download directory (``<tmp>/code-server``); downloads
themselves now live in the artifact cache, and it is only the default ``target_dir`` of
:func:`download_file`. ``HEARTBEAT_PATH`` is where code-server writes its heartbeat:
``$XDG_DATA_HOME/code-server/heartbeat``, by default ``~/.local/share/code-server/heartbeat``
(see :func:`~vscode_interactive._install._locations.code_server_heartbeat_path`; when HOME
is unusable, ``Installation.heartbeat_path`` names the fallback's).
"""

from __future__ import annotations

import os
import tempfile
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .._install._config import VscodeConfig
from .._install._ensure import default_store, ensure_installed
from .._install._executable import EXECUTABLE_NAME
from .._install._extensions import (
    ExtensionIdentity,
    identity_from_name,
    installed_identities,
    read_vsix_identity,
)
from .._install._locations import code_server_heartbeat_path, resolve_locations
from .._ports import ArtifactStore, Environment
from .._system._files import write_atomic

__all__ = [
    "DOWNLOAD_DIR",
    "EXECUTABLE_NAME",
    "HEARTBEAT_PATH",
    "download_file",
    "download_vscode",
    "get_installed_extensions",
    "is_extension_installed",
]


_COPY_CHUNK = 1 << 20
DOWNLOAD_DIR = str(Path(tempfile.gettempdir()) / "code-server")
# Computed once at import for this reference constant, from this process's environment
# and directory (a code-server it starts inherits both); our own modules read the
# environment only through the Environment port.
HEARTBEAT_PATH = str(code_server_heartbeat_path(os.environ, Path.cwd()))


def get_installed_extensions(
    extensions_dir: Path | str | None = None, *, env: Environment | None = None
) -> list[str]:
    """Ids (``publisher.name``) of the installed extensions, as code-server lists them.

    Reads ``extensions.json`` of ``extensions_dir`` (default: the directory
    :func:`~vscode_interactive.ensure_installed` installs into) without starting
    code-server. Nothing installed gives ``[]``.
    """
    if extensions_dir is None:
        from .._system._os import OsEnvironment  # deferred: keeps `import vscode_interactive` light

        extensions_dir = resolve_locations(env or OsEnvironment()).extensions_dir
    return [identity.id for identity in installed_identities(Path(extensions_dir))]


def _identity(extension: str) -> ExtensionIdentity | None:
    path = Path(extension)
    if "://" not in extension and path.suffix.lower() == ".vsix" and path.is_file():
        return read_vsix_identity(path)
    return identity_from_name(extension)


def is_extension_installed(extension: str, installed: list[str]) -> bool:
    """True when ``extension`` is among ``installed`` (as from
    :func:`get_installed_extensions`).

    ``extension`` is a ``.vsix`` URL or file name (``publisher.name-1.2.3.vsix``), a local
    ``.vsix`` file, or an id; ids compare case-insensitively. When both sides carry a
    version (``publisher.name@1.2.3`` in ``installed``), the versions must match too.
    """
    wanted = _identity(extension)
    if wanted is None:
        return False
    for entry in installed:
        have = identity_from_name(entry)
        if have is None or have.key != wanted.key:
            continue
        if have.version and wanted.version and have.version != wanted.version:
            continue
        return True
    return False


def download_file(
    url: str, target_dir: Path | str = DOWNLOAD_DIR, *, cache: ArtifactStore | None = None
) -> str:
    """Fetch ``url`` through the artifact cache and place it in ``target_dir``.

    The file keeps the URL's last path segment as its name and appears atomically (a
    temporary file then a rename). Returns its path. A second call downloads nothing.
    """
    if cache is None:
        from .._system._os import OsEnvironment

        env = OsEnvironment()
        cache = default_store(env, resolve_locations(env))
    cached = cache.fetch(url)
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or cached.name
    destination = target / name
    with cached.open("rb") as source:
        # The umask decides the mode, as for any download tool's output.
        write_atomic(destination, iter(partial(source.read, _COPY_CHUNK), b""), mode=None)
    return str(destination)


def download_vscode(config: VscodeConfig) -> None:
    """Install code-server and the config's extensions; put code-server on this PATH.

    Same effect as the reference: afterwards ``code-server`` resolves by name in this
    process and its children. Prefer :func:`~vscode_interactive.ensure_installed`, which
    returns the paths (and any HOME override children need) instead.
    """
    from .._system._os import prepend_to_path

    installation = ensure_installed(config)
    prepend_to_path(installation.executable.parent)
