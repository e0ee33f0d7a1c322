"""Listing, verifying and pruning a cache root.

The choice of what to prune is a pure function (:func:`select_for_pruning`); the effects
around it take each entry's lock without waiting and skip entries someone holds.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ._extract import ARCHIVE_SUFFIXES, unreadable_archive
from ._messages import forget_command
from ._store import Layout, Record, hash_file, remove_tree, temp_owner, this_host

__all__ = [
    "STALE_TEMP_SECONDS",
    "CacheEntry",
    "CacheProblem",
    "count_tree",
    "has_exited",
    "list_entries",
    "prune_entries",
    "reclaim_dead_temps",
    "select_for_pruning",
    "verify_entries",
]

STALE_TEMP_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One cached download.

    ``path`` is the verified file; ``extracted`` the directory of its extracted archive
    (None if it was never fetched as an archive); ``fetched`` the Unix time of the download;
    ``pinned`` whether the sha256 came from a pin rather than trust on first use.
    """

    url: str
    sha256: str
    size: int
    path: Path
    extracted: Path | None
    extracted_size: int
    fetched: float
    pinned: bool

    @property
    def total_size(self) -> int:
        """Bytes on disk for the download and its extracted tree."""
        return self.size + self.extracted_size


@dataclass(frozen=True, slots=True)
class CacheProblem:
    """Something :meth:`Cache.verify` found wrong, and where."""

    url: str
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" ({self.url})" if self.url else "")


def _entry(layout: Layout, record: Record) -> CacheEntry | None:
    blob = layout.blob(record.sha256, record.name)
    if not blob.is_file():
        return None
    marker = layout.tree_marker(record.sha256)
    return CacheEntry(
        url=record.url,
        sha256=record.sha256,
        size=record.size,
        path=blob,
        extracted=layout.tree_files(record.sha256) if marker is not None else None,
        extracted_size=marker.bytes if marker is not None else 0,
        fetched=record.fetched,
        pinned=record.pinned,
    )


def list_entries(layout: Layout) -> list[CacheEntry]:
    found = (_entry(layout, record) for record in layout.records())
    return sorted((entry for entry in found if entry is not None), key=lambda e: e.fetched)


def count_tree(root: Path) -> tuple[int, int]:
    """(entries that are not directories, bytes of distinct regular files) under root."""
    files = 0
    seen: dict[tuple[int, int], int] = {}
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as scan:
            for item in scan:
                if item.is_dir(follow_symlinks=False):
                    stack.append(Path(item.path))
                    continue
                files += 1
                if item.is_file(follow_symlinks=False):
                    info = item.stat(follow_symlinks=False)
                    seen[(info.st_dev, info.st_ino)] = info.st_size
    return files, sum(seen.values())


def _tree_dirs(layout: Layout) -> Iterator[Path]:
    with contextlib.suppress(OSError):
        for path in sorted(layout.trees.iterdir()):
            if not path.name.startswith("."):
                yield path


def _unusable_archive(layout: Layout, record: Record, blob: Path) -> CacheProblem | None:
    """An archive blob that was never extracted and cannot be read (a cut-off first
    download that an earlier version trusted), or None."""
    if not record.name.endswith(ARCHIVE_SUFFIXES) or layout.tree_marker(record.sha256):
        return None
    why = unreadable_archive(blob)
    if why is None:
        return None
    return CacheProblem(
        record.url,
        blob,
        f"archive cannot be extracted ({why}) although its sha256 is trusted: run "
        f"{forget_command(record.url)} (or verify --remove-bad) to download it again",
    )


def verify_entries(layout: Layout, *, remove_bad: bool) -> list[CacheProblem]:
    problems: list[CacheProblem] = []
    urls_by_sha: dict[str, str] = {}
    for record in layout.records():
        urls_by_sha.setdefault(record.sha256, record.url)
        blob = layout.blob(record.sha256, record.name)
        try:
            sha256, size = hash_file(blob)
        except FileNotFoundError:
            continue  # pruned or never kept: not an error
        except OSError as error:
            problems.append(CacheProblem(record.url, blob, f"cannot be read: {error}"))
            continue
        if sha256 != record.sha256 or size != record.size:
            problems.append(
                CacheProblem(
                    record.url,
                    blob,
                    f"content changed: sha256 {sha256} ({size} bytes), "
                    f"expected {record.sha256} ({record.size} bytes)",
                )
            )
            if remove_bad:
                with contextlib.suppress(OSError):
                    blob.unlink()
            continue
        problem = _unusable_archive(layout, record, blob)
        if problem is not None:
            problems.append(problem)
            if remove_bad:  # its hash was trusted from a broken download: drop the trust too
                for path in (layout.record_path(record.url), blob):
                    with contextlib.suppress(OSError):
                        path.unlink()
    for tree in _tree_dirs(layout):
        marker = layout.tree_marker(tree.name)
        url = urls_by_sha.get(tree.name, "")
        if marker is None:
            message = "extracted tree has no completeness marker (interrupted or foreign)"
        else:
            try:
                files, size = count_tree(tree / "files")
            except OSError as error:
                files, size = -1, -1
                message = f"cannot be read: {error}"
            if (files, size) == (marker.files, marker.bytes):
                continue
            if files >= 0:
                message = (
                    f"extracted tree changed: {files} files, {size} bytes; "
                    f"expected {marker.files} files, {marker.bytes} bytes"
                )
        problems.append(CacheProblem(url, tree, message))
        if remove_bad:
            remove_tree(tree, layout.trees)
    return problems


