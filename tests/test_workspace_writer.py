"""The writer: atomic replacement, backups that never overwrite, broken files left alone."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from vscode_interactive._workspace._vscode import MergeResult, merge_launch
from vscode_interactive._workspace._writer import (
    FileWrite,
    apply_merge,
    backup,
    ensure_state_dir,
    plan_merge,
    write_files,
)


def write_atomic(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    write_files([FileWrite(path, data, mode=mode)])


def _names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_write_creates_parents_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """After a write only the target exists in its directory."""
    target = tmp_path / "a" / "b" / "file.json"
    write_atomic(target, "one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert _names(target.parent) == ["file.json"]


def test_replacing_keeps_the_files_permissions(tmp_path: Path) -> None:
    """A user's file made read-only for others keeps its mode after we rewrite it."""
    target = tmp_path / "settings.json"
    target.write_text("{}")
    target.chmod(0o640)
    write_atomic(target, "{ }")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_explicit_mode_is_applied(tmp_path: Path) -> None:
    """Captured inputs can be written readable by the owner only."""
    target = tmp_path / "inputs.pkl"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_atomic(target, b"\x80", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_new_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """A file the session creates is 0600 even under umask 0."""
    previous = os.umask(0)
    try:
        write_atomic(tmp_path / "DEBUGGING.md", "# hi")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "DEBUGGING.md").stat().st_mode) == 0o600


def test_plan_of_a_merge_is_a_value_and_writes_nothing(tmp_path: Path) -> None:
    """plan_merge only says what to write: the backup-first write, or nothing at all."""
    path = tmp_path / "launch.json"
    write, holder, warning = plan_merge(path, MergeResult(text="{}\n", changed=True), "side")
    assert write == FileWrite(path, "{}\n", backup_first=True)
    assert (holder, warning) == (path, None)
    assert plan_merge(path, MergeResult(text="{}\n", changed=False), "side")[0] is None
    assert _names(tmp_path) == []


def test_failed_replace_cleans_up_and_keeps_the_target(tmp_path: Path) -> None:
    """When the final rename fails, the temporary file is removed and nothing changes."""
    target = tmp_path / "launch.json"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(IsADirectoryError):
        write_atomic(target, "new")
    assert _names(tmp_path) == ["launch.json"]
    assert (target / "keep").read_text() == "x"


def test_readers_never_see_half_a_file(tmp_path: Path) -> None:
    """A reader polling during many rewrites only ever sees one complete version."""
    target = tmp_path / "big.txt"
    versions = {b"a" * 300_000, b"b" * 300_000}
    write_atomic(target, b"a" * 300_000)
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(target.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(60):
            write_atomic(target, (b"a" if i % 2 else b"b") * 300_000)
    finally:
        done.set()
        reader.join()
    assert seen and seen <= versions


def test_backups_never_overwrite_an_earlier_one(tmp_path: Path) -> None:
    """The first backup keeps the user's original; later ones get numbered names."""
    original = tmp_path / "launch.json"
    original.write_text("original")
    first = backup(original)
    original.write_text("second")
    second = backup(original)
    assert (first.name, second.name) == ("launch.json.bak", "launch.json.bak.1")
    assert first.read_text() == "original" and second.read_text() == "second"


def test_backup_keeps_mode_and_modification_time(tmp_path: Path) -> None:
    """A backup is a copy of the user's file: same mode, same mtime."""
    original = tmp_path / "settings.json"
    original.write_text("{}")
    original.chmod(0o640)
    os.utime(original, ns=(1_000_000_000, 2_000_000_000))
    made = backup(original)
    assert stat.S_IMODE(made.stat().st_mode) == 0o640
    assert made.stat().st_mtime_ns == 2_000_000_000


def test_state_dir_ignores_itself_for_git(tmp_path: Path) -> None:
    """The state directory gets a .gitignore holding ``*``."""
    ensure_state_dir(tmp_path / ".vscode-interactive")
    assert (tmp_path / ".vscode-interactive" / ".gitignore").read_text() == "*\n"


def test_changed_file_is_backed_up_before_rewriting(tmp_path: Path) -> None:
    """Merging into a user's launch.json first copies the original beside it."""
    path = tmp_path / "launch.json"
    original = '{"configurations": [] // mine\n}'
    path.write_text(original)
    result = MergeResult(text="{}\n", changed=True)
    written, made, warning = apply_merge(path, result, "side.json")
    assert (written, warning) == (path, None)
    assert made is not None and made.read_text() == original
    assert path.read_text() == "{}\n"


def test_unchanged_file_is_neither_rewritten_nor_backed_up(tmp_path: Path) -> None:
    """An up-to-date file keeps its bytes and no backup appears."""
    path = tmp_path / "launch.json"
    path.write_text("{}\n")
    written, made, _ = apply_merge(path, MergeResult(text="{}\n", changed=False), "side.json")
    assert (written, made) == (path, None)
    assert _names(tmp_path) == ["launch.json"]


def test_unparseable_file_is_untouched_and_ours_goes_beside_it(tmp_path: Path) -> None:
    """A broken launch.json keeps its exact bytes; ours is written next to it, with a warning."""
    path = tmp_path / "launch.json"
    broken = b'{"configurations": [ {"name": "x"} {"name": "y"} ]}'
    path.write_bytes(broken)
    before = path.stat().st_mtime_ns
    result = merge_launch(broken.decode(), [{"name": "Interactive Debugging"}])
    written, made, warning = apply_merge(path, result, "launch.vscode-interactive.json")
    assert path.read_bytes() == broken and path.stat().st_mtime_ns == before
    assert made is None and written == tmp_path / "launch.vscode-interactive.json"
    assert '"Interactive Debugging"' in written.read_text()
    assert warning is not None
    assert str(path) in warning and "line 1 column 36" in warning and str(written) in warning
