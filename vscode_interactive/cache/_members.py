"""The safety rules for archive members, and the writer that enforces them.

Members are never written through a symlink (every parent directory is one the writer
created), so a lexical check of each symlink target is sound; a final ``realpath`` check of
every symlink is the last line of defence.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .._errors import ExtractionError

__all__ = ["MemberWriter", "link_stays_inside", "member_parts"]

_COPY_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


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


@dataclass(slots=True)
class _Counts:
    files: int = 0
    bytes: int = 0


class MemberWriter:
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
