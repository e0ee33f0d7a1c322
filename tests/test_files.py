"""File helpers: the one atomic write (also under kill -9), secrets, JSON, log tails."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vscode_interactive._system._files import (
    TEMP_SUFFIX,
    mtime_or_none,
    read_log_tail,
    remove_quietly,
    temp_path_beside,
    write_atomic,
    write_json_atomic,
    write_secret,
)


def test_secret_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    """The password file is created 0600 (not chmod-ed later) and replaces an old one."""
    target = tmp_path / "password"
    target.write_text("old")
    target.chmod(0o644)
    previous = os.umask(0)
    try:
        write_secret(target, "new-secret")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == "new-secret"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["password"]


def test_json_written_atomically_without_temp_leftovers(tmp_path: Path) -> None:
    """JSON lands complete under its name; no temporary file stays behind."""
    target = tmp_path / "session.json"
    write_json_atomic(target, {"url": "http://x", "pid": 3})
    assert json.loads(target.read_text()) == {"url": "http://x", "pid": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["session.json"]


def test_log_tail_reads_only_after_offset_and_last_lines(tmp_path: Path) -> None:
    """Lines from an earlier launch (before the offset) are not part of the tail."""
    log = tmp_path / "code-server.log"
    log.write_text("old run\n")
    offset = log.stat().st_size
    with log.open("a") as handle:
        handle.writelines(f"line {i}\n" for i in range(50))
    tail = read_log_tail(log, offset, lines=3)
    assert tail == "line 47\nline 48\nline 49"
    assert "old run" not in read_log_tail(log, offset, lines=100)
    assert read_log_tail(tmp_path / "missing.log") == ""


def test_mtime_and_remove_tolerate_missing_files(tmp_path: Path) -> None:
    """A missing heartbeat file has no mtime; removing a missing file is not an error."""
    path = tmp_path / "heartbeat"
    assert mtime_or_none(path) is None
    path.write_text("")
    assert mtime_or_none(path) == path.stat().st_mtime
    remove_quietly(path)
    remove_quietly(path)
    assert not path.exists()


_WRITER_LOOP = """
import json, sys
from pathlib import Path
from vscode_interactive._system._files import write_atomic
target = Path(sys.argv[1])
version = 0
while True:
    version += 1
    write_atomic(target, json.dumps({"version": version, "pad": "x" * 400_000}))
    print(version, flush=True)
"""


def test_kill_9_mid_write_leaves_one_complete_version(tmp_path: Path) -> None:
    """A writer SIGKILLed while rewriting in a loop leaves the old or the new file, whole.

    What may stay behind is only the killed writer's own temp file, recognisable by name.
    """
    target = tmp_path / "state.json"
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER_LOOP, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    try:
        completed = [int(child.stdout.readline()) for _ in range(20)]  # blocks per write
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    data = json.loads(target.read_text())
    assert data["version"] >= completed[-1] and data["pad"] == "x" * 400_000
    leftovers = {p.name for p in tmp_path.iterdir()} - {"state.json"}
    assert all(
        name.startswith(f".state.json.{child.pid}.") and name.endswith(TEMP_SUFFIX)
        for name in leftovers
    ), leftovers


def test_atomic_write_replaces_a_symlink_instead_of_following_it(tmp_path: Path) -> None:
    """A symlink planted at the target is replaced; the file it pointed to is untouched."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "launch.json"
    target.symlink_to(victim)
    write_atomic(target, "{}")
    assert not target.is_symlink() and target.read_text() == "{}"
    assert victim.read_text() == "precious"


def test_atomic_write_never_opens_a_planted_temp_name(tmp_path: Path) -> None:
    """Temp names are unpredictable: two writes never use the same one."""
    names = {temp_path_beside(tmp_path / "x").name for _ in range(100)}
    assert len(names) == 100
    assert all(n.startswith(f".x.{os.getpid()}.") and n.endswith(TEMP_SUFFIX) for n in names)


@pytest.mark.parametrize("umask", [0o000, 0o077])
def test_atomic_write_mode_is_exact_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    """The mode asked for is the mode set (fchmod), not the mode the umask leaves."""
    previous = os.umask(umask)
    try:
        write_atomic(tmp_path / "private", b"1")
        write_atomic(tmp_path / "shared", b"1", mode=0o644)
        write_atomic(tmp_path / "umask", b"1", mode=None)
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"private": 0o600, "shared": 0o644, "umask": 0o666 & ~umask}


def test_atomic_write_keeps_the_replaced_files_mode_when_asked(tmp_path: Path) -> None:
    """keep_mode keeps a user's 0640; a new file still gets the given mode."""
    mine = tmp_path / "settings.json"
    mine.write_text("{}")
    mine.chmod(0o640)
    write_atomic(mine, "{ }", keep_mode=True)
    write_atomic(tmp_path / "new.json", "{}", keep_mode=True)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o600


def test_failed_atomic_write_removes_its_temp_and_keeps_the_target(tmp_path: Path) -> None:
    """An error while producing the data leaves the old file and no temp file."""
    target = tmp_path / "inputs.pkl"
    target.write_bytes(b"old")

    def chunks() -> Iterator[bytes]:
        yield b"new"
        raise RuntimeError("pickling failed")

    with pytest.raises(RuntimeError, match="pickling failed"):
        write_atomic(target, chunks())
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["inputs.pkl"]


def test_keep_mode_never_takes_the_mode_of_a_symlink(tmp_path: Path) -> None:
    """A symlink at the target (its own mode is 0777) gives no mode: the new file is 0600."""
    victim = tmp_path / "victim"
    victim.write_text("{}")
    link = tmp_path / "launch.json"
    link.symlink_to(victim)
    write_atomic(link, "{ }", keep_mode=True)
    assert not link.is_symlink() and stat.S_IMODE(link.stat().st_mode) == 0o600


def test_keep_mode_drops_set_id_bits(tmp_path: Path) -> None:
    """A replaced file's setuid/setgid bits are not carried over to the new file."""
    mine = tmp_path / "script"
    mine.write_text("x")
    mine.chmod(0o6755)
    write_atomic(mine, "y", keep_mode=True)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o755


def test_log_tail_does_not_follow_a_symlink(tmp_path: Path) -> None:
    """A log replaced by a symlink (to a secret) yields nothing, not the target's text."""
    secret = tmp_path / "shadow"
    secret.write_text("root:hash\n")
    log = tmp_path / "code-server.log"
    log.symlink_to(secret)
    assert read_log_tail(log) == ""


def test_private_append_replaces_a_symlink_and_never_writes_through_it(tmp_path: Path) -> None:
    """The server log is opened for appending without following a symlink planted there:
    the target keeps its content, the log becomes our own 0600 file."""
    from vscode_interactive._system._files import open_private_append

    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    log = tmp_path / "code-server.log"
    log.symlink_to(victim)
    with os.fdopen(open_private_append(log), "ab") as out:
        out.write(b"server output\n")
    assert victim.read_text() == "precious\n"
    assert not log.is_symlink() and log.read_bytes() == b"server output\n"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
