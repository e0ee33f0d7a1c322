"""Build small archives in memory for tests (tar in any compression, zip/vsix)."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Mapping, Sequence

__all__ = ["special_member", "tar_bytes", "zip_bytes"]


def tar_bytes(
    files: Mapping[str, bytes],
    *,
    executables: Sequence[str] = (),
    extra: Sequence[tarfile.TarInfo] = (),
    compression: str = "gz",
) -> bytes:
    """A tar archive of ``files`` (names as given; ``executables`` get mode 0o755), then the
    data-less members ``extra`` (links, devices, ...). ``compression``: gz, bz2, xz or ""."""
    buffer = io.BytesIO()
    mode = f"w:{compression}" if compression else "w"
    with tarfile.open(fileobj=buffer, mode=mode) as tar:  # type: ignore[call-overload]  # mode is a runtime string
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name in executables else 0o644
            tar.addfile(info, io.BytesIO(data))
        for member in extra:
            tar.addfile(member)
    return buffer.getvalue()


def special_member(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    """A data-less tar member: ``tarfile.SYMTYPE``, ``LNKTYPE``, ``CHRTYPE``, ``FIFOTYPE``..."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o777 if kind == tarfile.SYMTYPE else 0o644
    return info


def zip_bytes(
    files: Mapping[str, bytes],
    *,
    executables: Sequence[str] = (),
    symlinks: Mapping[str, str] | None = None,
    modes: Mapping[str, int] | None = None,
) -> bytes:
    """A zip of ``files``; unix modes recorded so executables keep their x bits;
    ``symlinks`` maps a name to its target (stored the way Info-ZIP does)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            mode = (modes or {}).get(name, 0o755 if name in executables else 0o644)
            info.external_attr = ((stat.S_IFREG if stat.S_IFMT(mode) == 0 else 0) | mode) << 16
            archive.writestr(info, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()
