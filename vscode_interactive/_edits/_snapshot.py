"""What the workspace held when the session started, and what changed since.

Two ways to know, chosen at the start:

* **git** (the workspace is in a repository that tracks files there): git already holds
  the committed content, so the start costs one ``git status``. Only the files that differ
  from the commit then (modified, deleted, untracked and not ignored) are noted, and the
  small ones copied into the base pack. At the end, ``git status`` (and, when the user
  committed meanwhile, ``git diff <start commit>``) names the candidates; a candidate
  clean at the start gets its "before" from the start commit (``git cat-file``), a dirty
  one from the pack. Files git ignores are not recorded.
* **scan** (no git, or git tracks nothing there): every file that counts
  (:func:`._tree.walk`) is noted with its ``lstat`` and, under ``file_bytes``, copied into
  the pack. At the end a second walk compares stats: an untouched file costs nothing; a
  touched one is read and compared byte for byte.

The base pack is one file in the state directory (0600), written once, streamed; copies
stop at ``total_bytes``. A file over ``file_bytes`` is never read: it is compared by its
stat and, when changed, named in the patch without content. Nothing here raises for a
file that vanished or cannot be read; :class:`TooManyFiles` and :class:`GitError` end a
record (the caller logs them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .._layout import STATE_DIR_NAME
from .._ports import BytesCommandRunner
from .._system._files import remove_quietly
from ._git import GitRepo, find_repo
from ._patch import FileChange, Side
from ._tree import FileStat, counted, read_limited, stat_of, walk

__all__ = ["DEFAULT_LIMITS", "Limits", "Snapshot", "Start", "changes_since", "take_snapshot"]

_MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class Limits:
    """How much a record may cost: bytes of one file it reads, bytes it copies in all,
    files a scan may meet."""

    file_bytes: int = 4 * _MIB
    total_bytes: int = 256 * _MIB
    files: int = 100_000

    @property
    def too_large(self) -> str:
        return f"larger than {self.file_bytes // _MIB} MiB, not read"


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Start:
    """One file at the start: its stat (``None``: absent), where its bytes are in the pack
    (``offset`` -1: not copied) and why not."""

    stat: FileStat | None
    offset: int = -1
    length: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The start of a session. ``files`` holds every counted file (scan) or the files
    that differed from ``head`` (git)."""

    workspace: Path
    base: Path
    files: Mapping[str, Start]
    repo: GitRepo | None = None
    head: str | None = None

    @property
    def method(self) -> str:
        return "git" if self.repo is not None else "scan"


def _ours(path: str) -> bool:
    return path.split("/", 1)[0] == STATE_DIR_NAME


def _git_dirty(repo: GitRepo, workspace: Path) -> set[str]:
    """Workspace-relative paths git reports as changed or untracked (ours left out, and
    untracked files inside environments and caches)."""
    found = set()
    for entry in repo.status(workspace):
        local = repo.local(entry.path)
        if local is None or _ours(local) or (entry.untracked and not counted(local)):
            continue
        found.add(local)
    return found


def _copies(
    workspace: Path, stats: Mapping[str, FileStat | None], limits: Limits, into: dict[str, Start]
) -> Iterator[bytes]:
    """The bytes of every file worth copying, in order; fills ``into`` as it goes."""
    offset, budget = 0, limits.total_bytes
    root = str(workspace)
    for path in sorted(stats):
        known = stats[path]
        if known is None or known.size > limits.file_bytes:
            into[path] = Start(known, reason=limits.too_large if known else "")
            continue
        got = read_limited(os.path.join(root, path), limits.file_bytes)  # noqa: PTH118 - hot
        if got is None:
            into[path] = Start(None)
            continue
        stat, data = got
        if data is None:
            into[path] = Start(stat, reason=limits.too_large)
        elif len(data) > budget:
            into[path] = Start(stat, reason=f"over the {limits.total_bytes // _MIB} MiB copied")
        else:
            into[path] = Start(stat, offset, len(data))
            offset, budget = offset + len(data), budget - len(data)
            yield data


def take_snapshot(
    workspace: Path, base: Path, runner: BytesCommandRunner, limits: Limits = DEFAULT_LIMITS
) -> Snapshot:
    """Note the workspace now; copies go to ``base`` (created 0600 in an existing folder)."""
    repo = find_repo(workspace, runner)
    if repo is not None and not repo.tracks_anything(workspace):
        repo = None
    head = None
    if repo is not None:
        head = repo.head()
        stats = {path: stat_of(workspace / path) for path in _git_dirty(repo, workspace)}
    else:
        stats = dict(walk(workspace, max_files=limits.files))
    files: dict[str, Start] = {}
    _write_base(base, _copies(workspace, stats, limits, files))
    return Snapshot(workspace, base, files, repo, head)


