"""Pack the library's own extension into a deterministic ``.vsix``.

:func:`own_extension` reads the extension's files (``package.json`` and every ``*.js`` /
``*.md`` beside this module, in name order) and derives its identity:
``vscode-interactive.session`` at version ``<package.json version>-<12 hex of sha256>``.
The hash covers every packed file's name and bytes, so any change to the extension is a new
version: a warm install compares this identity with ``extensions.json`` (microseconds; the
zip is not even built) and a changed extension is installed again.

:func:`vsix_bytes` is a pure function of those files: members in a fixed order, stored (not
compressed), a fixed timestamp and mode, so the same sources give the same bytes on every
machine and Python. :func:`write_vsix` writes it atomically as
``<id>-<version>.vsix`` (the name code-server and Open VSX use) and reuses an existing one.

VS Code accepts a semver pre-release suffix in ``version``; code-server records it in
``extensions.json`` as it is.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from .._errors import InstallError
from .._system._files import write_atomic

__all__ = [
    "EXTENSION_ROOT",
    "OwnExtension",
    "own_extension",
    "vsix_bytes",
    "write_vsix",
]

EXTENSION_ROOT = Path(__file__).resolve().parent
_PACKED_SUFFIXES = (".js", ".json", ".md")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODE = 0o644
_HASH_LENGTH = 12


@dataclass(frozen=True, slots=True)
class OwnExtension:
    """The extension's identity and the files to pack (``extension/<name>`` in the zip)."""

    publisher: str
    name: str
    version: str
    files: tuple[tuple[str, bytes], ...]

    @property
    def id(self) -> str:
        return f"{self.publisher}.{self.name}"

    @property
    def file_name(self) -> str:
        return f"{self.id}-{self.version}.vsix"


def _packed(root: Path) -> list[Path]:
    return sorted(
        (
            path
            for path in root.iterdir()
            if path.suffix in _PACKED_SUFFIXES and path.is_file() and not path.name.startswith(".")
        ),
        key=lambda path: path.name,
    )


def content_hash(files: Sequence[tuple[str, bytes]]) -> str:
    """sha256 over every file's name and bytes, length-prefixed (no two file sets collide)."""
    digest = hashlib.sha256()
    for name, data in files:
        encoded = name.encode()
        digest.update(b"%d:%s%d:" % (len(encoded), encoded, len(data)))
        digest.update(data)
    return digest.hexdigest()


def own_extension(root: Path = EXTENSION_ROOT) -> OwnExtension:
    """Read the extension under ``root``; :class:`InstallError` if it is damaged."""
    try:
        files = tuple((path.name, path.read_bytes()) for path in _packed(root))
        manifest = json.loads(dict(files)["package.json"])
    except (OSError, KeyError, ValueError) as error:
        raise InstallError(
            f"the library's own extension in {root} is damaged ({error!r}); reinstall "
            "vscode-interactive, or turn the extension off with VSCODE_INTERACTIVE_OWN_EXTENSION=0"
        ) from error
    fields = [manifest.get(key) if isinstance(manifest, dict) else None for key in _IDENTITY]
    if not all(isinstance(value, str) and value for value in fields):
        raise InstallError(f"{root / 'package.json'} lacks a publisher, name or version")
    publisher, name, base = (str(value) for value in fields)
    return OwnExtension(
        publisher=publisher,
        name=name,
        version=f"{base}-{content_hash(files)[:_HASH_LENGTH]}",
        files=files,
    )


_IDENTITY = ("publisher", "name", "version")


def _manifest_xml(extension: OwnExtension) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<PackageManifest Version="2.0.0" '
        'xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">\n'
        f'  <Metadata><Identity Language="en-US" Id={quoteattr(extension.name)} '
        f"Version={quoteattr(extension.version)} Publisher={quoteattr(extension.publisher)}/>"
        f"<DisplayName>{extension.id}</DisplayName></Metadata>\n"
        '  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>\n'
        '  <Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" '
        'Path="extension/package.json" Addressable="true"/></Assets>\n'
        "</PackageManifest>\n"
    )


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension=".json" ContentType="application/json"/>'
    '<Default Extension=".js" ContentType="application/javascript"/>'
    '<Default Extension=".md" ContentType="text/markdown"/>'
    '<Default Extension=".vsixmanifest" ContentType="text/xml"/></Types>\n'
)


def _package_json(extension: OwnExtension) -> bytes:
    manifest = json.loads(dict(extension.files)["package.json"])
    manifest["version"] = extension.version
    return (json.dumps(manifest, indent=4) + "\n").encode()


def vsix_bytes(extension: OwnExtension) -> bytes:
    """The ``.vsix``: same files, same bytes (fixed order, timestamp and mode; stored)."""
    import zipfile  # deferred: zipfile pulls in bz2/lzma at import

    members = [
        ("extension.vsixmanifest", _manifest_xml(extension).encode()),
        ("[Content_Types].xml", _CONTENT_TYPES.encode()),
    ]
    for name, data in extension.files:
        packed = _package_json(extension) if name == "package.json" else data
        members.append((f"extension/{name}", packed))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = (0o100000 | _MODE) << 16
            info.create_system = 3  # Unix, whatever the building machine
            archive.writestr(info, data)
    return buffer.getvalue()


def write_vsix(extension: OwnExtension, directory: Path) -> Path:
    """``directory/<id>-<version>.vsix``, written once (the library's one atomic write).

    An existing file of that name is reused when its bytes are right (the version is a
    content hash, so a right name almost always means right bytes; a damaged one is rewritten).
    """
    data = vsix_bytes(extension)
    target = directory / extension.file_name
    try:
        if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
            return target
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data, mode=None)  # package content: the umask decides
    except OSError as error:
        raise InstallError(
            f"cannot write the library's own extension to {target}: {error}"
        ) from error
    return target
