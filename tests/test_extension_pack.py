"""The library's own extension packed as a deterministic .vsix, recognised by identity."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from vscode_interactive._errors import InstallError
from vscode_interactive._extension._pack import (
    EXTENSION_ROOT,
    OwnExtension,
    content_hash,
    own_extension,
    vsix_bytes,
    write_vsix,
)
from vscode_interactive._install._extensions import read_vsix_identity


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the shipped extension's files, to change."""
    root = tmp_path / "ext"
    shutil.copytree(EXTENSION_ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def test_the_shipped_extension_has_a_content_hashed_version() -> None:
    """Its id comes from package.json; its version is package.json's plus 12 hex of the hash."""
    extension = own_extension()
    manifest = json.loads((EXTENSION_ROOT / "package.json").read_text())
    assert extension.id == "vscode-interactive.session"
    assert extension.version == f"{manifest['version']}-{content_hash(extension.files)[:12]}"
    assert extension.file_name == f"vscode-interactive.session-{extension.version}.vsix"


def test_every_javascript_file_is_packed_and_python_is_not() -> None:
    """The .vsix carries package.json and every .js beside it, never the packer's Python."""
    names = [name for name, _ in own_extension().files]
    assert names == sorted(names)
    assert {"package.json", "extension.js", "activity.js", "status.js"} <= set(names)
    assert not [name for name in names if name.endswith(".py")]


def test_changing_any_file_changes_the_version(copy: Path) -> None:
    """A one-byte change to one module is a new version, so a warm install installs it again."""
    before = own_extension(copy)
    (copy / "status.js").write_bytes((copy / "status.js").read_bytes() + b"\n")
    after = own_extension(copy)
    assert after.id == before.id and after.version != before.version


def test_a_new_module_changes_the_version(copy: Path) -> None:
    """Adding a file (say debug.js) is a new version too."""
    before = own_extension(copy)
    (copy / "debug.js").write_text("'use strict';\n")
    assert own_extension(copy).version != before.version


def test_the_hash_tells_file_boundaries_apart() -> None:
    """Moving bytes from one file to the next gives another hash."""
    assert content_hash([("a.js", b"xy"), ("b.js", b"")]) != content_hash(
        [("a.js", b"x"), ("b.js", b"y")]
    )


def test_the_vsix_bytes_are_the_same_every_time(copy: Path) -> None:
    """Same sources, same bytes: fixed order, timestamps and modes (file times do not matter)."""
    first = vsix_bytes(own_extension(copy))
    for path in copy.iterdir():
        path.touch()
    assert vsix_bytes(own_extension(copy)) == first


def test_the_vsix_is_a_valid_extension_package(tmp_path: Path) -> None:
    """The installer reads the packed identity back; the manifest and content types are there."""
    extension = own_extension()
    path = write_vsix(extension, tmp_path)
    identity = read_vsix_identity(path)
    assert (identity.id, identity.version) == (extension.id, extension.version)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names[:2] == ["extension.vsixmanifest", "[Content_Types].xml"]
        assert f'Version="{extension.version}"' in archive.read("extension.vsixmanifest").decode()
        assert archive.read("extension/extension.js") == dict(extension.files)["extension.js"]
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())


def test_write_vsix_reuses_a_right_file_and_rewrites_a_damaged_one(tmp_path: Path) -> None:
    """An existing file with the right bytes is kept; a truncated one is replaced atomically."""
    extension = own_extension()
    path = write_vsix(extension, tmp_path)
    inode = path.stat().st_ino
    assert write_vsix(extension, tmp_path).stat().st_ino == inode
    path.write_bytes(b"broken")
    assert write_vsix(extension, tmp_path).read_bytes() == vsix_bytes(extension)
    assert sorted(p.name for p in tmp_path.iterdir()) == [extension.file_name]


def test_a_damaged_extension_says_how_to_turn_it_off(tmp_path: Path) -> None:
    """No package.json: an InstallError naming the folder and the off switch."""
    (tmp_path / "extension.js").write_text("")
    with pytest.raises(InstallError, match="VSCODE_INTERACTIVE_OWN_EXTENSION=0") as error:
        own_extension(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_a_package_json_without_identity_is_refused(tmp_path: Path) -> None:
    """package.json must name publisher, name and version."""
    (tmp_path / "package.json").write_text(json.dumps({"name": "x", "version": "1.0.0"}))
    with pytest.raises(InstallError, match="publisher, name or version"):
        own_extension(tmp_path)


def test_own_extension_is_a_frozen_value() -> None:
    """Two reads of the same files are equal values (cheap to compare in the installer)."""
    assert own_extension() == own_extension()
    assert isinstance(own_extension(), OwnExtension)
