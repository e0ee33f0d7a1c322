"""Session file helpers: private secrets, atomic JSON, log tails."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from vscode_interactive._system._files import (
    mtime_or_none,
    read_log_tail,
    remove_quietly,
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
