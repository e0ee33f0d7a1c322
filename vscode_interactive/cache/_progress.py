"""Progress of one download: log lines at intervals, a callback, a tqdm bar on a terminal.

Pods have no terminal, so the log lines are the main channel: every ``interval`` seconds
(measured on the injected clock) one INFO line with bytes done, percent when the size is
known, and the rate. A tqdm bar is drawn only when stderr is a terminal and tqdm is
importable; tqdm is not a dependency.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from typing import Protocol, TextIO

from .._ports import Clock

__all__ = ["Bar", "Progress", "ProgressCallback", "format_bytes", "open_bar", "progress_line"]

logger = logging.getLogger("vscode_interactive.cache")

ProgressCallback = Callable[[int, "int | None"], None]
"""Called as ``callback(done_bytes, total_bytes_or_None)`` while a download runs."""


class Bar(Protocol):
    """The part of a tqdm bar we use."""

    def update(self, n: int) -> object: ...

    def close(self) -> None: ...


def format_bytes(count: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def progress_line(url: str, done: int, total: int | None, elapsed: float) -> str:
    """One human line: bytes done, percent of the total when known, and the rate."""
    rate = f"{format_bytes(done / elapsed)}/s" if elapsed > 0 else "- B/s"
    if total:
        percent = min(100.0, 100.0 * done / total)
        amount = f"{format_bytes(done)} of {format_bytes(total)} ({percent:.0f}%)"
    else:
        amount = format_bytes(done)
    return f"downloading {url}: {amount} at {rate}"


def open_bar(total: int | None, description: str, stream: TextIO | None = None) -> Bar | None:
    """A tqdm bar when ``stream`` (default stderr) is a terminal and tqdm is installed."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if stream is None or isatty is None or not isatty():
        return None
    try:
        tqdm_module = importlib.import_module("tqdm")
    except ImportError:
        return None
    bar: Bar = tqdm_module.tqdm(
        total=total, desc=description, unit="B", unit_scale=True, unit_divisor=1024, file=stream
    )
    return bar


class Progress:
    """Reports one download; ``update`` is cheap enough to call for every chunk."""

    def __init__(
        self,
        url: str,
        clock: Clock,
        *,
        callback: ProgressCallback | None = None,
        interval: float = 5.0,
        bar: bool = True,
    ) -> None:
        self._url = url
        self._clock = clock
        self._callback = callback
        self._interval = interval
        self._want_bar = bar
        self._bar: Bar | None = None
        self._total: int | None = None
        self._done = 0
        self._start = 0.0
        self._next_log = 0.0

    def start(self, total: int | None) -> None:
        self._total = total
        self._done = 0
        self._start = self._clock.monotonic()
        self._next_log = self._start + self._interval
        size = f" ({format_bytes(total)})" if total else ""
        logger.info("downloading %s%s", self._url, size)
        if self._want_bar:
            self._bar = open_bar(total, self._url.rsplit("/", 1)[-1][:40])
        if self._callback is not None:
            self._callback(0, total)

    def update(self, done: int) -> None:
        step = done - self._done
        self._done = done
        if self._bar is not None:
            self._bar.update(step)
        if self._callback is not None:
            self._callback(done, self._total)
        now = self._clock.monotonic()
        if now >= self._next_log:
            self._next_log = now + self._interval
            logger.info("%s", progress_line(self._url, done, self._total, now - self._start))

    def close(self, *, ok: bool) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if ok:
            elapsed = self._clock.monotonic() - self._start
            logger.info("downloaded %s: %s in %.1f s", self._url, format_bytes(self._done), elapsed)
