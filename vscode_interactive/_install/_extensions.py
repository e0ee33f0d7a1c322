"""Which extensions are missing: read ``.vsix`` identities and ``extensions.json``.

Starting code-server to ask ``--list-extensions`` costs most of a second of Node start-up;
reading the two JSON documents involved costs microseconds. A ``.vsix`` is a zip whose
``extension/package.json`` names the publisher, the extension name and the version; an
extensions directory records what is installed in ``extensions.json``::

    [{"identifier": {"id": "publisher.name"}, "version": "x.y.z",
      "relativeLocation": "publisher.name-x.y.z", ...}]

Extension ids compare case-insensitively, as VS Code compares them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .._errors import InstallError
from .._system._files import write_atomic

__all__ = [
    "EXTENSIONS_JSON",
    "ExtensionIdentity",
    "identity_from_name",
    "install_argv",
    "installed_identities",
    "load_identity_memo",
    "missing_extensions",
    "read_installed",
    "read_vsix_identity",
    "save_identity_memo",
]

logger = logging.getLogger("vscode_interactive.install")

EXTENSIONS_JSON = "extensions.json"
_PACKAGE_JSON = "extension/package.json"
# publisher.name-1.2.3[-pre|+build][@target].vsix, as Open VSX and `vsce package` name files.
_VSIX_NAME = re.compile(
    r"^(?P<id>[^/]+?\.[^/]+?)-(?P<version>\d+(?:\.\d+)*(?:[-+][0-9A-Za-z.+-]*)?)"
    r"(?:@[0-9A-Za-z-]+)?(?:\.vsix)?$"
)
_BARE_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]*\.[0-9A-Za-z][0-9A-Za-z._-]*$")


@dataclass(frozen=True, slots=True)
class ExtensionIdentity:
    """``publisher.name`` and version of an extension (``version`` may be unknown)."""

    id: str
    version: str | None = None

    @property
    def key(self) -> str:
        """The id as VS Code compares it (lower case)."""
        return self.id.lower()


def read_vsix_identity(vsix: Path, *, url: str = "") -> ExtensionIdentity:
    """Publisher, name and version from ``extension/package.json`` inside a ``.vsix``.

    Raises :class:`InstallError` naming the file (and URL) when it is not a valid ``.vsix``.
    """
    import zipfile  # deferred: zipfile pulls in bz2/lzma at import

    where = f"{vsix}" + (f" (from {url})" if url else "")
    try:
        with zipfile.ZipFile(vsix) as archive:
            manifest = json.loads(archive.read(_PACKAGE_JSON))
    except KeyError:
        raise InstallError(
            f"{where} is not a VS Code extension: it has no {_PACKAGE_JSON}; check the URL"
        ) from None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InstallError(
            f"cannot read the extension {where}: {error}; check the URL or its pin"
        ) from error
    publisher = manifest.get("publisher") if isinstance(manifest, dict) else None
    name = manifest.get("name") if isinstance(manifest, dict) else None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if not (isinstance(publisher, str) and isinstance(name, str) and isinstance(version, str)):
        raise InstallError(
            f"{where}: {_PACKAGE_JSON} lacks a string publisher, name or version; "
            "it cannot be installed"
        )
    return ExtensionIdentity(f"{publisher}.{name}", version)


def load_identity_memo(path: Path) -> dict[str, ExtensionIdentity]:
    """Identities remembered by ``.vsix`` sha256 (opening a big zip costs milliseconds).

    A ``.vsix``'s identity is a function of its bytes, so the sha256 the cache verified is
    a safe key. A missing or damaged memo is empty: the zips are read again.
    """
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    memo: dict[str, ExtensionIdentity] = {}
    for digest, value in data.items() if isinstance(data, dict) else ():
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            memo[digest] = ExtensionIdentity(value[0], value[1])
    return memo


def save_identity_memo(path: Path, memo: Mapping[str, ExtensionIdentity]) -> None:
    """Write the memo with the one atomic write; failures only log."""
    data = {digest: [identity.id, identity.version] for digest, identity in memo.items()}
    try:
        write_atomic(path, json.dumps(data, sort_keys=True))
    except OSError as error:
        logger.info("cannot remember extension identities in %s: %s", path, error)


def identity_from_name(extension: str) -> ExtensionIdentity | None:
    """Best-effort identity from a ``.vsix`` URL or file name, or a bare ``publisher.name``.

    ``https://open-vsx.org/api/ms-python/python/2026.4.0/file/ms-python.python-2026.4.0.vsix``
    gives ``ms-python.python`` 2026.4.0; ``ms-python.python`` gives that id with no version.
    Returns ``None`` when nothing in the name looks like an extension id.
    """
    text = extension.strip()
    if "@" in text and _BARE_ID.match(text.partition("@")[0]):
        base, _, version = text.partition("@")  # "publisher.name@1.2.3" (--show-versions)
        return ExtensionIdentity(base, version or None)
    if _BARE_ID.match(text) and not text.lower().endswith(".vsix"):
        return ExtensionIdentity(text)
    name = unquote(urlsplit(text).path.rsplit("/", 1)[-1]) if "://" in text else Path(text).name
    match = _VSIX_NAME.match(name)
    if match is None:
        return None
    return ExtensionIdentity(match["id"], match["version"])


def installed_identities(extensions_dir: Path) -> list[ExtensionIdentity]:
    """Extensions recorded in ``extensions_dir/extensions.json``, in file order.

    A missing file means nothing is installed. An entry whose folder is gone does not
    count. An unreadable file counts as empty (with a warning): the next install rewrites it.
    """
    path = extensions_dir / EXTENSIONS_JSON
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as error:
        logger.warning("cannot read %s (%s); treating it as empty", path, error)
        return []
    try:
        entries = json.loads(raw or b"[]")
    except ValueError as error:
        logger.warning("%s is not valid JSON (%s); treating it as empty", path, error)
        return []
    found = []
    for entry in entries if isinstance(entries, list) else ():
        identity = _entry_identity(entry)
        if identity is None:
            continue
        location = entry.get("relativeLocation")
        if isinstance(location, str) and location and not (extensions_dir / location).is_dir():
            continue
        found.append(identity)
    return found


def read_installed(extensions_dir: Path) -> dict[str, str]:
    """Installed extensions of a directory: lower-case id -> version."""
    return {
        identity.key: identity.version or "" for identity in installed_identities(extensions_dir)
    }


def _entry_identity(entry: object) -> ExtensionIdentity | None:
    if not isinstance(entry, dict):
        return None
    identifier = entry.get("identifier")
    ext_id = identifier.get("id") if isinstance(identifier, dict) else None
    version = entry.get("version")
    if not isinstance(ext_id, str) or not isinstance(version, str):
        return None
    return ExtensionIdentity(ext_id, version)


def missing_extensions(
    wanted: Sequence[tuple[ExtensionIdentity, Path]], installed: Mapping[str, str]
) -> list[tuple[ExtensionIdentity, Path]]:
    """The wanted ``(identity, vsix)`` pairs not installed at exactly their version.

    Keeps the order of ``wanted``; the same id asked for twice is installed once (the
    last one wins, as a later ``--install-extension`` would).
    """
    chosen: dict[str, tuple[ExtensionIdentity, Path]] = {}
    for identity, vsix in wanted:
        chosen.pop(identity.key, None)
        chosen[identity.key] = (identity, vsix)
    return [
        (identity, vsix)
        for identity, vsix in chosen.values()
        if installed.get(identity.key) != identity.version
    ]


def install_argv(
    executable: Path, vsix_files: Iterable[Path], *, extensions_dir: Path, user_data_dir: Path
) -> list[str]:
    """One ``code-server`` call installing every ``.vsix`` (argv list, never a shell string).

    ``--force`` lets a pinned older version replace a newer one without a prompt.
    """
    argv = [
        str(executable),
        "--extensions-dir",
        str(extensions_dir),
        "--user-data-dir",
        str(user_data_dir),
        "--force",
    ]
    for vsix in vsix_files:
        argv += ["--install-extension", str(vsix)]
    return argv
