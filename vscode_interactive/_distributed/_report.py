"""What one rank tells the others about its failure, in a few hundred bytes.

:class:`RankReport` travels through the coordination store as JSON; :func:`report_for`
builds it from the exception the rank caught (or from nothing, when the IDE opens before
the call). The frame shown is the innermost one in the user's code, the way the front
page picks the line the IDE opens.
"""

from __future__ import annotations

import json
import os
import re
import sysconfig
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RankReport", "innermost_frame", "report_for"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
_INSTALLED = frozenset({"site-packages", "dist-packages"})
_MAX_TEXT = 300


# "[/src/gloo/transport/tcp/unbound_buffer.cc:78] Timed out ...": C++ sources of torch's
# backends prefix their messages with where they were raised, which says nothing here.
_CPP_WHERE = re.compile(r"^\[[^\]\s]+\.(?:c|cc|cpp|cu|h|hpp):\d+\]\s*")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


@dataclass(frozen=True, slots=True)
class RankReport:
    """One rank at the moment it stopped: who, where, and why.

    ``exception`` is the first line of the exception (``ValueError: bad lr``) and
    ``frame`` the innermost user frame (``/job/train.py:42 in step``); both are ``None``
    when the rank stopped before calling the function.
    """

    rank: int
    host: str
    pid: int
    exception: str | None = None
    frame: str | None = None

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "rank": self.rank,
                "host": self.host,
                "pid": self.pid,
                "exception": self.exception,
                "frame": self.frame,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, rank: int) -> RankReport:
        """Decode a report; anything unreadable becomes a report that says so."""
        try:
            raw = json.loads(data.decode())
            if not isinstance(raw, dict):
                raise TypeError(type(raw).__name__)
            return cls(
                rank=int(raw["rank"]),
                host=str(raw["host"]),
                pid=int(raw["pid"]),
                exception=None if raw.get("exception") is None else str(raw["exception"]),
                frame=None if raw.get("frame") is None else str(raw["frame"]),
            )
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
            return cls(rank=rank, host="?", pid=0, exception=f"(unreadable report: {error})")

    def describe(self) -> str:
        """``rank 1 on node-a (pid 42)``."""
        return f"rank {self.rank} on {self.host} (pid {self.pid})"


def _library_roots() -> list[str]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    return sorted({*roots, _PACKAGE_DIR})


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def innermost_frame(
    frames: Sequence[tuple[str, int, str]], *, library_roots: Sequence[str]
) -> str | None:
    """``file:line in function`` of the innermost frame outside ``library_roots`` and
    site-packages (outermost first), else of the innermost frame; None without frames."""
    real = [frame for frame in frames if frame[0] and not frame[0].startswith("<")]
    user = [
        frame
        for frame in real
        if not _under(frame[0], library_roots) and not _INSTALLED.intersection(Path(frame[0]).parts)
    ]
    candidates = user or real or list(frames)
    if not candidates:
        return None
    chosen = candidates[-1]
    return f"{chosen[0]}:{chosen[1]} in {chosen[2]}"


def report_for(rank: int, *, host: str, pid: int, failure: BaseException | None) -> RankReport:
    """The report of a rank that caught ``failure`` (None: stopped before the call)."""
    if failure is None:
        return RankReport(rank=rank, host=host, pid=pid)
    lines = str(failure).strip().splitlines()
    text = _CPP_WHERE.sub("", lines[0]) if lines else ""
    first = f"{type(failure).__name__}: {text}" if text else type(failure).__name__
    frames = [
        (os.path.abspath(f.filename), f.lineno or 1, f.name)  # noqa: PTH100 - as shown in tracebacks
        for f in traceback.extract_tb(failure.__traceback__)
    ]
    frame = innermost_frame(frames, library_roots=_library_roots())
    return RankReport(rank=rank, host=host, pid=pid, exception=_clip(first), frame=frame)
