"""The one part of the workspace room that touches the disk.

A workspace is written from a plan: a sequence of :class:`FileWrite` values that the pure
code decides, handed to :func:`write_files`, the one write loop. Every file goes through
:func:`~vscode_interactive._system._files.write_atomic`, so a reader (VS Code, the user, a
crashed job being restarted) sees the old file or the new one, never half of one, and is
a new file (nothing that was at its path is written through). A replaced file keeps its
permission bits unless the plan names a mode (the state directory's files always do:
0600); a new one is private (``0o600``) whatever the umask. A folder it creates
(``.vscode``) is never writable by others, whatever the umask.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .._system._files import create_dir, ensure_private_dir, write_atomic
from ._vscode import MergeResult

__all__ = [
    "LAUNCH_SIDE_FILE",
    "SETTINGS_SIDE_FILE",
    "FileWrite",
    "apply_merge",
    "backup",
    "ensure_state_dir",
    "plan_merge",
    "read_text_or_none",
    "write_files",
]

LAUNCH_SIDE_FILE = "launch.vscode-interactive.json"
SETTINGS_SIDE_FILE = "settings.vscode-interactive.json"


@dataclass(frozen=True, slots=True)
class FileWrite:
    """One file of a plan: its path and content (text, bytes, or byte chunks in order).

    ``mode`` forces the permission bits; ``None`` keeps those of the file being replaced
    (a user's ``launch.json``), ``0o600`` for a new one. ``backup_first`` copies an
    existing file to a fresh ``.bak`` beside it before it is replaced.
    """

    path: Path
    data: str | bytes | tuple[bytes, ...]
    mode: int | None = None
    backup_first: bool = False


def write_files(writes: Iterable[FileWrite]) -> tuple[Path, ...]:
    """Write each planned file in order (parents created); returns the backups made."""
    made: list[Path] = []
    for item in writes:
        create_dir(item.path.parent)
        if item.backup_first and item.path.exists():
            made.append(backup(item.path))
        mode = 0o600 if item.mode is None else item.mode
        write_atomic(item.path, item.data, mode=mode, keep_mode=item.mode is None)
    return tuple(made)


def read_text_or_none(path: Path) -> str | None:
    """The file's text, or ``None`` when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def backup(path: Path) -> Path:
    """Copy ``path`` (content, mode, times) to the first free ``<name>.bak``,
    ``<name>.bak.1``, ... beside it.

    An earlier backup is never overwritten, so the first one stays the user's original.
    """
    candidate = path.with_name(path.name + ".bak")
    index = 0
    while os.path.lexists(candidate):
        index += 1
        candidate = path.with_name(f"{path.name}.bak.{index}")
    original = path.stat()
    write_atomic(candidate, path.read_bytes(), mode=stat.S_IMODE(original.st_mode))
    os.utime(candidate, ns=(original.st_atime_ns, original.st_mtime_ns), follow_symlinks=False)
    return candidate


def ensure_state_dir(root: Path) -> None:
    """Create the state directory (0700, ours: see
    :func:`~vscode_interactive._system._files.ensure_private_dir`) with a ``.gitignore``
    that ignores everything in it."""
    ensure_private_dir(root)
    gitignore = root / ".gitignore"
    write_files([FileWrite(gitignore, "*\n", mode=0o600)])


def plan_merge(
    path: Path, result: MergeResult, side_name: str
) -> tuple[FileWrite | None, Path, str | None]:
    """What to write for a merge result: (the write or None, file holding ours, warning).

    A changed file is backed up before it is replaced; an unparseable one is left
    untouched and our entries go to ``side_name`` beside it.
    """
    if result.text is None:
        side = path.with_name(side_name)
        warning = (
            f"could not parse {path} ({result.error}); left it untouched and wrote our "
            f"entries to {side}. VS Code reads only {path.name}: fix it, or copy them over."
        )
        return FileWrite(side, result.side_text or ""), side, warning
    if result.changed:
        return FileWrite(path, result.text, backup_first=True), path, None
    return None, path, None


def apply_merge(
    path: Path, result: MergeResult, side_name: str
) -> tuple[Path, Path | None, str | None]:
    """Write a merge result now: (file holding ours, backup made, warning for the log)."""
    write, holder, warning = plan_merge(path, result, side_name)
    made = write_files([write] if write is not None else [])
    return holder, made[0] if made else None, warning
