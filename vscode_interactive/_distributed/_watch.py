"""The host's watcher: keeps the front page's ranks table and the parked ranks up to date.

While the host holds the round, a background thread beats the host's heartbeat once a
second (parked ranks give up on a silent host) and looks at two things: the store (a
rank that parked since appears in the front page's "Ranks" table) and the session file
the supervisor writes (once the IDE answers, its URL is announced to the parked ranks).
:func:`patch_ranks_section` is the pure part.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ._protocol import Coordinator, Election
from ._report import RankReport

__all__ = ["HostWatcher", "patch_ranks_section"]

logger = logging.getLogger("vscode_interactive")

_HEADING = "## Ranks"


def patch_ranks_section(page: str, section: str) -> str:
    """``page`` with its ranks section replaced by ``section`` (or inserted before the
    first ``## `` heading after the title, or appended when there is none)."""
    section = section.rstrip("\n") + "\n"
    lines = page.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == _HEADING), None)
    if start is not None:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = lines[end:]
        return "".join(lines[:start]) + section + ("\n" if tail else "") + "".join(tail)
    first = next((i for i, line in enumerate(lines) if line.startswith("## ")), None)
    if first is None:
        return page.rstrip("\n") + "\n\n" + section
    return "".join(lines[:first]) + section + "\n" + "".join(lines[first:])


def _url_of(session_file: Path) -> str | None:
    try:
        info = json.loads(session_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("state") != "running":
        return None
    url = info.get("url") or info.get("server_url")
    return url if isinstance(url, str) and url else None


class HostWatcher:
    """Announces the IDE's URL and keeps ``front_page``'s ranks table current.

    ``render`` turns the reports into the section's Markdown; ``write`` replaces the
    page's text (atomically). Use as a context manager around the IDE phase.
    """

    def __init__(
        self,
        coordinator: Coordinator,
        election: Election,
        *,
        front_page: Path,
        session_file: Path,
        render: Callable[[list[RankReport]], str],
        write: Callable[[Path, str], object],
        interval: float = 1.0,
    ) -> None:
        self._coordinator = coordinator
        self._election = election
        self._front_page = front_page
        self._session_file = session_file
        self._render = render
        self._write = write
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._announced = ""
        self._lock = threading.Lock()

    def __enter__(self) -> HostWatcher:
        self._thread = threading.Thread(target=self._loop, name="vscode-interactive-ranks")
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def tick(self) -> None:
        """One look at the session file and the store (thread-safe)."""
        with self._lock:
            self._tick()

    def _tick(self) -> None:
        self._coordinator.beat(self._election)
        url = _url_of(self._session_file)
        if url and url != self._announced:
            self._coordinator.announce(self._election, url)
            self._announced = url
        try:
            page = self._front_page.read_text(encoding="utf-8")
        except OSError:
            return
        patched = patch_ranks_section(page, self._render(self._coordinator.reports(self._election)))
        if patched != page:
            self._write(self._front_page, patched)

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # the IDE must not die because the table could not be updated
                logger.debug("could not update the ranks of the front page", exc_info=True)
            if self._stop.wait(self._interval):
                return
