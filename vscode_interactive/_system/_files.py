"""Small file helpers: the one atomic file write, a private secret, JSON, a log tail.

:func:`write_atomic` is the only way the library replaces a file's content; every room
(session files, the workspace, the cache's records, the installer's memo) calls it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = [
    "TEMP_SUFFIX",
    "mtime_or_none",
    "read_log_tail",
    "remove_quietly",
    "temp_path_beside",
    "write_atomic",
    "write_json_atomic",
    "write_secret",
]

TEMP_SUFFIX = ".tmp"
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# Errors of fsync on a directory that mean "this file system does not do that", not
# "the data is lost": the rename has happened either way.
_DIR_SYNC_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}


def temp_path_beside(path: Path) -> Path:
    """An unpredictable name beside ``path``: ``.<name>.<pid>.<16 hex>.tmp``.

    Hidden, recognisable by its prefix and suffix, and holding the pid of the process
    that made it, so a reader of the directory can tell a leftover of a dead process.
    """
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}{TEMP_SUFFIX}")


def write_atomic(
    path: Path,
    data: str | bytes | Iterable[bytes],
    *,
    mode: int | None = 0o600,
    keep_mode: bool = False,
) -> None:
    """Replace ``path``'s content with ``data`` (text as UTF-8, bytes, or byte chunks).

    How: a new file with an unpredictable name beside ``path`` (see
    :func:`temp_path_beside`) is created with ``O_CREAT|O_EXCL|O_NOFOLLOW``, so nothing
    that was already there (a file, a planted symlink) is opened; it is written,
    ``fchmod``-ed, ``fsync``-ed, renamed over ``path`` with :func:`os.replace`, and the
    directory is ``fsync``-ed. ``path`` itself is never opened: if it is a symlink, the
    link is replaced, its target is left alone. The parent directory must exist.

    ``mode`` is the new file's permission bits, set with ``fchmod`` so the umask does not
    narrow or widen them (default ``0o600``: private). ``None`` lets the umask decide
    (``0o666`` filtered by it), for files a group shares, such as the cache's records.
    ``keep_mode`` keeps the permission bits of the file being replaced, if there is one
    (a user's ``.vscode/settings.json``).

    Guarantees, also after ``kill -9`` of the writer or a power loss at any point: a
    reader of ``path`` finds the complete old content or the complete new content, never
    a mix or a truncated file; once this returns, the new content is on disk. A process
    killed while writing leaves its temp file ``.<name>.<pid>.<hex>.tmp`` behind (any
    other failure removes it). Nothing reads such a file; it is recognisable by its name
    and the pid in it names the dead writer, so whoever owns the directory may delete it
    (``Cache.prune`` removes old ones from the cache's records directory).

    There is no way to skip the ``fsync``: every caller writes small files (JSON, scripts,
    captured inputs) where it costs well under the time to produce them; the cache's large
    downloads stream to their own ``.part`` files and are published by one rename.
    """
    chunks: Iterable[bytes]
    if isinstance(data, str):
        chunks = (data.encode("utf-8"),)
    elif isinstance(data, bytes):
        chunks = (data,)
    else:
        chunks = data
    if keep_mode:
        with contextlib.suppress(OSError):
            mode = path.lstat().st_mode & 0o7777
    temp = temp_path_beside(path)
    fd = os.open(temp, _CREATE, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk)
            stream.flush()
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (where the file system supports it)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        if error.errno in _DIR_SYNC_UNSUPPORTED:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in _DIR_SYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte (never readable by
    others, not even briefly), atomically."""
    write_atomic(path, text, mode=0o600)


def write_json_atomic(path: Path, data: Mapping[str, object]) -> None:
    """Write ``data`` as indented JSON (mode 0600) with :func:`write_atomic`."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


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
