"""The on-disk layout of a cache root, its per-URL records, and atomic file helpers.

Layout (every file is created with mode ``0o666``/``0o777`` filtered by the umask, so a
group sharing the cache can read it)::

    <root>/CACHEDIR.TAG                 marks the tree as a cache for backup tools
    <root>/blobs/<sha256>/<name>        verified downloads, content addressed
    <root>/trees/<sha256>/files/...     an extracted archive, published by one rename
    <root>/trees/<sha256>/complete.json written inside the temp dir before that rename
    <root>/trees/.tmp.<key>.<host>.<pid>.<hex>  extractions in progress (never accepted)
    <root>/urls/<key>.json              per URL: sha256 (trust on first use), size, mtime
    <root>/locks/<key>.lock             filelock per URL (an optimisation only)
    <root>/tmp/<key>.<host>.<pid>.<hex>.part    downloads in progress (never accepted)

A blob or tree only ever appears under its final name through ``os.replace``/``os.rename``
of something complete, so a process killed at any point leaves at worst a temp file that
no lookup accepts. Temp names carry the URL's key (16 hex digits), the host and the pid of
the process writing them (:func:`temp_owner` reads them back), so the next download on
the same host can reclaim what a killed process left at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import stat
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from .._system._files import write_atomic

__all__ = [
    "TREE_MARKER",
    "Layout",
    "Record",
    "TempOwner",
    "TreeMarker",
    "atomic_write_json",
    "blob_name",
    "create_exclusive",
    "hash_file",
    "read_json",
    "remove_tree",
    "temp_owner",
    "this_host",
    "unique_suffix",
    "url_key",
]

TREE_MARKER = "complete.json"
_HASH_CHUNK = 1 << 20
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This directory is a download cache made by vscode-interactive.\n"
    "# It can be deleted; it is filled again on the next download.\n"
)


def url_key(url: str) -> str:
    """A file-name-safe key for ``url`` (its sha256)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def blob_name(url: str) -> str:
    """The file name a download of ``url`` keeps (tools such as code-server look at the
    ``.vsix`` or ``.tar.gz`` suffix), made safe for any file system."""
    path = urlsplit(url).path if "://" in url else url
    name = unquote(PurePosixPath(path).name)
    name = _NAME_UNSAFE.sub("_", name).lstrip(".")[-120:]
    return name or "download"


def this_host() -> str:
    """This machine's name as temp names carry it (file-name safe, at most 40 chars)."""
    return _NAME_UNSAFE.sub("_", socket.gethostname())[:40] or "host"


def unique_suffix() -> str:
    """``host.pid.random``: unique across processes and hosts sharing a volume."""
    return f"{this_host()}.{os.getpid()}.{secrets.token_hex(6)}"


@dataclass(frozen=True, slots=True)
class TempOwner:
    """Who wrote a temp file or dir: the URL key prefix (if named), host and pid."""

    key: str | None
    host: str
    pid: int


_TEMP_NAME = re.compile(
    r"^(?:\.tmp\.|\.trash\.)?(?:(?P<key>[0-9a-f]{16})\.)?"
    r"(?P<host>[A-Za-z0-9._+-]+)\.(?P<pid>[0-9]+)\.[0-9a-f]{12}(?:\.part)?$"
)


def temp_owner(name: str) -> TempOwner | None:
    """The owner encoded in a ``.part``/``.tmp.``/``.trash.`` name, or None if it has none."""
    found = _TEMP_NAME.match(name)
    if found is None:
        return None
    return TempOwner(found["key"], found["host"], int(found["pid"]))