def select_for_pruning(
    entries: list[CacheEntry], *, now: float, older_than: float | None, max_bytes: int | None
) -> list[CacheEntry]:
    """Entries fetched before ``now - older_than``, then the oldest of the rest until the
    remaining ones fit in ``max_bytes``. Pure."""
    ordered = sorted(entries, key=lambda entry: entry.fetched)
    chosen = [
        entry for entry in ordered if older_than is not None and entry.fetched < now - older_than
    ]
    if max_bytes is not None:
        kept = [entry for entry in ordered if entry not in chosen]
        total = sum(entry.total_size for entry in kept)
        for entry in kept:
            if total <= max_bytes:
                break
            chosen.append(entry)
            total -= entry.total_size
    return chosen


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[bool]:
    """Hold the entry's lock if nobody else does; yields False when it is taken."""
    import filelock

    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def prune_entries(
    layout: Layout,
    *,
    now: float,
    older_than: float | None,
    max_bytes: int | None,
    dry_run: bool,
) -> list[CacheEntry]:
    entries = list_entries(layout)
    chosen = select_for_pruning(entries, now=now, older_than=older_than, max_bytes=max_bytes)
    if dry_run:
        return chosen
    removed: list[CacheEntry] = []
    remaining = {entry.url: entry for entry in entries}
    for entry in chosen:
        with _try_lock(layout.lock_path(entry.url)) as held:
            if not held:
                continue
            del remaining[entry.url]
            still_used = remaining.values()
            if not any(other.path == entry.path for other in still_used):
                with contextlib.suppress(FileNotFoundError):
                    entry.path.unlink()
                with contextlib.suppress(OSError):
                    entry.path.parent.rmdir()
            if not any(other.sha256 == entry.sha256 for other in still_used):
                remove_tree(layout.tree_dir(entry.sha256), layout.trees)
            removed.append(entry)
    reclaim_dead_temps(layout)
    _remove_stale_temps(layout, now)
    return removed


def _remove_temp(path: Path, layout: Layout) -> int:
    """Delete one temp file or dir; the bytes it held (0 if it could not be removed)."""
    try:
        if path.is_dir() and not path.is_symlink():
            size = count_tree(path)[1]
            remove_tree(path, layout.trees)
        else:
            size = path.lstat().st_size
            path.unlink()
    except OSError:
        return 0
    return size


def _remove_stale_temps(layout: Layout, now: float) -> None:
    for path in list(layout.temp_entries()):
        try:
            if path.lstat().st_mtime > now - STALE_TEMP_SECONDS:
                continue
        except OSError:
            continue
        _remove_temp(path, layout)


_PF_EXITING = 0x4  # task flag (linux/sched.h): the task is in do_exit


def has_exited(stat: str) -> bool:
    """Whether ``/proc/<pid>/stat`` text shows a process that can write nothing more: its
    main thread is a zombie (or dead), or exiting. Pure.

    A killed process's main thread can be a zombie while another of its threads is still
    on its way out (seen here for a few ms, far longer for a starved low-priority process)
    and keeps the process's files, and so its locks, open until it is done; the caller's
    lock check covers that time."""
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields[:1] in (["Z"], ["X"]):
        return True
    try:
        flags = int(fields[6])  # the 9th field of the line
    except (IndexError, ValueError):
        return False
    return bool(flags & _PF_EXITING)


def _process_gone(pid: int) -> bool:
    """No such process, or one that has exited (:func:`has_exited`), its zombie waiting for
    a parent to reap it: an orphan waits on PID 1, which in a container may never reap."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, under another user
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return has_exited(stat)


def _download_lock_held(layout: Layout, key: str | None, held: Path | None) -> bool:
    """Whether someone else holds the lock of a URL whose key starts with ``key``
    (``held``: the lock the caller holds itself, not asked)."""
    if key is None:
        return False
    with contextlib.suppress(OSError):
        for lock in layout.locks.glob(f"{key}*.lock"):
            if lock == held:
                continue
            with _try_lock(lock) as free:
                if not free:
                    return True
    return False


def reclaim_dead_temps(layout: Layout, *, held: Path | None = None) -> list[tuple[Path, int]]:
    """Remove the ``.part`` files and temp trees that a process on this host left when it
    died (its pid in the name is gone and its URL's lock is free); ``(path, bytes)`` of each.
    ``held`` is the URL lock the caller holds: the temp files of that URL are its to judge.

    Never touches the temp files of a live process, of another host sharing the volume
    (only the age rule of :meth:`Cache.prune` removes those), or of a download whose lock
    someone else holds: a process in another pid namespace on the same host may be writing
    it, or a killed process's last thread may not be done exiting yet. A fetch reclaims
    after it took its URL's lock, so the leftovers of a download it waited for, killed
    meanwhile, go with that fetch.
    """
    host = this_host()
    reclaimed: list[tuple[Path, int]] = []
    for path in list(layout.temp_entries()):
        owner = temp_owner(path.name)
        if owner is None or owner.host != host or owner.pid == os.getpid():
            continue
        if not _process_gone(owner.pid) or _download_lock_held(layout, owner.key, held):
            continue
        size = _remove_temp(path, layout)
        if size or not path.exists():
            reclaimed.append((path, size))
    return reclaimed
