"""Small file helpers: the one atomic file write, a private secret, JSON, a log tail,
the private state directory and the server log.

:func:`write_atomic` is the only way the library replaces a file's content; every room
(session files, the workspace, the cache's records, the installer's memo) calls it.
:func:`ensure_private_dir` is the only way the session's state directory is created or
accepted; :func:`open_private_append` the only way the server log is opened. None of them
follows a symlink it did not create.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from .._errors import StateDirError

__all__ = [
    "TEMP_SUFFIX",
    "create_dir",
    "ensure_private_dir",
    "lock_exclusive",
    "make_socket_private",
    "mtime_or_none",
    "open_private_append",
    "private_temp_file",
    "read_log_tail",
    "read_private_text",
    "regular_file_size",
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
        mode = _mode_to_keep(path, mode)
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


def _mode_to_keep(path: Path, default: int | None) -> int | None:
    """The permission bits of the regular file at ``path`` (without set-id and sticky
    bits); ``default`` when there is none (missing, or a symlink: its 0777 says nothing)."""
    try:
        info = path.lstat()
    except OSError:
        return default
    if not stat.S_ISREG(info.st_mode):
        return default
    return stat.S_IMODE(info.st_mode) & 0o777


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


def make_socket_private(path: Path) -> None:
    """Mode 0600 for the Unix socket of ours at ``path`` (another program created it under
    its umask); nothing for anything else, a symlink included."""
    with contextlib.suppress(OSError):
        info = path.lstat()
        if stat.S_ISSOCK(info.st_mode) and info.st_uid == os.geteuid():
            path.chmod(0o600)


def regular_file_size(path: Path) -> int:
    """The size of the regular file at ``path``; 0 when there is none (or a symlink)."""
    try:
        info = path.lstat()
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def mtime_or_none(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def private_temp_file(prefix: str, suffix: str = "") -> Path:
    """A new empty file in the temp directory that only this user can read (0600)."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    os.close(fd)
    return Path(name)


def read_log_tail(
    path: Path, offset: int = 0, *, lines: int = 30, max_bytes: int = 64 * 1024
) -> str:
    """The last ``lines`` lines written to ``path`` after byte ``offset`` ('' if none, or
    if ``path`` is a symlink: error messages never show another file's content)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(offset, size - max_bytes)
            handle.seek(start)
            data = handle.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _private_dir_problem(path: Path, info: os.stat_result) -> str | None:
    if not stat.S_ISDIR(info.st_mode):
        return "it is not a directory"
    if info.st_uid != os.geteuid():
        return (
            f"it is owned by uid {info.st_uid}{_user_name(info.st_uid)}, not by this user "
            f"(uid {os.geteuid()}): its owner could read or swap the session's files"
        )
    return None


def _user_name(uid: int) -> str:
    try:
        import pwd

        return f" ({pwd.getpwuid(uid).pw_name})"
    except (KeyError, ImportError):
        return ""


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` with mode 0700 (whatever the umask), or accept an existing one only
    if it is a real directory (not a symlink) owned by this user, then make it 0700.

    Raises :class:`~vscode_interactive._errors.StateDirError` naming the path, what is
    wrong and what to do; ``OSError`` when it cannot be created. Missing parents are
    created as ``mkdir -p`` would.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if error.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        why = f"it is a symlink (to {path.readlink()})" if path.is_symlink() else "not a directory"
        fd = -1
    else:
        info = os.fstat(fd)
        found = _private_dir_problem(path, info)
        if found is None:
            if stat.S_IMODE(info.st_mode) != 0o700:
                os.fchmod(fd, 0o700)
            os.close(fd)
            return
        why = found
    if fd >= 0:
        os.close(fd)
    raise StateDirError(
        f"refusing to use {path} as the session's state directory: {why}. Remove it (or "
        "move it aside) and run again, or choose another workspace_dir.",
        path=str(path),
    )


def create_dir(path: Path, *, mode: int = 0o755) -> None:
    """Create the directory ``path`` with at most ``mode`` (the umask can only narrow it:
    never writable by others under ``umask 000`` with the default 0755); parents as
    ``mkdir -p``. An existing directory is left as it is."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=mode)


def open_private_append(path: Path) -> int:
    """A file descriptor appending to ``path``, a regular file of ours with mode 0600.

    A symlink, or anything that is not a regular file of this user with one link, found at
    ``path`` is removed and replaced by a new file: nothing is ever written through a
    link planted there, nor into someone else's file.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(3):
        try:
            fd = os.open(path, flags | os.O_NONBLOCK, 0o600)
        except OSError as error:
            if error.errno not in (errno.ELOOP, errno.ENXIO):
                raise
            remove_quietly(path)  # a symlink (or a FIFO nobody reads)
            continue
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_nlink == 1:
            os.set_blocking(fd, True)
            os.fchmod(fd, 0o600)
            return fd
        os.close(fd)
        remove_quietly(path)
    raise OSError(errno.EEXIST, f"cannot create a private log file at {path}", str(path))


def lock_exclusive(path: Path) -> int | None:
    """Take an exclusive ``flock`` on the file at ``path`` (created 0600, never through a
    symlink) without waiting: its descriptor, to be closed to release the lock, or None
    when another process holds it. The descriptor is not inherited by children."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_private_text(path: Path, limit: int = 4096) -> str:
    """The start of the text file at ``path`` ('' if missing, unreadable or a symlink)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")
