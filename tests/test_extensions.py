"""The "which extensions are missing" decision: .vsix identity against extensions.json."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.artifacts import build_vsix
from vscode_interactive._errors import InstallError
from vscode_interactive._install._extensions import (
    ExtensionIdentity,
    identity_from_name,
    install_argv,
    load_identity_memo,
    missing_extensions,
    read_installed,
    read_vsix_identity,
    save_identity_memo,
)


def _write_installed(directory: Path, *entries: tuple[str, str], folders: bool = True) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    records = []
    for ext_id, version in entries:
        location = f"{ext_id.lower()}-{version}"
        if folders:
            (directory / location).mkdir()
        records.append(
            {"identifier": {"id": ext_id}, "version": version, "relativeLocation": location}
        )
    (directory / "extensions.json").write_text(json.dumps(records))


def test_vsix_identity_comes_from_its_package_json(tmp_path: Path) -> None:
    """publisher.name and version are read from extension/package.json inside the zip."""
    vsix = tmp_path / "whatever-name.bin"
    vsix.write_bytes(build_vsix("ms-python", "debugpy", "2026.6.0"))
    assert read_vsix_identity(vsix) == ExtensionIdentity("ms-python.debugpy", "2026.6.0")


def test_not_a_vsix_names_file_and_url(tmp_path: Path) -> None:
    """A corrupt download gives InstallError naming the file and the URL it came from."""
    vsix = tmp_path / "x.vsix"
    vsix.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(InstallError) as info:
        read_vsix_identity(vsix, url="https://h.test/x.vsix")
    assert str(vsix) in str(info.value) and "https://h.test/x.vsix" in str(info.value)


def test_zip_without_package_json_is_rejected(tmp_path: Path) -> None:
    """A zip that is not an extension is refused with a message saying what is missing."""
    import zipfile

    vsix = tmp_path / "x.vsix"
    with zipfile.ZipFile(vsix, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(InstallError, match=r"extension/package\.json"):
        read_vsix_identity(vsix)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "https://open-vsx.org/api/ms-python/python/2026.4.0/file/ms-python.python-2026.4.0.vsix",
            ExtensionIdentity("ms-python.python", "2026.4.0"),
        ),
        (
            "https://open-vsx.org/api/ms-python/debugpy/linux-x64/2026.6.0/file/"
            "ms-python.debugpy-2026.6.0@linux-x64.vsix",
            ExtensionIdentity("ms-python.debugpy", "2026.6.0"),
        ),
        (
            "/mirror/ms-python.vscode-python-envs-1.37.2026062601.vsix",
            ExtensionIdentity("ms-python.vscode-python-envs", "1.37.2026062601"),
        ),
        ("ms-python.python", ExtensionIdentity("ms-python.python")),
        ("ms-python.python@2026.4.0", ExtensionIdentity("ms-python.python", "2026.4.0")),
    ],
)
def test_identity_from_name(name: str, expected: ExtensionIdentity) -> None:
    """Open VSX URLs, file names, bare ids and id@version all yield an identity."""
    assert identity_from_name(name) == expected


def test_identity_from_unrelated_name_is_none() -> None:
    """A name with no extension id in it gives None instead of a guess."""
    assert identity_from_name("https://example.test/download?id=42") is None


def test_read_installed_is_case_insensitive_and_skips_stale_entries(tmp_path: Path) -> None:
    """Ids are lower-cased; an entry whose folder was deleted does not count."""
    _write_installed(tmp_path, ("MS-Python.Python", "2026.4.0"), ("ms-python.debugpy", "1.0"))
    (tmp_path / "ms-python.debugpy-1.0").rmdir()
    assert read_installed(tmp_path) == {"ms-python.python": "2026.4.0"}


def test_read_installed_without_file_is_empty(tmp_path: Path) -> None:
    """A fresh extensions directory has nothing installed."""
    assert read_installed(tmp_path / "nope") == {}


def test_corrupt_extensions_json_counts_as_empty_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An unparseable extensions.json means reinstalling, and a warning names the file."""
    (tmp_path / "extensions.json").write_text("[{not json")
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        assert read_installed(tmp_path) == {}
    assert str(tmp_path / "extensions.json") in caplog.text


def test_missing_extensions_finds_absent_and_other_versions(tmp_path: Path) -> None:
    """Absent ids and ids at another version are missing; an exact match (any case) is not."""
    a, b, c = (tmp_path / name for name in ("a.vsix", "b.vsix", "c.vsix"))
    wanted = [
        (ExtensionIdentity("Pub.Present", "1.0.0"), a),
        (ExtensionIdentity("pub.outdated", "2.0.0"), b),
        (ExtensionIdentity("pub.absent", "1.0.0"), c),
    ]
    installed = {"pub.present": "1.0.0", "pub.outdated": "1.9.0"}
    assert missing_extensions(wanted, installed) == wanted[1:]


def test_same_extension_twice_is_installed_once(tmp_path: Path) -> None:
    """When an id is listed twice, only the later entry is kept."""
    first, second = tmp_path / "1.vsix", tmp_path / "2.vsix"
    wanted = [(ExtensionIdentity("p.n", "1"), first), (ExtensionIdentity("P.N", "2"), second)]
    assert missing_extensions(wanted, {}) == [wanted[1]]


def test_install_argv_is_one_call_with_repeated_flags(tmp_path: Path) -> None:
    """Every .vsix is passed with its own --install-extension in one argv list."""
    argv = install_argv(
        Path("/cs/bin/code-server"),
        [Path("/v/a b.vsix"), Path("/v/c.vsix")],
        extensions_dir=tmp_path / "ext",
        user_data_dir=tmp_path / "ud",
    )
    assert argv[0] == "/cs/bin/code-server"
    assert argv[argv.index("--extensions-dir") + 1] == str(tmp_path / "ext")
    assert argv[argv.index("--user-data-dir") + 1] == str(tmp_path / "ud")
    installs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--install-extension"]
    assert installs == ["/v/a b.vsix", "/v/c.vsix"]


def test_identity_memo_round_trips_and_survives_damage(tmp_path: Path) -> None:
    """The memo reads back what was saved; a damaged memo reads as empty (zips get re-read)."""
    path = tmp_path / "memo.json"
    memo = {"ab" * 32: ExtensionIdentity("p.n", "1.0")}
    save_identity_memo(path, memo)
    assert load_identity_memo(path) == memo
    assert [p.name for p in tmp_path.iterdir()] == ["memo.json"]
    path.write_text("{broken")
    assert load_identity_memo(path) == {}
    assert load_identity_memo(tmp_path / "missing.json") == {}
