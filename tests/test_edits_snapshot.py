"""The start of a session and the changes since: with git and by scanning, on real files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fakes import FakeBytesRunner
from tests.test_edits_tree import GIB, bytes_read_by_this_process
from vscode_interactive._edits._patch import FileChange, PatchHeader, render_patch
from vscode_interactive._edits._snapshot import Limits, changes_since, take_snapshot
from vscode_interactive._edits._tree import TooManyFiles
from vscode_interactive._system._processes import SubprocessRunner

pytestmark = pytest.mark.integration

FILES = {
    "train.py": b"def train(rate):\n    return rate * 2\n",
    "model.py": b"class Model:\n    pass\n",
    "data/config.yaml": b"rate: 0.1\n",
    "old_notes.md": b"# notes\n",
    "untouched.py": b"x = 1\n",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def make_workspace(root: Path, *, with_git: bool) -> Path:
    root.mkdir()
    for path, data in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / ".vscode-interactive").mkdir()
    (root / ".vscode-interactive" / ".gitignore").write_text("*\n")
    if with_git:
        git(root, "init", "-q")
        git(root, "add", ".")
        git(root, "commit", "-qm", "start")
    return root


def edit_like_a_user(root: Path) -> None:
    """Edit two files, add one, delete one."""
    (root / "train.py").write_bytes(b"def train(rate):\n    return rate * 3  # fixed\n")
    (root / "data/config.yaml").write_bytes(b"rate: 0.01\n")
    (root / "debug_helpers.py").write_bytes(b"def show(x):\n    print(x)\n")
    (root / "old_notes.md").unlink()


def apply(patch: bytes, pristine: Path, tool: str) -> None:
    """Apply ``patch`` in ``pristine`` with ``git apply`` or ``patch -p1``; assert success."""
    argv = ["git", "apply", "-"] if tool == "git" else ["patch", "-p1", "--quiet"]
    done = subprocess.run(argv, cwd=pristine, input=patch, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
        and not {".git", ".vscode-interactive"} & set(path.relative_to(root).parts)
    }


def paths(changes: list[FileChange]) -> list[tuple[str, str]]:
    return [(change.path, change.kind) for change in changes]


@pytest.mark.parametrize("with_git", [True, False], ids=["git", "scan"])
@pytest.mark.parametrize("tool", ["git", "patch"])
def test_two_edits_an_addition_and_a_deletion_reproduce_the_edited_tree(
    tmp_path: Path, with_git: bool, tool: str
) -> None:
    """The patch of a session applies cleanly to a pristine copy (git apply, patch -p1)
    and the copy then equals the edited workspace."""
    root = make_workspace(tmp_path / "ws", with_git=with_git)
    pristine = tmp_path / "pristine"
    shutil.copytree(root, pristine, ignore=shutil.ignore_patterns(".vscode-interactive"))
    snapshot = take_snapshot(root, root / ".vscode-interactive" / "base", SubprocessRunner())
    assert snapshot.method == ("git" if with_git else "scan")
    edit_like_a_user(root)
    changes = changes_since(snapshot)
    assert paths(changes) == [
        ("data/config.yaml", "modified"),
        ("debug_helpers.py", "added"),
        ("old_notes.md", "deleted"),
        ("train.py", "modified"),
    ]
    apply(render_patch(changes, PatchHeader(("h",))).data, pristine, tool)
    assert files_of(pristine) == files_of(root)


def test_files_dirty_at_the_start_diff_against_their_start_content(tmp_path: Path) -> None:
    """Uncommitted work from before the session is not part of the patch: a dirty file's
    "before" is its content at the start, an untracked file edited later is a change."""
    root = make_workspace(tmp_path / "ws", with_git=True)
    (root / "model.py").write_bytes(b"class Model:\n    layers = 3\n")  # before the session
    (root / "scratch.py").write_bytes(b"a = 1\n")  # untracked, before the session
    snapshot = take_snapshot(root, root / ".vscode-interactive" / "base", SubprocessRunner())
    assert sorted(snapshot.files) == ["model.py", "scratch.py"]
    (root / "scratch.py").write_bytes(b"a = 2\n")
    changes = changes_since(snapshot)
    assert paths(changes) == [("scratch.py", "modified")]
    before, after = changes[0].before, changes[0].after
    assert before is not None and after is not None
    assert (before.content, after.content) == (b"a = 1\n", b"a = 2\n")


def test_a_commit_made_during_the_session_stays_in_the_patch(tmp_path: Path) -> None:
    """The user commits in the IDE's terminal: the patch still holds the change (against
    the commit the session started from)."""
    root = make_workspace(tmp_path / "ws", with_git=True)
    snapshot = take_snapshot(root, root / ".vscode-interactive" / "base", SubprocessRunner())
    (root / "train.py").write_bytes(b"def train(rate):\n    return 0\n")
    git(root, "commit", "-qam", "fix during the session")
    assert paths(changes_since(snapshot)) == [("train.py", "modified")]


def test_git_ignored_files_and_untracked_environments_are_not_recorded(tmp_path: Path) -> None:
    """What git ignores, and an untracked virtual environment, are left out at both ends."""
    root = make_workspace(tmp_path / "ws", with_git=True)
    (root / ".gitignore").write_text("outputs/\n")
    git(root, "add", ".gitignore")
    git(root, "commit", "-qm", "ignore outputs")
    snapshot = take_snapshot(root, root / ".vscode-interactive" / "base", SubprocessRunner())
    (root / "outputs").mkdir()
    (root / "outputs" / "run.log").write_text("log")
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "site.py").write_text("x")
    (root / "train.py").write_text("changed\n")
    assert paths(changes_since(snapshot)) == [("train.py", "modified")]


@pytest.mark.parametrize("with_git", [True, False], ids=["git", "scan"])
def test_a_2_gb_data_file_is_never_read_and_named_when_it_changes(
    tmp_path: Path, with_git: bool
) -> None:
    """A 2 GB file (sparse) costs a stat: recording and diffing read far less than it; when
    it grows it is named in the patch, not inlined."""
    root = make_workspace(tmp_path / "ws", with_git=False)
    with (root / "data" / "big.bin").open("wb") as handle:
        handle.truncate(2 * GIB)
    if with_git:
        git(root, "init", "-q")
        git(root, "add", "train.py")
        git(root, "commit", "-qm", "start")
    read_before = bytes_read_by_this_process()
    snapshot = take_snapshot(root, root / ".vscode-interactive" / "base", SubprocessRunner())
    with (root / "data" / "big.bin").open("ab") as handle:
        handle.write(b"more")
    changes = changes_since(snapshot)
    assert bytes_read_by_this_process() - read_before < 64 << 20
    big = next(change for change in changes if change.path == "data/big.bin")
    assert big.kind == "modified" and "larger than 4 MiB" in big.reason
    text = render_patch(changes, PatchHeader()).data
    assert b"#   data/big.bin (larger than 4 MiB, not read, modified)" in text
    assert (root / ".vscode-interactive" / "base").stat().st_size < 1 << 20


def test_copies_stop_at_the_budget_and_such_files_are_compared_by_stat(tmp_path: Path) -> None:
    """Past the total copy budget a file keeps only its stat; if it changes it is named."""
    root = make_workspace(tmp_path / "ws", with_git=False)
    limits = Limits(file_bytes=1 << 20, total_bytes=40, files=100)
    snapshot = take_snapshot(root, root / ".vscode-interactive" / "base", FakeBytesRunner(), limits)
    not_copied = sorted(path for path, start in snapshot.files.items() if start.offset < 0)
    assert not_copied and all("copied" in snapshot.files[p].reason for p in not_copied)
    (root / not_copied[0]).write_bytes(b"changed\n")
    [change] = changes_since(snapshot, limits)
    assert change.path == not_copied[0] and change.before is not None
    assert change.before.content is None and "copied" in change.reason


def test_a_workspace_with_too_many_files_is_not_recorded(tmp_path: Path) -> None:
    """Outside git, a tree larger than the file limit is refused (a home folder, /)."""
    root = make_workspace(tmp_path / "ws", with_git=False)
    with pytest.raises(TooManyFiles):
        take_snapshot(
            root, root / ".vscode-interactive" / "base", FakeBytesRunner(), Limits(files=3)
        )


def test_the_base_pack_is_private(tmp_path: Path) -> None:
    """The copies of the user's files are readable by the user only."""
    root = make_workspace(tmp_path / "ws", with_git=False)
    base = root / ".vscode-interactive" / "base"
    take_snapshot(root, base, FakeBytesRunner())
    assert base.stat().st_mode & 0o777 == 0o600