def _write_base(base: Path, chunks: Iterator[bytes]) -> None:
    """Stream ``chunks`` into a new private file (never through a link, never over an
    existing file). Not :func:`write_atomic`: a scratch file read back by this process
    only, so its tens of megabytes need no ``fsync`` and no rename. A file already there (a
    killed earlier record of the same name) is replaced."""
    remove_quietly(base)
    fd = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb", buffering=1 << 20) as stream:
        os.fchmod(stream.fileno(), 0o600)
        for chunk in chunks:
            stream.write(chunk)


@dataclass(frozen=True, slots=True)
class _Was:
    """A file's "before": whether it existed, its bytes (``None``: not recorded)."""

    exists: bool
    content: bytes | None = None
    executable: bool = False
    reason: str = ""


def _was_from_start(start: Start, pack: int) -> _Was:
    if start.stat is None:
        return _Was(False)
    content = os.pread(pack, start.length, start.offset) if start.offset >= 0 else None
    return _Was(True, content, start.stat.executable, start.reason)


def _compare(path: str, was: _Was, workspace: Path, limits: Limits) -> FileChange | None:
    """The change of ``path`` from ``was`` to what the workspace holds now, if any."""
    got = read_limited(workspace / path, limits.file_bytes)
    before = Side(was.content, was.executable) if was.exists else None
    if got is None:
        return FileChange(path, before, None, was.reason) if was.exists else None
    stat, data = got
    after = Side(data, stat.executable)
    if before is not None and data is not None and before == after:
        return None
    reason = was.reason if was.content is None and was.exists else ""
    return FileChange(path, before, after, reason or (limits.too_large if data is None else ""))


def _scan_changes(snapshot: Snapshot, limits: Limits, pack: int) -> list[FileChange]:
    now = dict(walk(snapshot.workspace, max_files=limits.files))
    changes = []
    for path in sorted(set(snapshot.files) | set(now)):
        start = snapshot.files.get(path)
        if start is not None and start.stat == now.get(path):
            continue  # untouched: same size, time, inode and mode (or absent both times)
        was = _was_from_start(start, pack) if start is not None else _Was(False)
        change = _compare(path, was, snapshot.workspace, limits)
        if change is not None:
            changes.append(change)
    return changes


def _git_changes(snapshot: Snapshot, repo: GitRepo, limits: Limits, pack: int) -> list[FileChange]:
    workspace = snapshot.workspace
    candidates = set(snapshot.files) | _git_dirty(repo, workspace)
    if snapshot.head is not None and repo.head() != snapshot.head:  # the user committed
        moved = (repo.local(path) for path in repo.changed_since(snapshot.head, workspace))
        candidates |= {path for path in moved if path is not None and not _ours(path)}
    from_commit = sorted(candidates - set(snapshot.files))
    tree = {}
    if snapshot.head is not None and from_commit:
        tree = repo.tree(snapshot.head, [repo.prefix + path for path in from_commit])
    blobs = repo.blobs(entry.sha for entry in tree.values() if entry.size <= limits.file_bytes)
    changes = []
    for path in sorted(candidates):
        start = snapshot.files.get(path)
        if start is not None:
            if start.stat is not None and start.stat == stat_of(workspace / path):
                continue
            was = _was_from_start(start, pack)
        elif (entry := tree.get(repo.prefix + path)) is not None:
            content = blobs.get(entry.sha)
            reason = "" if content is not None else limits.too_large
            was = _Was(True, content, entry.executable, reason)
        else:
            was = _Was(False)
        change = _compare(path, was, workspace, limits)
        if change is not None:
            changes.append(change)
    return changes


def changes_since(snapshot: Snapshot, limits: Limits = DEFAULT_LIMITS) -> list[FileChange]:
    """Every file that differs now from ``snapshot`` (sorted by path)."""
    pack = os.open(snapshot.base, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if snapshot.repo is not None:
            return _git_changes(snapshot, snapshot.repo, limits, pack)
        return _scan_changes(snapshot, limits, pack)
    finally:
        os.close(pack)
