"""Small file helpers for session files: atomic writes, a private secret, a log tail."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "mtime_or_none",
    "read_log_tail",
    "remove_quietly",
    "write_json_atomic",
    "write_secret",
]


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte, then rename into
    place, so the secret is never readable by others, not even briefly."""
    temp = _temp_beside(path)
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        temp.chmod(0o600)  # in case a filesystem ignored the creation mode
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Mapping[str, object]) -> None:
    """Write JSON through a temporary file and one rename: readers never see half a file."""
    temp = _temp_beside(path)
    try:
        temp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def mtime_or_none(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def read_log_tail(
    path: Path, offset: int = 0, *, lines: int = 30, max_bytes: int = 64 * 1024
) -> str:
    """The last ``lines`` lines written to ``path`` after byte ``offset`` ('' if none)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(offset, size - max_bytes)
            handle.seek(start)
            data = handle.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])
