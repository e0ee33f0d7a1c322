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
import os
import queue
import shutil
import stat
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Literal

from .._errors import ExtractionError
from ._store import TREE_MARKER, TreeMarker, atomic_write_json, remove_tree, unique_suffix

__all__ = ["ArchiveJob", "link_stays_inside", "member_parts"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 31  # gzip header and trailer
_INFLATE_STEP = 1 << 20
_COPY_CHUNK = 1 << 20
_QUEUE_CHUNKS = 16
_TAR_BUFSIZE = 64 * 1024
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_BAD_ARCHIVE = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError)


def member_parts(name: str) -> tuple[str, ...]:
    """The path components of an archive member; raises ``ValueError`` for an absolute
    name, a ``..`` component or a NUL byte. ``()`` means the archive root itself."""
    if "\x00" in name:
        raise ValueError("contains a NUL byte")
    if name.startswith("/"):
        raise ValueError("is an absolute path")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise ValueError("has a '..' component")
    return parts


def link_stays_inside(parts: tuple[str, ...], target: str) -> bool:
    """Whether a symlink at ``parts`` pointing at ``target`` stays inside the tree, read
    lexically (members are never written through symlinks, so this is sound)."""
    if not target or target.startswith("/"):
        return False
    depth = len(parts) - 1
    for part in target.split("/"):
        if part in ("", "."):
            continue
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return False
    return True


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


@dataclass(slots=True)
class _Counts:
    files: int = 0
    bytes: int = 0


class _Writer:
    """Creates members under ``root``, enforcing the safety rules."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self.counts = _Counts()
        self._dirs: set[tuple[str, ...]] = {()}
        self._links: set[tuple[str, ...]] = set()
        self._regular: set[tuple[str, ...]] = set()

    def refuse(self, name: str, why: str) -> ExtractionError:
        return ExtractionError(
            f"refusing to extract {self.url}: member {name!r} {why}; nothing was published. "
            "The archive is unsafe or corrupt: check the URL or its sha256.",
            url=self.url,
            member=name,
        )

    def _place(self, name: str) -> tuple[tuple[str, ...], Path] | None:
        try:
            parts = member_parts(name)
        except ValueError as error:
            raise self.refuse(name, str(error)) from None
        if not parts:
            return None
        if self._links and any(parts[:i] in self._links for i in range(1, len(parts))):
            raise self.refuse(name, "would be written through a symlink")
        path = self.root.joinpath(*parts)
        parent = parts[:-1]
        if parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            for i in range(len(parent) + 1):
                self._dirs.add(parent[:i])
        return parts, path

    def _clear(self, parts: tuple[str, ...], path: Path) -> None:
        """Duplicate members: a later one replaces an earlier file or link."""
        if parts in self._dirs:
            raise self.refuse("/".join(parts), "replaces a directory")
        with contextlib.suppress(FileNotFoundError):
            old = path.lstat()
            path.unlink()
            self.counts.files -= 1
            if stat.S_ISREG(old.st_mode) and old.st_nlink == 1:
                self.counts.bytes -= old.st_size
        self._links.discard(parts)
        self._regular.discard(parts)

    def directory(self, name: str) -> None:
        placed = self._place(name)
        if placed is None:
            return
        parts, path = placed
        if parts in self._links or parts in self._regular:
            raise self.refuse(name, "replaces a file or link with a directory")
        path.mkdir(exist_ok=True)
        self._dirs.add(parts)

    def file(self, name: str, source: IO[bytes], executable: bool) -> None:
        placed = self._place(name)
        if placed is None:
            raise self.refuse(name, "is a file at the archive root")
        parts, path = placed
        if parts in self._links or parts in self._regular:
            self._clear(parts, path)
        fd = os.open(path, _OPEN_FLAGS, 0o777 if executable else 0o666)
        with os.fdopen(fd, "wb", buffering=0) as out:
            shutil.copyfileobj(source, out, _COPY_CHUNK)
            self.counts.bytes += out.tell()
        self._regular.add(parts)
        self.counts.files += 1

    def symlink(self, name: str, target: str) -> None:
        placed = self._place(name)
        if placed is None:
            raise self.refuse(name, "is a link at the archive root")
        parts, path = placed
        if not link_stays_inside(parts, target):
            raise self.refuse(name, f"is a link pointing outside the archive ({target!r})")
        if parts in self._links or parts in self._regular:
            self._clear(parts, path)
        path.symlink_to(target)
        self._links.add(parts)
        self.counts.files += 1

    def hardlink(self, name: str, target: str) -> None:
        placed = self._place(name)
        if placed is None:
            raise self.refuse(name, "is a link at the archive root")
        parts, path = placed
        try:
            target_parts = member_parts(target)
        except ValueError:
            raise self.refuse(name, f"is a hard link pointing outside ({target!r})") from None
        if target_parts not in self._regular:
            raise self.refuse(name, f"is a hard link to a missing or non-file member {target!r}")
        if parts in self._links or parts in self._regular:
            self._clear(parts, path)
        os.link(self.root.joinpath(*target_parts), path, follow_symlinks=False)
        self._regular.add(parts)
        self.counts.files += 1

    def check_links(self) -> None:
        """Last line of defence: every symlink resolves inside the tree."""
        real_root = os.path.realpath(self.root)
        for parts in self._links:
            resolved = os.path.realpath(self.root.joinpath(*parts))
            if os.path.commonpath([real_root, resolved]) != real_root:
                raise self.refuse("/".join(parts), "resolves outside the archive")

    def tar_member(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        if member.isdir():
            self.directory(member.name)
        elif member.isreg():
            source = tar.extractfile(member)
            if source is None:  # pragma: no cover - isreg() members always have data
                raise self.refuse(member.name, "has no data")
            with source:
                self.file(member.name, source, bool(member.mode & 0o111))
        elif member.issym():
            self.symlink(member.name, member.linkname)
        elif member.islnk():
            self.hardlink(member.name, member.linkname)
        else:
            raise self.refuse(member.name, "is a device file, FIFO or other special file")

    def zip_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        mode = info.external_attr >> 16 if info.create_system == 3 else 0
        kind = stat.S_IFMT(mode)
        if info.is_dir() or kind == stat.S_IFDIR:
            self.directory(info.filename)
        elif kind == stat.S_IFLNK:
            self.symlink(info.filename, archive.read(info).decode("utf-8", "surrogateescape"))
        elif kind in (0, stat.S_IFREG):
            with archive.open(info) as source:
                self.file(info.filename, source, bool(mode & 0o111))
        else:
            raise self.refuse(info.filename, "is a device file, FIFO or other special file")


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
        self.temp = trees / f".tmp.{unique_suffix()}"
        self.temp.mkdir()
        self._writer = _Writer(self.temp / "files", url)
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
