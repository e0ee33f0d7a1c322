"""One pass over the bytes: stream -> sha256 -> unique temp file (-> optional sink).

The caller verifies the digest and publishes the temp file with ``os.replace``; on any
failure here the temp file is removed before the exception leaves. Retries are a loop
around one attempt that waits on the injected clock, so tests never sleep.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from .._errors import CacheError, DownloadError
from .._ports import Clock, Fetcher
from ._progress import Progress
from ._store import create_exclusive

__all__ = [
    "CHUNK_SIZE",
    "Downloaded",
    "EmptyDownloadError",
    "TruncatedError",
    "backoff_delays",
    "download_once",
    "is_transient",
    "with_retries",
]

logger = logging.getLogger("vscode_interactive.cache")

CHUNK_SIZE = 1 << 20
_BACKOFF_CAP = 60.0
_T = TypeVar("_T")


class TruncatedError(ConnectionError):
    """The stream ended before the size it announced."""


class EmptyDownloadError(ConnectionError):
    """An unpinned URL answered with no bytes (retried: it is never trusted on first use)."""


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A finished transfer, not yet verified nor published."""

    temp: Path
    sha256: str
    size: int


def download_once(
    fetcher: Fetcher,
    url: str,
    storage_options: Mapping[str, object],
    temp: Path,
    progress: Progress,
    sink: Callable[[bytes], None] | None = None,
) -> Downloaded:
    """Stream ``url`` into the new file ``temp``, hashing on the way; each chunk also goes
    to ``sink`` (the streaming extractor). Removes ``temp`` if anything fails."""
    digest = hashlib.sha256()
    done = 0
    ok = False
    try:
        with (
            fetcher.open(url, storage_options) as stream,
            os.fdopen(create_exclusive(temp), "wb", buffering=0) as out,
        ):
            total = stream.size
            progress.start(total)
            while chunk := stream.read(CHUNK_SIZE):
                digest.update(chunk)
                _write_all(out, chunk)
                if sink is not None:
                    sink(chunk)
                done += len(chunk)
                progress.update(done)
        if total is not None and done != total:
            raise TruncatedError(f"{url} ended after {done} of {total} bytes")
        ok = True
    finally:
        progress.close(ok=ok)
        if not ok:
            with contextlib.suppress(OSError):
                temp.unlink()
    return Downloaded(temp, digest.hexdigest(), done)


def _write_all(out: IO[bytes], data: bytes) -> None:
    """Unbuffered, so a partial download is visible on disk as it grows."""
    view = memoryview(data)
    while view:
        written = out.write(view)
        view = view[written:]


def is_transient(error: BaseException) -> bool:
    """Worth another try: connection trouble, timeouts, 5xx. Not: missing, forbidden,
    or anything that is not an ``OSError`` (bad options, programming errors)."""
    if not isinstance(error, OSError) or isinstance(error, CacheError):
        return False
    permanent = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
    return not isinstance(error, permanent)


def backoff_delays(retries: int, backoff: float) -> list[float]:
    """Seconds to wait before each retry: ``backoff * 2**n``, capped at a minute."""
    return [min(backoff * 2**attempt, _BACKOFF_CAP) for attempt in range(max(retries, 0))]


def with_retries(
    attempt: Callable[[], _T], *, url: str, clock: Clock, retries: int, backoff: float
) -> _T:
    """Run ``attempt`` until it succeeds, retrying transient errors after the delays of
    :func:`backoff_delays`; raise :class:`DownloadError` naming the URL and the cause."""
    delays = backoff_delays(retries, backoff)
    tries = len(delays) + 1
    for number in range(1, tries + 1):
        try:
            return attempt()
        except Exception as error:
            if not isinstance(error, OSError) or isinstance(error, CacheError):
                raise
            if not is_transient(error):
                raise DownloadError(
                    f"could not download {url}: {error}. Check that the URL is right and "
                    "that you may read it (credentials go in storage_options).",
                    url=url,
                ) from error
            if number == tries:
                raise DownloadError(
                    f"could not download {url} after {tries} attempt(s): {error}. Check the "
                    "network, or set VSCODE_INTERACTIVE_OFFLINE=1 to use only what is cached.",
                    url=url,
                ) from error
            delay = delays[number - 1]
            logger.warning(
                "download of %s failed (attempt %d of %d): %s; retrying in %.1f s",
                url,
                number,
                tries,
                error,
                delay,
            )
            clock.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
