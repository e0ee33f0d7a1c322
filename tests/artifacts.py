"""Builders for test artifacts: ``.vsix`` extensions and code-server release archives.

A release archive has code-server's layout (``code-server-X-linux-ARCH/bin/code-server``,
``package.json``, ``lib/``) around a small Python stand-in for code-server (see
:func:`fake_code_server_script`) that answers ``--version``, lists and installs extensions
the way code-server does (``extensions.json`` plus one folder per extension), creates its
config and data directories under HOME like code-server, and logs every start as one JSON
line, so tests can count how often code-server ran and with which arguments.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "build_release_archive",
    "build_vsix",
    "fake_code_server_script",
    "read_invocations",
    "sha256_hex",
]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_vsix(
    publisher: str,
    name: str,
    version: str,
    *,
    manifest_extra: Mapping[str, object] | None = None,
    files: Mapping[str, bytes] | None = None,
) -> bytes:
    """A minimal valid ``.vsix``: ``extension/package.json``, the VSIX manifest and
    ``[Content_Types].xml``. ``files`` adds members under ``extension/`` (its
    ``extension.js`` replaces the empty one);
    ``manifest_extra`` adds keys to package.json (``fakeInstallFails`` makes the fake
    code-server refuse it with that message)."""
    manifest: dict[str, object] = {
        "name": name,
        "publisher": publisher,
        "version": version,
        "engines": {"vscode": "^1.80.0"},
        "main": "./extension.js",
    }
    manifest.update(manifest_extra or {})
    vsixmanifest = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<PackageManifest Version="2.0.0" '
        'xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">\n'
        f'  <Metadata><Identity Language="en-US" Id="{name}" Version="{version}" '
        f'Publisher="{publisher}"/><DisplayName>{name}</DisplayName></Metadata>\n'
        '  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>\n'
        '  <Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" '
        'Path="extension/package.json" Addressable="true"/></Assets>\n'
        "</PackageManifest>\n"
    )
    content_types = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension=".json" ContentType="application/json"/>'
        '<Default Extension=".vsixmanifest" ContentType="text/xml"/></Types>\n'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("extension.vsixmanifest", vsixmanifest)
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("extension/package.json", json.dumps(manifest, indent=2))
        if "extension.js" not in (files or {}):
            archive.writestr("extension/extension.js", "exports.activate = () => {};\n")
        for member, data in (files or {}).items():
            archive.writestr(f"extension/{member}", data)
    return buffer.getvalue()


_SCRIPT = r'''#!{python}
"""Test stand-in for code-server {version}: logs each start to {log}."""
import json
import os
import sys
import zipfile

LOG = {log!r}
VERSION = {version!r}


def option(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def home_dir(variable, default):
    value = os.environ.get(variable)
    return value if value else os.path.join(os.environ.get("HOME") or "/", default)


def installed(extensions_dir):
    try:
        with open(os.path.join(extensions_dir, "extensions.json")) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return []


def install(vsix, extensions_dir):
    with zipfile.ZipFile(vsix) as archive:
        manifest = json.loads(archive.read("extension/package.json"))
        if manifest.get("fakeInstallFails"):
            print("Installing extensions...")
            print("Failed Installing Extensions: " + vsix, file=sys.stderr)
            print(manifest["fakeInstallFails"], file=sys.stderr)
            return False
        ext_id = manifest["publisher"] + "." + manifest["name"]
        folder = ext_id.lower() + "-" + manifest["version"]
        for member in archive.namelist():
            if member.startswith("extension/") and not member.endswith("/"):
                target = os.path.join(extensions_dir, folder, member[len("extension/"):])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as handle:
                    handle.write(archive.read(member))
    entries = [
        entry for entry in installed(extensions_dir)
        if entry["identifier"]["id"].lower() != ext_id.lower()
    ]
    entries.append({{
        "identifier": {{"id": ext_id}},
        "version": manifest["version"],
        "relativeLocation": folder,
    }})
    temporary = os.path.join(extensions_dir, "extensions.json.tmp")
    with open(temporary, "w") as handle:
        json.dump(entries, handle)
    os.replace(temporary, os.path.join(extensions_dir, "extensions.json"))
    print("Extension '" + os.path.basename(vsix) + "' was successfully installed.")
    return True


def main(argv):
    with open(LOG, "a") as handle:
        handle.write(json.dumps(argv) + "\n")
    if "--version" in argv:
        print(VERSION + " 0000000000000000000000000000000000000000 with Code 1.0.0")
        return 0
    # Like code-server: its config and data directories are created under HOME first.
    for variable, default in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share")):
        directory = os.path.join(home_dir(variable, default), "code-server")
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError:
            print("EACCES: permission denied, mkdir '" + directory + "'", file=sys.stderr)
            return 1
    extensions_dir = option(argv, "--extensions-dir") or os.path.join(
        home_dir("XDG_DATA_HOME", ".local/share"), "code-server", "extensions"
    )
    if "--list-extensions" in argv:
        for entry in installed(extensions_dir):
            print(entry["identifier"]["id"])
        return 0
    vsix_files = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--install-extension"]
    if vsix_files:
        os.makedirs(extensions_dir, exist_ok=True)
        print("Installing extensions...")
        ok = all([install(vsix, extensions_dir) for vsix in vsix_files])
        return 0 if ok else 1
    print("fake code-server: nothing to do", file=sys.stderr)
    return 2


sys.exit(main(sys.argv[1:]))
'''


def fake_code_server_script(log_path: Path, version: str) -> str:
    """Source of the stand-in ``bin/code-server``, logging each start to ``log_path``."""
    return _SCRIPT.format(python=sys.executable, log=str(log_path), version=version)


def read_invocations(log_path: Path) -> list[list[str]]:
    """Every argv the stand-in code-server was started with, oldest first."""
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line]


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 1_700_000_000
    archive.addfile(info, io.BytesIO(data))


def _add_dir(archive: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = 1_700_000_000
    archive.addfile(info)


def build_release_archive(
    version: str,
    script: str,
    *,
    arch: str = "amd64",
    top_dir: str | None = None,
    padding: int = 0,
) -> bytes:
    """A ``.tar.gz`` in code-server's release layout around ``script`` as ``bin/code-server``.

    ``top_dir`` defaults to ``code-server-{version}-linux-{arch}``; ``padding`` adds that
    many bytes of incompressible data under ``lib/`` to make the download bigger.
    """
    top = top_dir or f"code-server-{version}-linux-{arch}"
    package = {"name": "code-server", "version": version, "engines": {"node": "22"}}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add_dir(archive, top)
        _add_dir(archive, f"{top}/bin")
        _add_dir(archive, f"{top}/lib")
        _add(archive, f"{top}/bin/code-server", script.encode(), mode=0o755)
        _add(archive, f"{top}/package.json", json.dumps(package).encode())
        _add(archive, f"{top}/lib/node", b"#!/bin/sh\nexit 0\n", mode=0o755)
        if padding:
            _add(archive, f"{top}/lib/padding.bin", hashlib.shake_256(b"x").digest(padding))
    return buffer.getvalue()
