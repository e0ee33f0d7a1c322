"""``Cache``: download once, verify, extract atomically, serve hits without the network."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from .._errors import CacheError, ExtractionError, NotCachedError
from .._ports import Clock, Environment, Fetcher
from ._config import CACHE_ENV, OFFLINE_ENV, check_sha256, default_root, normalise_url, parse_flag
from ._download import Downloaded, EmptyDownloadError, download_once, with_retries
from ._extract import ArchiveJob
from ._maintenance import (
    CacheEntry,
    CacheProblem,
    list_entries,
    prune_entries,
    reclaim_dead_temps,
    verify_entries,
)
from ._messages import cached_archive_error, fresh_archive_error, mismatch_error, warn_unpinned
from ._progress import Progress, ProgressCallback
from ._store import Layout, Record, blob_name, hash_file, remove_tree, unique_suffix, url_key

__all__ = ["Cache"]

logger = logging.getLogger("vscode_interactive.cache")


class Cache:
    """A content-addressed download cache with safe, atomic archive extraction.

    ``root``: argument, else ``$VSCODE_INTERACTIVE_CACHE``, else the platform's user cache
    dir. ``offline``: argument, else ``$VSCODE_INTERACTIVE_OFFLINE=1``. ``fetcher``,
    ``clock`` and ``env`` are the side-effect seams (real ones by default). ``retries`` is
    the number of retries after the first attempt, waiting ``backoff * 2**n`` seconds.
    ``lock=False`` skips the per-URL filelock (results stay correct; downloads may then be
    duplicated); a lock still held after ``lock_timeout`` seconds is given up with a
    warning, for the same reason. ``progress`` is called as
    ``progress(done_bytes, total_bytes_or_None)``; a log line is written every
    ``log_interval`` seconds of a download.

    A hit reads one small record and stats one file: no network, no hashing, no lock and
    no write, so a read-only cache (a shared volume) serves hits. :meth:`verify` does the
    full re-hash.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        offline: bool | None = None,
        fetcher: Fetcher | None = None,
        clock: Clock | None = None,
        env: Environment | None = None,
        storage_options: Mapping[str, object] | None = None,
        retries: int = 3,
        backoff: float = 1.0,
        lock: bool = True,
        lock_timeout: float = 900.0,
        progress: ProgressCallback | None = None,
        log_interval: float = 5.0,
    ) -> None:
        if env is None or fetcher is None or clock is None:
            from .._system._network import FsspecFetcher
            from .._system._os import OsEnvironment, SystemClock

            env = OsEnvironment() if env is None else env
            fetcher = FsspecFetcher() if fetcher is None else fetcher
            clock = SystemClock() if clock is None else clock
        self.root = Path(root).expanduser() if root is not None else default_root(env)
        self.offline = parse_flag(OFFLINE_ENV, env.get(OFFLINE_ENV)) if offline is None else offline
        self._layout = Layout(self.root)
        self._fetcher = fetcher
        self._clock = clock
        self._storage_options = dict(storage_options or {})
        self._retries = retries
        self._backoff = backoff
        self._lock = lock
        self._lock_timeout = lock_timeout
        self._progress = progress
        self._log_interval = log_interval

    def __repr__(self) -> str:
        return f"Cache(root={str(self.root)!r}, offline={self.offline})"

    # -- lookups: read-only, no network -------------------------------------------------

    def recorded_sha256(self, url: str) -> str | None:
        """The sha256 trusted for ``url`` (its pin, or the one seen first), if any."""
        record = self._layout.read_record(normalise_url(url))
        return record.sha256 if record is not None else None

    def contains(self, url: str, sha256: str | None = None) -> bool:
        """Whether :meth:`fetch` would be served from the cache (one ``stat``, no network)."""
        url = normalise_url(url)
        record = self._usable_record(url, check_sha256(url, sha256))
        return record is not None and self._layout.blob_matches(record) is not False

    def _usable_record(self, url: str, pin: str | None) -> Record | None:
        record = self._layout.read_record(url)
        if record is None or (pin is not None and record.sha256 != pin):
            return None
        return record

    def _blob_ok(self, record: Record) -> bool:
        state = self._layout.blob_matches(record)
        if state is not None:
            return state
        # Same size, other mtime (the cache was copied): one full check, then remember.
        blob = self._layout.blob(record.sha256, record.name)
        try:
            sha256, size = hash_file(blob)
        except OSError:
            return False
        if sha256 != record.sha256 or size != record.size:
            return False
        with contextlib.suppress(OSError):
            mtime_ns = blob.stat().st_mtime_ns
            self._layout.write_record(_replace_mtime(record, mtime_ns))
        return True

    # -- fetching -------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        sha256: str | None = None,
        *,
        storage_options: Mapping[str, object] | None = None,
    ) -> Path:
        """The path of the verified file downloaded from ``url`` (from the cache if there)."""
        return self._get(url, sha256, storage_options, archive=False)

    def fetch_archive(
        self,
        url: str,
        sha256: str | None = None,
        *,
        storage_options: Mapping[str, object] | None = None,
    ) -> Path:
        """The directory holding the extracted archive from ``url`` (.tar.gz/.tgz/.tar,
        .zip/.vsix; also .tar.bz2/.tar.xz)."""
        return self._get(url, sha256, storage_options, archive=True)

    def _hit(self, url: str, pin: str | None, archive: bool) -> Path | None:
        record = self._usable_record(url, pin)
        if record is None:
            return None
        if archive:
            if self._layout.tree_marker(record.sha256) is not None:
                return self._layout.tree_files(record.sha256)
            return None
        return self._layout.blob(record.sha256, record.name) if self._blob_ok(record) else None

    def _get(
        self,
        url: str,
        sha256: str | None,
        storage_options: Mapping[str, object] | None,
        *,
        archive: bool,
    ) -> Path:
        url = normalise_url(url)
        pin = check_sha256(url, sha256)
        found = self._hit(url, pin, archive)
        if found is not None:
            return found
        record = self._usable_record(url, pin)
        local_blob = archive and record is not None and self._blob_ok(record)
        if self.offline and not local_blob:
            raise NotCachedError(
                f"{url} is not in the cache at {self.root} and offline mode is on "
                f"({OFFLINE_ENV}=1 or Cache(offline=True)). Fetch it once with network access "
                f"(`vscode-interactive cache fetch {url}`) or turn offline mode off.",
                url=url,
            )
        try:
            self._layout.prepare()
        except OSError as error:
            raise self._unwritable(url, error) from error
        options = {**self._storage_options, **(storage_options or {})}
        with self._entry_lock(url) as locked:
            # Under the lock: a download of this URL we waited for and whose process was
            # killed meanwhile left its temp files, which were in use before the lock.
            held = self._layout.lock_path(url) if locked else None
            for path, size in reclaim_dead_temps(self._layout, held=held):
                logger.info("removed %s (%d bytes) left by a download that was killed", path, size)
            found = self._hit(url, pin, archive)  # another process may have finished it
            if found is not None:
                return found
            record = self._usable_record(url, pin)
            if archive and record is not None and self._blob_ok(record):
                job = ArchiveJob(self._layout.trees, url)
                try:
                    job.extract_file(self._layout.blob(record.sha256, record.name))
                except ExtractionError as error:
                    raise cached_archive_error(error, record) from error
                return self._publish_tree(job, record.sha256)
            return self._download(url, pin, options, archive=archive)

    @contextlib.contextmanager
    def _entry_lock(self, url: str) -> Iterator[bool]:
        """Hold the URL's lock (waiting for it); yields whether it is held."""
        if not self._lock:
            yield False
            return
        import filelock

        path = self._layout.lock_path(url)
        lock = filelock.FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:  # before OSError: filelock's Timeout is one
            pass
        except OSError as error:
            raise self._unwritable(url, error) from error
        if not lock.is_locked:
            logger.info("waiting for another process fetching %s (lock %s)", url, path)
            try:
                lock.acquire(timeout=self._lock_timeout)
            except filelock.Timeout:
                logger.warning(
                    "lock %s is still held after %.0f s; going on without it (the result stays "
                    "correct, the download may be duplicated)",
                    path,
                    self._lock_timeout,
                )
                yield False
                return
        try:
            yield True
        finally:
            lock.release()

    def _unwritable(self, url: str, error: OSError) -> CacheError:
        return CacheError(
            f"{url} is not in the cache at {self.root}, which cannot be written ({error}). "
            f"Point {CACHE_ENV} at a writable directory, or fill this cache beforehand.",
            url=url,
        )

    def _download(
        self, url: str, pin: str | None, options: Mapping[str, object], *, archive: bool
    ) -> Path:
        known = self._layout.read_record(url)
        expected = pin if pin is not None else (known.sha256 if known is not None else None)
        if pin is None:
            warn_unpinned(url, known)
        done, job = with_retries(
            functools.partial(self._attempt, url, options, archive=archive, pinned=pin is not None),
            url=url,
            clock=self._clock,
            retries=self._retries,
            backoff=self._backoff,
        )
        try:
            if expected is not None and done.sha256 != expected:
                raise mismatch_error(
                    url, expected, done.sha256, pinned=pin is not None, known=known
                )
            if job is not None:  # an archive that cannot be extracted is not kept, nor trusted
                try:
                    job.finish(done.temp)
                except ExtractionError as error:
                    raise fresh_archive_error(error, known) from error
            name = blob_name(url)
            blob = self._layout.blob(done.sha256, name)
            blob.parent.mkdir(exist_ok=True)
            done.temp.replace(blob)
        except BaseException:
            with contextlib.suppress(OSError):
                done.temp.unlink()
            if job is not None:
                job.abort()
            raise
        record = Record(
            url=url,
            sha256=done.sha256,
            size=done.size,
            name=name,
            mtime_ns=blob.stat().st_mtime_ns,
            fetched=self._clock.now(),
            pinned=pin is not None or (known is not None and known.pinned),
        )
        self._layout.write_record(record)
        if known is None and pin is None:
            logger.warning("trusting %s on first use: sha256=%s", url, done.sha256)
        if job is None:
            return blob
        return self._publish_tree(job, done.sha256)

    def _attempt(
        self, url: str, options: Mapping[str, object], *, archive: bool, pinned: bool
    ) -> tuple[Downloaded, ArchiveJob | None]:
        """One transfer into a fresh ``.part`` file (an archive is extracted as it
        streams); on failure nothing of it is left. An unpinned empty answer is a
        failure (retried): it would otherwise become the hash trusted from then on."""
        job = ArchiveJob(self._layout.trees, url) if archive else None
        temp = self._layout.tmp / f"{url_key(url)[:16]}.{unique_suffix()}.part"
        progress = Progress(url, self._clock, callback=self._progress, interval=self._log_interval)
        try:
            done = download_once(
                self._fetcher, url, options, temp, progress, job.feed if job else None
            )
            if done.size == 0 and not pinned:
                done.temp.unlink()
                raise EmptyDownloadError(
                    f"{url} answered with no bytes; nothing was kept (an empty answer is "
                    "never trusted on first use)"
                )
        except BaseException:
            if job is not None:
                job.abort()
            raise
        return done, job

    def _publish_tree(self, job: ArchiveJob, sha256: str) -> Path:
        def complete(_: Path) -> bool:
            return self._layout.tree_marker(sha256) is not None

        return job.publish(self._layout.tree_dir(sha256), sha256, complete)

    # -- maintenance ----------------------------------------------------------------------

    def entries(self) -> list[CacheEntry]:
        """Every cached download (oldest first), with its extracted tree if any."""
        return list_entries(self._layout)

    def verify(self, *, remove_bad: bool = False) -> list[CacheProblem]:
        """Re-hash every blob and re-count every tree; with ``remove_bad`` delete what is
        wrong so the next fetch downloads it again. An empty list means all is well."""
        return verify_entries(self._layout, remove_bad=remove_bad)

    def prune(
        self,
        *,
        older_than: float | None = None,
        max_bytes: int | None = None,
        dry_run: bool = False,
    ) -> list[CacheEntry]:
        """Remove entries fetched more than ``older_than`` seconds ago, then the oldest
        until at most ``max_bytes`` remain, skipping any entry whose lock is held, and
        leftovers of interrupted downloads. Returns what was (or would be) removed."""
        return prune_entries(
            self._layout,
            now=self._clock.now(),
            older_than=older_than,
            max_bytes=max_bytes,
            dry_run=dry_run,
        )

    def forget(self, url: str) -> bool:
        """Drop what is cached for ``url`` and its trusted sha256 (so a changed file can
        be trusted again). True if there was something to forget."""
        url = normalise_url(url)
        record = self._layout.read_record(url)
        if record is None:
            return False
        with contextlib.suppress(FileNotFoundError):
            self._layout.record_path(url).unlink()
        others = [other for other in self._layout.records() if other.sha256 == record.sha256]
        if not any(other.name == record.name for other in others):
            with contextlib.suppress(FileNotFoundError):
                self._layout.blob(record.sha256, record.name).unlink()
        if not others:
            remove_tree(self._layout.tree_dir(record.sha256), self._layout.trees)
        return True


def _replace_mtime(record: Record, mtime_ns: int) -> Record:
    import dataclasses

    return dataclasses.replace(record, mtime_ns=mtime_ns)
