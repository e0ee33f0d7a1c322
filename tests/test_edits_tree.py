"""Reading the workspace: what a walk counts, links never followed, large files never read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vscode_interactive._edits._tree import (
    TooManyFiles,
    counted,
    read_limited,
    skipped_dir,
    stat_of,
    walk,
)

GIB = 1 << 30


def bytes_read_by_this_process() -> int:
    """``rchar`` of /proc/self/io: every byte this process read through read(2)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("/proc/self/io has no rchar")


def test_walk_lists_files_and_skips_state_vcs_environments_and_caches(tmp_path: Path) -> None:
    """Source files count; ours, .git, a venv (by name or by pyvenv.cfg), conda envs,
    caches and egg-info do not."""
    for path in (
        "train.py",
        "pkg/model.py",
        "data/notes.md",
        ".vscode-interactive/changes.patch",
        ".git/HEAD",
        ".venv/lib/x.py",
        "myenv/pyvenv.cfg",
        "myenv/lib/site.py",
        "conda/conda-meta/history",
        "pkg/__pycache__/model.cpython-311.pyc",
        "node_modules/x/index.js",
        "pkg.egg-info/PKG-INFO",
        ".mypy_cache/x.json",
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    found = dict(walk(tmp_path, max_files=100))
    assert sorted(found) == ["data/notes.md", "pkg/model.py", "train.py"]
    assert found["train.py"].size == 1


def test_walk_never_follows_links(tmp_path: Path) -> None:
    """A link to a file or a folder (even one outside the workspace) is not listed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "real.py").write_text("r")
    (workspace / "link.txt").symlink_to(outside / "secret.txt")
    (workspace / "linkdir").symlink_to(outside)
    assert [path for path, _ in walk(workspace, max_files=10)] == ["real.py"]


def test_walk_stops_past_the_file_limit(tmp_path: Path) -> None:
    """More files than allowed is an error, not a partial list taken as complete."""
    for n in range(4):
        (tmp_path / f"f{n}").write_text("x")
    with pytest.raises(TooManyFiles):
        list(walk(tmp_path, max_files=3))


def test_counted_and_skipped_dir_are_by_path_component() -> None:
    """A path counts unless one of its folders is skipped; the file's own name is free."""
    assert counted("src/venv.py") and counted("a/b/c.txt")
    assert not counted("venv/lib/x.py") and not counted("a/__pycache__/m.pyc")
    assert skipped_dir("foo.egg-info") and not skipped_dir("eggs")


def test_read_limited_returns_small_content_and_only_the_stat_of_large_files(
    tmp_path: Path,
) -> None:
    """Under the limit: stat and bytes; over it: stat only, and (for a 2 GB sparse file)
    far less than the file is read."""
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello\n")
    got = read_limited(small, 100)
    assert got is not None and got[1] == b"hello\n" and got[0].size == 6
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(2 * GIB)
    before = bytes_read_by_this_process()
    large = read_limited(big, 4 << 20)
    assert bytes_read_by_this_process() - before < 1 << 20
    assert large is not None and large[1] is None and large[0].size == 2 * GIB


def test_read_limited_refuses_links_fifos_and_missing_files(tmp_path: Path) -> None:
    """A link is not followed, a FIFO is not waited on, a missing file is None."""
    target = tmp_path / "target.txt"
    target.write_text("t")
    (tmp_path / "link").symlink_to(target)
    os.mkfifo(tmp_path / "fifo")
    assert read_limited(tmp_path / "link", 100) is None
    assert read_limited(tmp_path / "fifo", 100) is None
    assert read_limited(tmp_path / "missing", 100) is None
    assert stat_of(tmp_path / "link") is None and stat_of(target) is not None
