"""The reference's helpers keep their names and documented behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vscode_interactive
from tests.artifacts import build_vsix
from tests.fakes import FakeArtifactStore, FakeEnvironment
from vscode_interactive import (
    DOWNLOAD_DIR,
    EXECUTABLE_NAME,
    HEARTBEAT_PATH,
    download_file,
    get_installed_extensions,
    is_extension_installed,
)

PYTHON_URL = (
    "https://open-vsx.org/api/ms-python/python/2026.4.0/file/ms-python.python-2026.4.0.vsix"
)


def test_constants_keep_the_reference_meaning() -> None:
    """EXECUTABLE_NAME is the binary name, DOWNLOAD_DIR a code-server folder in the temp
    dir, HEARTBEAT_PATH code-server's heartbeat file under the XDG data dir."""
    assert EXECUTABLE_NAME == "code-server"
    assert Path(DOWNLOAD_DIR).name == "code-server" and Path(DOWNLOAD_DIR).is_absolute()
    assert HEARTBEAT_PATH.endswith("/code-server/heartbeat") and Path(HEARTBEAT_PATH).is_absolute()


def test_get_installed_extensions_reads_extensions_json(tmp_path: Path) -> None:
    """Installed ids come from extensions.json, as recorded, without starting code-server."""
    directory = tmp_path / "ext"
    (directory / "ms-python.python-2026.4.0").mkdir(parents=True)
    (directory / "extensions.json").write_text(
        json.dumps(
            [
                {
                    "identifier": {"id": "ms-python.python"},
                    "version": "2026.4.0",
                    "relativeLocation": "ms-python.python-2026.4.0",
                }
            ]
        )
    )
    assert get_installed_extensions(directory) == ["ms-python.python"]


def test_get_installed_extensions_defaults_to_our_extensions_dir(tmp_path: Path) -> None:
    """Without an argument it reads the directory ensure_installed installs into."""
    env = FakeEnvironment({"HOME": str(tmp_path)})
    directory = tmp_path / ".local/share/vscode-interactive/extensions"
    directory.mkdir(parents=True)
    (directory / "extensions.json").write_text(
        json.dumps([{"identifier": {"id": "a.b"}, "version": "1.0"}])
    )
    assert get_installed_extensions(env=env) == ["a.b"]


@pytest.mark.parametrize(
    ("extension", "installed", "expected"),
    [
        (PYTHON_URL, ["ms-python.python"], True),
        (PYTHON_URL, ["MS-Python.Python"], True),
        (PYTHON_URL, ["ms-python.python@2026.4.0"], True),
        (PYTHON_URL, ["ms-python.python@2025.1.0"], False),
        # The reference's substring test would say True here: "ms-python.py" is in the URL.
        (PYTHON_URL, ["ms-python.py"], False),
        (PYTHON_URL, ["ms-python.python-envs"], False),
        ("ms-python.debugpy", ["ms-python.debugpy"], True),
        ("https://example.test/download?id=1", ["ms-python.python"], False),
        (PYTHON_URL, [], False),
    ],
)
def test_is_extension_installed_compares_identities(
    extension: str, installed: list[str], expected: bool
) -> None:
    """Identity (id, and version when both sides have one) decides, not substrings."""
    assert is_extension_installed(extension, installed) is expected


def test_is_extension_installed_reads_a_local_vsix(tmp_path: Path) -> None:
    """A local .vsix is identified by its package.json, whatever the file is called."""
    vsix = tmp_path / "renamed.vsix"
    vsix.write_bytes(build_vsix("pub", "thing", "1.0.0"))
    assert is_extension_installed(str(vsix), ["pub.thing"])
    assert not is_extension_installed(str(vsix), ["pub.other"])


def test_download_file_places_the_file_and_reuses_the_cache(tmp_path: Path) -> None:
    """download_file returns target_dir/<URL file name> with the bytes; a second call is a
    cache hit and leaves no temporary file behind."""
    url = "https://h.test/some/dir/tool.tar.gz?token=1"
    store = FakeArtifactStore(tmp_path / "store", {url: b"payload"})
    first = download_file(url, tmp_path / "out", cache=store)
    second = download_file(url, tmp_path / "out", cache=store)
    assert first == second == str(tmp_path / "out" / "tool.tar.gz")
    assert Path(first).read_bytes() == b"payload"
    assert store.downloads == [url]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["tool.tar.gz"]


def test_reference_names_are_public() -> None:
    """Everything the reference exposed is importable from the package."""
    for name in (
        "get_installed_extensions",
        "is_extension_installed",
        "download_file",
        "download_vscode",
        "EXECUTABLE_NAME",
        "DOWNLOAD_DIR",
        "HEARTBEAT_PATH",
        "VscodeConfig",
        "ensure_installed",
        "Installation",
    ):
        assert name in vscode_interactive.__all__
