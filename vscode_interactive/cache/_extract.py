"""Safe, atomic extraction of ``.tar(.gz|.bz2|.xz)``, ``.tgz``, ``.zip`` and ``.vsix``.

An archive is extracted into a fresh temp dir beside its final place (``trees/.tmp.*``),
a completeness marker is written inside it, and one ``rename`` publishes it. Tar archives
are extracted *while* they download: the download loop feeds each chunk through a bounded
queue to a worker thread, so decompression and file creation overlap the transfer (the
result is only published after the sha256 is verified).

Refused, with :class:`ExtractionError` naming the member, and nothing published: absolute
names, ``..`` components, members written through a symlink, symlinks or hard links that
point outside the tree, device files, FIFOs and sockets. File modes are normalised: a
member is executable when the archive gave it any ``x`` bit, and the umask decides the rest
(so a group sharing the cache can read everything).
"""

from __future__ import annotations

import contextlib
import io
import queue
import shutil
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from .._errors import ExtractionError
from ._members import MemberWriter
from ._store import (
    TREE_MARKER,
    TreeMarker,
    atomic_write_json,
    remove_tree,
    unique_suffix,
    url_key,
)

__all__ = ["ARCHIVE_SUFFIXES", "ArchiveJob", "unreadable_archive"]

#: File names ``fetch_archive`` is used for (``verify`` checks such blobs can be read).
ARCHIVE_SUFFIXES = (
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.bz2",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".zip",
    ".vsix",
)

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 31  # gzip header and trailer
_INFLATE_STEP = 1 << 20
_QUEUE_CHUNKS = 16
_TAR_BUFSIZE = 64 * 1024
_BAD_ARCHIVE = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError)


class _Aborted(Exception):
    """The download side gave up; the worker stops reading."""


class _ChunkPipe:
    """Hands downloaded chunks to the extraction thread through a bounded queue."""

    _EOF = b""

    def __init__(self) -> None:
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._current = memoryview(b"")
        self._ended = False
        self.aborted = False

    def put(self, chunk: bytes) -> None:
        if chunk:
            self._queue.put(chunk)

    def end(self) -> None:
        self._queue.put(self._EOF)

    def read(self, n: int = -1) -> bytes:
        if self.aborted:
            raise _Aborted
        if not self._current:
            if self._ended:
                return b""
            chunk = self._queue.get()
            self._ended = not chunk
            if self.aborted:
                raise _Aborted
            if self._ended:
                return b""
            self._current = memoryview(chunk)
        size = len(self._current) if n < 0 else n
        out, self._current = self._current[:size], self._current[size:]
        return bytes(out)

    # tarfile's file-object protocol; a pipe only reads.
    def write(self, data: bytes, /) -> int:
        raise io.UnsupportedOperation("write")

    def seek(self, position: int, /) -> int:
        raise io.UnsupportedOperation("seek")

    def tell(self) -> int:
        raise io.UnsupportedOperation("tell")

    def close(self) -> None:
        pass

    def drain(self) -> None:
        """Consume everything until the end marker, so the producer never blocks."""
        while not self._ended:
            if not self._queue.get():
                self._ended = True


