"""``vscode-interactive cache path|list|fetch|verify|prune|forget``."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.archives import tar_bytes
from tests.httpserver import LoopbackServer
from vscode_interactive._cli.cache import parse_duration, parse_size
from vscode_interactive.cli import main

DATA = b"cli payload " * 100


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "tool.bin"
    path.parent.mkdir()
    path.write_bytes(DATA)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_path_follows_root_option_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cache path` prints --root, else $VSCODE_INTERACTIVE_CACHE."""
    monkeypatch.setenv("VSCODE_INTERACTIVE_CACHE", str(tmp_path / "env"))
    assert run(capsys, "cache", "path") == (0, f"{tmp_path / 'env'}\n", "")
    assert run(capsys, "cache", "--root", str(tmp_path / "r"), "path")[1] == f"{tmp_path / 'r'}\n"


def test_fetch_prints_the_path_and_list_shows_it(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fetch` prints the cached file's path; `list` prints one tab-separated line per entry."""
    root = str(tmp_path / "c")
    digest = hashlib.sha256(DATA).hexdigest()
    code, out, _ = run(capsys, "cache", "--root", root, "fetch", str(source), "--sha256", digest)
    assert code == 0 and Path(out.strip()).read_bytes() == DATA
    code, out, _ = run(capsys, "cache", "--root", root, "list")
    [line] = out.splitlines()
    fields = line.split("\t")
    assert fields[0] == digest and fields[1] == str(len(DATA)) and fields[3] == "pinned"
    assert fields[4:] == [str(source), str(Path(root) / "blobs" / digest / "tool.bin"), "-"]


def test_fetch_archive_prints_the_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fetch --archive` extracts and prints the directory."""
    archive = tmp_path / "pkg.tar.gz"
    archive.write_bytes(tar_bytes({"pkg/a.txt": b"a"}))
    code, out, _ = run(
        capsys, "cache", "--root", str(tmp_path / "c"), "fetch", str(archive), "--archive"
    )
    assert code == 0 and (Path(out.strip()) / "pkg/a.txt").read_bytes() == b"a"


def test_failures_go_to_stderr_with_exit_one(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hash mismatch or an offline miss: message on stderr, nothing on stdout, exit 1."""
    root = str(tmp_path / "c")
    code, out, err = run(
        capsys, "cache", "--root", root, "fetch", str(source), "--sha256", "0" * 64
    )
    assert (code, out) == (1, "") and "sha256 mismatch" in err and str(source) in err
    code, out, err = run(capsys, "cache", "--root", root, "--offline", "fetch", str(source))
    assert (code, out) == (1, "") and "offline" in err


def test_verify_prune_and_forget(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify exits 1 listing a corrupt file; prune and forget print the URLs removed."""
    root = str(tmp_path / "c")
    _, out, _ = run(capsys, "cache", "--root", root, "fetch", str(source))
    blob = Path(out.strip())
    assert run(capsys, "cache", "--root", root, "verify") == (0, "", "")
    before = blob.stat()
    blob.write_bytes(b"X" * len(DATA))
    os.utime(blob, ns=(before.st_atime_ns, before.st_mtime_ns))
    code, out, err = run(capsys, "cache", "--root", root, "verify")
    assert code == 1 and str(blob) in out and "1 problem" in err
    assert (
        run(capsys, "cache", "--root", root, "prune", "--max-size", "0", "--dry-run")[1]
        == f"{source}\n"
    )
    assert run(capsys, "cache", "--root", root, "prune", "--older-than", "30d")[1] == ""
    assert run(capsys, "cache", "--root", root, "forget", str(source)) == (0, f"{source}\n", "")
    code, _, err = run(capsys, "cache", "--root", root, "forget", str(source))
    assert code == 1 and "not in the cache" in err


def test_duration_and_size_parsing() -> None:
    """Durations and sizes accept the usual suffixes and reject junk clearly."""
    assert [parse_duration(t) for t in ("3600", "90m", "12h", "30d", "1w")] == [
        3600,
        5400,
        43200,
        2592000,
        604800,
    ]
    assert [parse_size(t) for t in ("1024", "500M", "10G", "2KiB")] == [
        1024,
        500 << 20,
        10 << 30,
        2048,
    ]
    for bad_duration in ("soon", "-1d"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad_duration)
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


@pytest.mark.integration
def test_cache_fetch_as_a_real_process(tmp_path: Path, http_server: LoopbackServer) -> None:
    """`python -m vscode_interactive cache fetch URL` downloads over HTTP and prints the path."""
    url = http_server.add("/cli/tool.bin", DATA)
    env = {**os.environ, "VSCODE_INTERACTIVE_CACHE": str(tmp_path / "c")}
    done = subprocess.run(
        [sys.executable, "-m", "vscode_interactive", "cache", "fetch", url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).read_bytes() == DATA
    assert "not pinned" in done.stderr  # the warning reaches the user on stderr
    assert http_server.count("/cli/tool.bin") == 1
