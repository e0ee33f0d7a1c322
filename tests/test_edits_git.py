"""git's view of a workspace: the pure parsers, the flags every call carries, and a real
repository (integration)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.fakes import FakeBytesRunner
from vscode_interactive._edits._git import (
    GitError,
    find_repo,
    parse_batch,
    parse_ls_tree,
    parse_status,
)
from vscode_interactive._ports import BytesResult
from vscode_interactive._system._processes import SubprocessRunner


def test_parse_status_reads_nul_separated_entries() -> None:
    """Modified, deleted, untracked; a folder entry loses its slash; odd bytes survive."""
    out = b" M src/a.py\0 D gone.py\0?? new dir/x.txt\0?? sub/\0A  caf\xc3\xa9.py\0"
    entries = parse_status(out)
    assert [(e.path, e.untracked) for e in entries] == [
        ("src/a.py", False),
        ("gone.py", False),
        ("new dir/x.txt", True),
        ("sub", True),
        ("café.py", False),
    ]


def test_parse_ls_tree_keeps_blobs_with_their_sizes() -> None:
    """Blobs give mode, id and size; a submodule (commit) is left out."""
    out = (
        b"100644 blob aaaa      12\tsrc/a.py\0"
        b"100755 blob bbbb       3\trun.sh\0"
        b"160000 commit cccc       -\tvendor\0"
    )
    tree = parse_ls_tree(out)
    assert sorted(tree) == ["run.sh", "src/a.py"]
    assert tree["src/a.py"].size == 12 and not tree["src/a.py"].executable
    assert tree["run.sh"].executable and tree["run.sh"].sha == "bbbb"


def test_parse_batch_splits_contents_by_their_sizes() -> None:
    """Contents may hold newlines and NULs; a missing object is left out."""
    out = b"aaaa blob 5\nab\ncd\nbbbb blob 2\n\x00\n\ncccc missing\n"
    assert parse_batch(out) == {"aaaa": b"ab\ncd", "bbbb": b"\x00\n"}


def test_every_git_call_avoids_locks_globs_and_monitor_daemons(tmp_path: Path) -> None:
    """The flags that keep git from writing the index, globbing names or starting a daemon."""

    def answer(argv: list[str], stdin: bytes | None) -> BytesResult:
        return BytesResult(0, b"/repo\nsub/\n", "")

    runner = FakeBytesRunner(answer)
    repo = find_repo(tmp_path, runner)
    assert repo is not None and repo.top == Path("/repo") and repo.prefix == "sub/"
    argv = runner.calls[0][0]
    assert argv[:7] == [
        "git",
        "--no-optional-locks",
        "--literal-pathspecs",
        "-c",
        "core.fsmonitor=false",
        "-c",
        "core.quotepath=off",
    ]
    assert repo.local("sub/a.py") == "a.py" and repo.local("other/a.py") is None


def test_no_git_or_no_repository_means_no_repo(tmp_path: Path) -> None:
    """A missing git executable, or git saying 'not a repository', gives None."""
    assert find_repo(tmp_path, FakeBytesRunner()) is None
    refusing = FakeBytesRunner(lambda argv, stdin: BytesResult(128, b"", "not a git repository"))
    assert find_repo(tmp_path, refusing) is None


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.integration
def test_a_real_repository_reports_status_tree_and_blobs(tmp_path: Path) -> None:
    """In a subfolder workspace: status relative to the top, the tree's blobs, contents
    exactly as committed (CRLF kept)."""
    git(tmp_path, "init", "-q")
    workspace = tmp_path / "proj"
    workspace.mkdir()
    (workspace / "a.py").write_bytes(b"one\r\ntwo\r\n")
    (tmp_path / "outside.py").write_text("o")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "init")
    (workspace / "a.py").write_text("changed")
    (workspace / "new.py").write_text("n")
    (tmp_path / "outside.py").write_text("changed too")
    repo = find_repo(workspace, SubprocessRunner())
    assert repo is not None and repo.top == tmp_path.resolve() and repo.prefix == "proj/"
    assert repo.tracks_anything(workspace)
    entries = {(e.path, e.untracked) for e in repo.status(workspace)}
    assert entries == {("proj/a.py", False), ("proj/new.py", True)}
    head = repo.head()
    assert head is not None
    tree = repo.tree(head, ["proj/a.py", "proj/missing.py"])
    assert list(tree) == ["proj/a.py"]
    assert repo.blobs([tree["proj/a.py"].sha]) == {tree["proj/a.py"].sha: b"one\r\ntwo\r\n"}
    assert repo.changed_since(head, workspace) == ["proj/a.py"]
    with pytest.raises(GitError, match="exited with"):
        repo.tree("not-a-commit", ["x"])
