"""What the cache tells the user when a download cannot be trusted or used, and what to do.

Every message names the URL and the way out: pin the hash, or
``vscode-interactive cache forget <url>`` to drop a trusted hash.
"""

from __future__ import annotations

import datetime
import logging

from .._errors import ExtractionError, HashMismatchError
from ._store import Record

__all__ = [
    "cached_archive_error",
    "forget_command",
    "fresh_archive_error",
    "mismatch_error",
    "warn_unpinned",
]

logger = logging.getLogger("vscode_interactive.cache")


def forget_command(url: str) -> str:
    """The command that drops what is cached and trusted for ``url``."""
    return f"`vscode-interactive cache forget {url}`"


def _when(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"
    )


def warn_unpinned(url: str, known: Record | None) -> None:
    logger.warning(
        "%s is not pinned: %s. Pass sha256=... to pin it.",
        url,
        f"checking it against the sha256 first seen on {_when(known.fetched)}"
        if known is not None
        else "its sha256 will be trusted on first use",
    )


def mismatch_error(
    url: str, expected: str, actual: str, *, pinned: bool, known: Record | None
) -> HashMismatchError:
    if pinned:
        why = "the pinned sha256"
        todo = "If the new content is intended, update the pin; otherwise it was tampered with."
    else:
        seen = _when(known.fetched) if known is not None else "an earlier download"
        why = f"the sha256 first seen on {seen} (trust on first use)"
        todo = f"If the file changed on purpose, pin the new hash or run {forget_command(url)}."
    return HashMismatchError(
        f"sha256 mismatch for {url}: expected {expected} ({why}), got {actual}. "
        f"Nothing was stored. {todo}",
        url=url,
        expected=expected,
        actual=actual,
    )


def fresh_archive_error(error: ExtractionError, known: Record | None) -> ExtractionError:
    """A download that cannot be extracted: nothing of it was kept."""
    url = error.url
    if known is None:
        todo = "Nothing was kept and nothing is trusted: the next call downloads it again."
    else:
        todo = (
            f"Nothing was kept. It has the sha256 trusted since {_when(known.fetched)}; if "
            f"that file is not the archive you want, run {forget_command(url)}."
        )
    return ExtractionError(f"{error} {todo}", url=url, member=error.member)


def cached_archive_error(error: ExtractionError, record: Record) -> ExtractionError:
    """The cached, trusted file of ``record`` cannot be extracted (an earlier version kept
    cut-off first downloads): say how to drop it."""
    url = record.url
    return ExtractionError(
        f"{error} The cached file {record.sha256[:12]}... was trusted for {url} on "
        f"{_when(record.fetched)} but is not a usable archive: run {forget_command(url)} "
        "(and `vscode-interactive cache verify` to find others); the next call then "
        "downloads it again.",
        url=url,
        member=error.member,
    )
