"""Reading the user's workspace: which files count, their stat, and small files' bytes.

The only module of the edit record that reads the user's tree. It never follows a
symbolic link (a link inside the workspace could point anywhere, and what is read may be
uploaded), never opens a file it did not first see as a regular file, and never reads
more than ``limit`` bytes of one: a 2 GB data file costs one ``lstat``.

Which paths count is decided by the pure :func:`skipped_dir` and :func:`counted`: the
state directory, version-control folders, virtual environments and the usual caches are
left out.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .._layout import STATE_DIR_NAME

__all__ = [
    "SKIPPED_DIR_NAMES",
    "FileStat",
    "TooManyFiles",
    "counted",
    "read_limited",
    "skipped_dir",
    "stat_of",
    "walk",
]

SKIPPED_DIR_NAMES = frozenset(
    {
        STATE_DIR_NAME,
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".ipynb_checkpoints",
        "node_modules",
        ".eggs",
        ".cache",
    }
)
"""Folders never looked into: ours, version control, environments and caches."""

_ENVIRONMENT_MARKERS = ("pyvenv.cfg", "conda-meta")
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class FileStat:
    """What ``lstat`` says about a regular file; equal stats mean an untouched file."""

    size: int
    mtime_ns: int
    inode: int
    mode: int

    @classmethod
    def of(cls, result: os.stat_result) -> FileStat:
        return cls(result.st_size, result.st_mtime_ns, result.st_ino, result.st_mode)

    @property
    def executable(self) -> bool:
        return bool(self.mode & stat.S_IXUSR)


class TooManyFiles(Exception):
    """The walk met more files than it may record."""


def skipped_dir(name: str) -> bool:
    """True for a folder name never looked into (see :data:`SKIPPED_DIR_NAMES`)."""
    return name in SKIPPED_DIR_NAMES or name.endswith(".egg-info")


def counted(relative: str) -> bool:
    """True when a workspace-relative path (``/``-separated) is not inside a skipped folder."""
    return not any(skipped_dir(part) for part in relative.split("/")[:-1])


def _is_environment(directory: str) -> bool:
    # os.path, not pathlib, on purpose here and in walk(): they run once per folder and
    # file of a large workspace, where Path objects cost a third of the time.
    return any(
        os.path.lexists(os.path.join(directory, marker))  # noqa: PTH118
        for marker in _ENVIRONMENT_MARKERS
    )


def walk(root: Path, *, max_files: int) -> Iterator[tuple[str, FileStat]]:
    """Every regular file under ``root`` that counts, as (``/``-separated relative path,
    stat), without following links or entering other file systems (mounted data sets,
    ``/proc``). Raises :class:`TooManyFiles` past ``max_files``."""
    device = os.lstat(root).st_dev
    pending = [""]
    seen = 0
    while pending:
        prefix = pending.pop()
        directory = os.path.join(root, prefix) if prefix else str(root)  # noqa: PTH118
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue  # unreadable or vanished: nothing of it can be recorded
        for entry in entries:
            relative = f"{prefix}/{entry.name}" if prefix else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                if skipped_dir(entry.name) or info.st_dev != device:
                    continue
                if _is_environment(entry.path):
                    continue
                pending.append(relative)
            elif stat.S_ISREG(info.st_mode):
                seen += 1
                if seen > max_files:
                    raise TooManyFiles(f"more than {max_files} files")
                yield relative, FileStat.of(info)


def stat_of(path: Path) -> FileStat | None:
    """The file's stat when it is a regular file; ``None`` when it is absent, a link, a
    folder or anything else."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return FileStat.of(info) if stat.S_ISREG(info.st_mode) else None


def read_limited(path: str | Path, limit: int) -> tuple[FileStat, bytes | None] | None:
    """``(stat, content)`` of a regular file, content ``None`` when it holds more than
    ``limit`` bytes (then nothing is read). ``None`` when it is absent, a link or not a
    regular file. The stat is taken on the opened file, so it matches the bytes read."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > limit:
            return FileStat.of(info), None
        chunks = []
        wanted = info.st_size + 1  # one read: a short one means the end of the file
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(wanted, limit + 1 - total))
            chunks.append(chunk)
            total += len(chunk)
            if len(chunk) < wanted:
                break
            wanted = 1 << 20  # the file grew while read
        data = b"".join(chunks)
        return FileStat.of(info), (data if len(data) <= limit else None)
    except OSError:
        return None
    finally:
        os.close(fd)