def create_exclusive(path: Path) -> int:
    """Create ``path`` (which must not exist) for writing; the umask decides its mode."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)


def atomic_write_json(path: Path, data: object) -> None:
    """Write ``data`` as compact JSON with the library's one atomic write (fsync-ed,
    group-readable as the umask allows)."""
    write_atomic(path, json.dumps(data, sort_keys=True), mode=None)


def read_json(path: Path) -> dict[str, object] | None:
    """The JSON object stored at ``path``; None if it is missing or not a valid object."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def hash_file(path: Path) -> tuple[str, int]:
    """sha256 hex digest and size of the file at ``path`` (a full read)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def remove_tree(path: Path, trash_dir: Path) -> None:
    """Delete a directory so that nobody ever sees it half-deleted under its name:
    rename it into ``trash_dir`` first, then remove it there."""
    trash = trash_dir / f".trash.{unique_suffix()}"
    try:
        path.rename(trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class Record:
    """What the cache remembers about one URL (``urls/<key>.json``).

    ``sha256`` is the pin, or the hash seen on the first download (trust on first use).
    ``size`` and ``mtime_ns`` let a hit check the blob with one ``stat`` instead of a
    full re-hash.
    """

    url: str
    sha256: str
    size: int
    name: str
    mtime_ns: int
    fetched: float
    pinned: bool

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Record | None:
        try:
            record = cls(
                url=str(data["url"]),
                sha256=str(data["sha256"]),
                size=_as_int(data["size"]),
                name=str(data["name"]),
                mtime_ns=_as_int(data["mtime_ns"]),
                fetched=_as_float(data["fetched"]),
                pinned=bool(data["pinned"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        safe = blob_name(record.name) == record.name and re.fullmatch(
            r"[0-9a-f]{64}", record.sha256
        )
        return record if safe else None


def _as_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _as_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not an integer: {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class TreeMarker:
    """``complete.json`` of an extracted tree: what was extracted, for ``verify``."""

    sha256: str
    url: str
    files: int
    bytes: int

    @classmethod
    def from_json(cls, data: dict[str, object]) -> TreeMarker | None:
        try:
            return cls(
                sha256=str(data["sha256"]),
                url=str(data["url"]),
                files=_as_int(data["files"]),
                bytes=_as_int(data["bytes"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class Layout:
    """Paths inside one cache root. Building or reading paths never writes."""

    root: Path

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def trees(self) -> Path:
        return self.root / "trees"

    @property
    def urls(self) -> Path:
        return self.root / "urls"

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def record_path(self, url: str) -> Path:
        return self.urls / f"{url_key(url)}.json"

    def lock_path(self, url: str) -> Path:
        return self.locks / f"{url_key(url)}.lock"

    def blob(self, sha256: str, name: str) -> Path:
        return self.blobs / sha256 / name

    def tree_dir(self, sha256: str) -> Path:
        return self.trees / sha256

    def tree_files(self, sha256: str) -> Path:
        return self.tree_dir(sha256) / "files"

    def prepare(self) -> None:
        """Create the directories a download needs (only called on a miss)."""
        for directory in (self.blobs, self.trees, self.urls, self.locks, self.tmp):
            directory.mkdir(parents=True, exist_ok=True)
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            with (
                contextlib.suppress(FileExistsError),
                os.fdopen(create_exclusive(tag), "w", encoding="utf-8") as handle,
            ):
                handle.write(_CACHEDIR_TAG)

    def read_record(self, url: str) -> Record | None:
        data = read_json(self.record_path(url))
        record = Record.from_json(data) if data is not None else None
        return record if record is not None and record.url == url else None

    def write_record(self, record: Record) -> None:
        atomic_write_json(self.record_path(record.url), asdict(record))

    def records(self) -> Iterator[Record]:
        """Every readable record, in no particular order."""
        try:
            paths = sorted(self.urls.glob("*.json"))
        except OSError:
            return
        for path in paths:
            data = read_json(path)
            record = Record.from_json(data) if data is not None else None
            if record is not None and path.name == f"{url_key(record.url)}.json":
                yield record

    def tree_marker(self, sha256: str) -> TreeMarker | None:
        """The completeness marker of the tree for ``sha256``, if it was published."""
        data = read_json(self.tree_dir(sha256) / TREE_MARKER)
        marker = TreeMarker.from_json(data) if data is not None else None
        return marker if marker is not None and marker.sha256 == sha256 else None

    def blob_matches(self, record: Record) -> bool | None:
        """One ``stat``: True if the blob has the recorded size and mtime, None if only
        the mtime differs (a copy of the cache: re-hash to decide), False otherwise."""
        try:
            found = self.blob(record.sha256, record.name).stat()
        except OSError:
            return False
        if not stat.S_ISREG(found.st_mode) or found.st_size != record.size:
            return False
        return True if found.st_mtime_ns == record.mtime_ns else None

    def temp_entries(self) -> Iterator[Path]:
        """Leftovers of unfinished downloads and extractions."""
        for directory, pattern in ((self.tmp, "*"), (self.trees, ".t*")):
            with contextlib.suppress(OSError):
                yield from directory.glob(pattern)
        with contextlib.suppress(OSError):
            yield from self.urls.glob(".*.tmp")
