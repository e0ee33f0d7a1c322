"""The one part of the workspace room that touches the disk.

Every write goes to a temporary file in the target's directory and is then renamed over
the target with :func:`os.replace`, so a reader (VS Code, the user, a crashed job being
restarted) sees the old file or the new one, never half of one. A replaced file keeps
its permission bits; a new one gets the usual ``0o666`` minus the umask, or ``mode``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from ._vscode import MergeResult

__all__ = [
    "LAUNCH_SIDE_FILE",
    "SETTINGS_SIDE_FILE",
    "apply_merge",
    "backup",
    "ensure_state_dir",
    "read_text_or_none",
    "write_atomic",
]

LAUNCH_SIDE_FILE = "launch.vscode-interactive.json"
SETTINGS_SIDE_FILE = "settings.vscode-interactive.json"


def _temporary(path: Path) -> Path:
    """A name beside ``path`` that no other process or thread will pick."""
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def write_atomic(
    path: Path, data: str | bytes | Sequence[bytes], *, mode: int | None = None
) -> None:
    """Write ``data`` (text, bytes, or byte chunks in order) to ``path`` all at once.

    Parent directories are created as needed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        chunks: Sequence[bytes] = (data.encode("utf-8"),)
    elif isinstance(data, bytes):
        chunks = (data,)
    else:
        chunks = data
    tmp = _temporary(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is None:
            with contextlib.suppress(FileNotFoundError):
                tmp.chmod(path.stat().st_mode & 0o7777)
        else:
            tmp.chmod(mode)  # the umask may have narrowed the mode given to open()
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def read_text_or_none(path: Path) -> str | None:
    """The file's text, or ``None`` when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def backup(path: Path) -> Path:
    """Copy ``path`` to the first free ``<name>.bak``, ``<name>.bak.1``, ... beside it.

    An earlier backup is never overwritten, so the first one stays the user's original.
    """
    candidate = path.with_name(path.name + ".bak")
    index = 0
    while candidate.exists():
        index += 1
        candidate = path.with_name(f"{path.name}.bak.{index}")
    tmp = _temporary(candidate)
    try:
        import shutil  # only needed when a user's file is replaced

        shutil.copy2(path, tmp)
        tmp.replace(candidate)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return candidate


def ensure_state_dir(root: Path) -> None:
    """Create the state directory with a ``.gitignore`` that ignores everything in it."""
    root.mkdir(parents=True, exist_ok=True)
    gitignore = root / ".gitignore"
    if read_text_or_none(gitignore) != "*\n":
        write_atomic(gitignore, "*\n")


def apply_merge(
    path: Path, result: MergeResult, side_name: str
) -> tuple[Path, Path | None, str | None]:
    """Write a merge result: (file holding ours, backup made, warning for the log).

    A changed file is backed up before it is replaced; an unparseable one is left
    untouched and our entries go to ``side_name`` beside it.
    """
    if result.text is None:
        side = path.with_name(side_name)
        write_atomic(side, result.side_text or "")
        warning = (
            f"could not parse {path} ({result.error}); left it untouched and wrote our "
            f"entries to {side}. VS Code reads only {path.name}: fix it, or copy them over."
        )
        return side, None, warning
    made = None
    if result.changed:
        if path.exists():
            made = backup(path)
        write_atomic(path, result.text)
    return path, made, None