class ArchiveJob:
    """Extraction of one archive into ``<trees>/.tmp.<unique>/files``.

    Either :meth:`feed` every downloaded chunk then :meth:`finish` (tar formats are
    extracted while streaming; a zip is detected and deferred), or call
    :meth:`extract_file` on a blob. :meth:`publish` then renames the temp dir into place;
    :meth:`abort` removes it. Exactly one of publish/abort must end a job.
    """

    def __init__(self, trees: Path, url: str) -> None:
        self.url = url
        self._trees = trees
        self.temp = trees / f".tmp.{url_key(url)[:16]}.{unique_suffix()}"
        self.temp.mkdir()
        self._writer = MemberWriter(self.temp / "files", url)
        self._writer.root.mkdir()
        self._head = b""
        self._pipe: _ChunkPipe | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._deferred = False
        self._inflater: zlib._Decompress | None = None
        self._feed_error: BaseException | None = None

    @property
    def streaming(self) -> bool:
        """True while a worker thread extracts the fed bytes."""
        return self._pipe is not None

    def feed(self, chunk: bytes) -> None:
        if self._deferred:
            return
        if self._pipe is None:
            self._head += chunk
            if len(self._head) < 4:
                return
            if self._head.startswith(_ZIP_MAGIC):
                self._deferred = True  # zip needs its central directory: extract the blob
                return
            if self._head.startswith(_GZIP_MAGIC):
                self._inflater = zlib.decompressobj(_GZIP_WBITS)
            self._start_worker(mode="r|" if self._inflater is not None else "r|*")
            chunk, self._head = self._head, b""
        if self._error is not None or self._feed_error is not None:
            return
        assert self._pipe is not None
        if self._inflater is None:
            self._pipe.put(chunk)
            return
        try:
            self._inflate(self._pipe, chunk)
        except zlib.error as error:
            self._feed_error = error

    def _inflate(self, pipe: _ChunkPipe, data: bytes) -> None:
        """Gunzip here, in the download thread, so decompression runs in parallel with
        the worker creating files (as ``tar xz`` runs ``gzip -d`` in its own process).
        Output is bounded per step so a gzip bomb cannot fill memory."""
        inflater = self._inflater
        while data and inflater is not None:
            pipe.put(inflater.decompress(data, _INFLATE_STEP))
            data = inflater.unconsumed_tail
            if inflater.eof:
                data = inflater.unused_data
                # Concatenated gzip members continue; anything else after the end is ignored.
                inflater = zlib.decompressobj(_GZIP_WBITS) if data[:2] == _GZIP_MAGIC else None
                self._inflater = inflater

    def _start_worker(self, *, mode: Literal["r|", "r|*"]) -> None:
        pipe = _ChunkPipe()
        self._pipe = pipe

        def work() -> None:
            try:
                with tarfile.open(fileobj=pipe, mode=mode, bufsize=_TAR_BUFSIZE) as tar:
                    for member in tar:
                        self._writer.tar_member(tar, member)
            except BaseException as error:  # handed to the download thread in finish()
                self._error = error
            finally:
                with contextlib.suppress(_Aborted):
                    pipe.drain()

        self._thread = threading.Thread(target=work, name="vscode-interactive-extract")
        self._thread.daemon = True
        self._thread.start()

    def _stop(self, *, abort: bool) -> None:
        if self._pipe is None or self._thread is None:
            return
        if abort:
            self._pipe.aborted = True
        self._pipe.end()
        self._thread.join()
        self._pipe = None
        self._thread = None

    def finish(self, blob: Path) -> None:
        """Complete the extraction: join the worker, or extract ``blob`` if the archive
        could not be streamed. Raises :class:`ExtractionError` (the job is then aborted)."""
        if self._pipe is None:
            self.extract_file(blob)
            return
        if self._inflater is not None and self._feed_error is None:
            self._feed_error = EOFError("the gzip stream ends before its end marker")
        self._stop(abort=False)
        if self._feed_error is not None:
            self._fail(self._feed_error)
        if self._error is not None:
            self._fail(self._error)
        self._checked()

    def extract_file(self, blob: Path) -> None:
        """Extract the archive stored at ``blob`` (sniffing zip vs tar by content)."""
        try:
            if zipfile.is_zipfile(blob):
                with zipfile.ZipFile(blob) as archive:
                    for info in archive.infolist():
                        self._writer.zip_member(archive, info)
            else:
                with tarfile.open(blob, mode="r:*") as tar:
                    for member in tar:
                        self._writer.tar_member(tar, member)
        except BaseException as error:
            self._fail(error)
        self._checked()

    def _checked(self) -> None:
        try:
            self._writer.check_links()
        except BaseException as error:
            self._fail(error)

    def _fail(self, error: BaseException) -> None:
        self.abort()
        if isinstance(error, ExtractionError):
            raise error
        if isinstance(error, _BAD_ARCHIVE):
            raise ExtractionError(
                f"could not extract {self.url}: not a readable tar/zip archive or a write "
                f"failed ({type(error).__name__}: {error}). Check the URL points at an archive "
                "and that the cache has free space.",
                url=self.url,
            ) from error
        raise error

    def abort(self) -> None:
        """Stop the worker and delete the temp dir; idempotent."""
        self._stop(abort=True)
        with contextlib.suppress(OSError):
            shutil.rmtree(self.temp)

    def publish(self, final: Path, sha256: str, on_exists: Callable[[Path], bool]) -> Path:
        """Write the marker, rename the temp dir to ``final`` and return its ``files`` dir.

        If ``final`` exists and ``on_exists(final)`` says it is complete, another process
        won the race and this job's copy is dropped; otherwise the incomplete one is moved
        aside and replaced.
        """
        counts = self._writer.counts
        marker = TreeMarker(sha256=sha256, url=self.url, files=counts.files, bytes=counts.bytes)
        atomic_write_json(self.temp / TREE_MARKER, asdict(marker))
        for _ in range(3):
            try:
                self.temp.rename(final)
                return final / "files"
            except OSError:
                if not final.exists():
                    raise
                if on_exists(final):
                    self.abort()
                    return final / "files"
                remove_tree(final, self._trees)
        self.abort()
        raise ExtractionError(  # pragma: no cover - needs three lost races in a row
            f"could not publish the extracted {self.url} at {final}: it keeps changing",
            url=self.url,
        )


def unreadable_archive(path: Path) -> str | None:
    """Why the archive at ``path`` cannot be read to its end (None when it can). Reads
    every member's data and writes nothing."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            return f"member {bad!r} is corrupt" if bad is not None else None
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                data = tar.extractfile(member) if member.isfile() else None
                while data is not None and data.read(_INFLATE_STEP):
                    pass
    except _BAD_ARCHIVE as error:
        return f"{type(error).__name__}: {error}"
    return None
