"""Activity reported by the library's own extension, and what the IDE is told back.

The extension (``vscode_interactive/_extension``) sends one request per report over the
session's channel (:mod:`._channel`, one JSON line each way)::

    -> {"command": "activity", "kind": "edit", "window": "<extension host pid>-<start>"}
    <- {"ok": true, "message": "activity recorded", "status": {...}}
    -> {"command": "status", "window": "..."}            (asking is not activity)
    <- {"ok": true, "message": "...", "status": {...}}

``kind`` says what the person did (``window`` for a window that just connected, ``edit``,
``cursor``, ``editor``, ``terminal``, ``command``, ``debug``, ``task``, ``keep-working``...);
any short lower-case word is accepted, so a newer extension can add kinds. The ``status``
of both replies carries the countdown the status bar shows (see :func:`countdown`).

The channel thread records reports in an :class:`ActivityLog` (the supervisor's monotonic
clock, so wall-clock jumps cannot move them); the supervisor passes the latest instant to
the pure policy as an observation. Pure except for :class:`ActivityLog`'s lock.
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ENV_CHANNEL",
    "ENV_JOB",
    "ENV_JOB_PID",
    "ENV_PYTHON",
    "WARNING_SECONDS",
    "ActivityLog",
    "ActivityReport",
    "ActivitySeen",
    "IdleSource",
    "countdown",
    "parse_activity",
    "warning_seconds",
]

ENV_CHANNEL = "VSCODE_INTERACTIVE_CHANNEL"
"""In code-server's environment (the extension host inherits it): where the extension reaches
the session, a socket path or ``@name`` for an abstract socket."""
ENV_JOB = "VSCODE_INTERACTIVE_JOB"
"""In code-server's environment: the job's name, shown in the status bar."""
ENV_JOB_PID = "VSCODE_INTERACTIVE_JOB_PID"
"""In code-server's environment: the waiting job's pid, shown in the resume confirmation."""
ENV_PYTHON = "VSCODE_INTERACTIVE_PYTHON"
"""In code-server's environment: the job's interpreter, which runs the extension's debugpy
debug adapter (``python -m debugpy.adapter``) when no Python Debugger extension is there."""

WARNING_SECONDS = 300.0
"""The warning comes this long before the idle stop (or 10 % of the limit when shorter)."""

_KIND = re.compile(r"^[a-z][a-z-]{0,31}$")
_WINDOW = re.compile(r"^[0-9A-Za-z._-]{1,64}$")


class IdleSource(enum.Enum):
    """What the idle clock counts."""

    HEARTBEAT = "heartbeat"
    """code-server's heartbeat (any open connection): only while no IDE window with the
    library's extension has ever connected."""
    EXTENSION = "extension"
    """Activity the library's extension reported (typing, cursor, terminals, debugger...)."""


@dataclass(frozen=True, slots=True)
class ActivityReport:
    kind: str
    window: str


def parse_activity(request: Mapping[str, object]) -> ActivityReport | str:
    """The report in an ``activity`` request, or why it is malformed."""
    kind, window = request.get("kind"), request.get("window", "unknown")
    if not isinstance(kind, str) or not _KIND.match(kind):
        return 'bad activity: "kind" must be a short lower-case word such as "edit"'
    if not isinstance(window, str) or not _WINDOW.match(window):
        return 'bad activity: "window" must be a short identifier'
    return ActivityReport(kind, window)


@dataclass(frozen=True, slots=True)
class ActivitySeen:
    """What the extension reported so far: the latest instant (monotonic), how many reports,
    from how many windows, and the latest kind."""

    last_at: float | None = None
    reports: int = 0
    windows: int = 0
    last_kind: str = ""


class ActivityLog:
    """Thread-safe record of reports (written by the channel thread, read by the loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen = ActivitySeen()
        self._windows: set[str] = set()

    def record(self, report: ActivityReport, at: float) -> None:
        with self._lock:
            self._windows.add(report.window)
            last = self._seen.last_at
            self._seen = ActivitySeen(
                last_at=at if last is None else max(last, at),
                reports=self._seen.reports + 1,
                windows=len(self._windows),
                last_kind=report.kind,
            )

    def seen(self) -> ActivitySeen:
        with self._lock:
            return self._seen


def warning_seconds(max_idle_seconds: float) -> float:
    """How long before the idle stop the IDE warns: 5 min, or 10 % of a shorter limit."""
    return min(WARNING_SECONDS, 0.1 * max_idle_seconds)


def countdown(
    *,
    source: IdleSource,
    idle_seconds: float,
    max_idle_seconds: float,
    wall_now: float,
    last_kind: str = "",
) -> dict[str, object]:
    """The idle part of ``status``: source, last activity (wall clock), time left, warning."""
    left = max(0.0, max_idle_seconds - idle_seconds)
    return {
        "idle_source": source.value,
        "idle_seconds": round(idle_seconds, 1),
        "max_idle_seconds": max_idle_seconds,
        "last_activity": wall_now - idle_seconds,
        "last_activity_kind": last_kind or None,
        "idle_deadline": wall_now + left,
        "seconds_left": round(left, 1),
        "warn_seconds": warning_seconds(max_idle_seconds),
    }
