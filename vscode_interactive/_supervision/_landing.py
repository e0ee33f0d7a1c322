"""Landing the user on the failure: the URL to open, and what each new IDE window shows.

Two mechanisms of code-server's own workbench, no extension involved:

* **The landing URL.** VS Code's web workbench reads a ``payload`` query parameter (a JSON
  list of ``[key, value]`` pairs) into its start-up "files to open": ``openFile`` (one
  URI; ``vscode-remote://<host:port>/<path>``) and ``gotoLineMode`` (the URI's path ends
  in ``:line``). :func:`landing_url` builds ``/?workspace=<file>&payload=...`` (or
  ``/?folder=<workspace>&...``) so the
  first page load opens the failing file at the line that raised. code-server keeps the
  query string through its password login (the login form posts back to the same query,
  then redirects to it), and a reload lands there again. Only one file fits in it.
* **The window greeter.** Each browser window's extension host registers its remote-CLI
  socket with code-server's session registry (``--session-socket``); that socket is what
  ``code-server --goto file:line`` in the IDE's terminal talks to. :class:`WindowGreeter`
  polls the registry and asks every newly connected window, once, to open the front page
  and the failing line, in that order of importance. The front page ends up in front.

:func:`landing_url`, :func:`open_request` and :func:`remote_authority` are pure.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .._layout import fits_socket_address
from .._ports import EditorWindows, Wakeup
from .._system._files import remove_quietly
from .._system._os import PipeWakeup

if TYPE_CHECKING:
    from .._workspace import SourceLocation

__all__ = [
    "GREET_INTERVAL",
    "Greeting",
    "WindowGreeter",
    "fits_socket_address",
    "landing_url",
    "open_request",
    "remote_authority",
]

logger = logging.getLogger("vscode_interactive.landing")

GREET_INTERVAL = 1.0
"""Seconds between two looks at code-server's window registry."""

_TIMEOUT = 2.0


def remote_authority(base_url: str) -> str:
    """``host:port`` of ``base_url``: the authority of the workbench's remote files."""
    return urllib.parse.urlsplit(base_url).netloc


def _with_line(location: SourceLocation) -> str:
    return urllib.parse.quote(str(location.path)) + f":{location.line}"


def landing_url(
    base_url: str,
    *,
    folder: Path,
    reveal: SourceLocation | None,
    workspace: Path | None = None,
) -> str:
    """The URL that opens ``workspace`` (a ``.code-workspace`` file) or else ``folder``, with
    ``reveal`` (a file and line) in the editor.

    Without ``reveal`` it is ``base_url`` (code-server opens its command-line argument).
    The file's URI uses the authority of ``base_url``: a browser reaching the server under
    another host or port still opens the file, as a second copy beside the Explorer's.
    """
    if reveal is None:
        return base_url
    uri = f"vscode-remote://{remote_authority(base_url)}{_with_line(reveal)}"
    pairs = [["openFile", uri], ["gotoLineMode", "true"]]
    opened = {"workspace": str(workspace)} if workspace is not None else {"folder": str(folder)}
    query = {**opened, "payload": json.dumps(pairs, separators=(",", ":"))}
    return f"{base_url.rstrip('/')}/?{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"


def open_request(files: Sequence[SourceLocation]) -> dict[str, object]:
    """The remote-CLI ``open`` request for ``files``, front first.

    The window opens them in the order sent and leaves the last one active, so the list
    is sent reversed. Paths are ``file://`` URIs ending in ``:line`` (``gotoLineMode``).
    """
    uris = ["file://" + _with_line(location) for location in reversed(files)]
    return {
        "type": "open",
        "fileURIs": uris,
        "folderURIs": [],
        "forceReuseWindow": True,
        "gotoLineMode": True,
    }


class WindowGreeter:
    """Opens ``files`` (front first) in every IDE window that connects, once per window.

    ``registry`` is code-server's ``--session-socket``. :meth:`poll_once` is one look;
    :meth:`start` runs looks every ``interval`` seconds in a daemon thread until
    :meth:`stop`. Failures are logged and never end the session: the landing URL alone
    still shows the failing line.
    """

    def __init__(
        self,
        windows: EditorWindows,
        registry: Path,
        files: Sequence[SourceLocation],
        *,
        wakeup: Wakeup,
        interval: float = GREET_INTERVAL,
    ) -> None:
        if not files:
            raise ValueError("WindowGreeter needs at least one file to open")
        self._windows = windows
        self._registry = registry
        self._files = tuple(files)
        self._wakeup = wakeup
        self._interval = interval
        self._greeted: list[str] = []
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def greeted(self) -> tuple[str, ...]:
        """The windows (their CLI sockets) already asked to open the files."""
        return tuple(self._greeted)

    def poll_once(self) -> str | None:
        """Greet the newest window if it is new; return its socket, else None."""
        window = self._windows.newest(self._registry, self._files[0].path, _TIMEOUT)
        if window is None or window in self._greeted or self._stopped:
            return None
        self._greeted.append(window)
        names = ", ".join(f"{item.path.name}:{item.line}" for item in self._files)
        try:
            self._windows.open(window, open_request(self._files), _TIMEOUT)
        except OSError as error:
            logger.warning("could not open %s in the new IDE window: %s", names, error)
            return None
        logger.info("opened %s in a new IDE window", names)
        return window

    def serve(self) -> None:
        """Look every ``interval`` seconds until :meth:`stop` (blocks)."""
        while not self._stopped:
            self.poll_once()
            self._wakeup.wait(self._interval)

    def start(self) -> None:
        """Run :meth:`serve` in a daemon thread."""
        self._thread = threading.Thread(
            target=self.serve, name="vscode-interactive-greeter", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2 * _TIMEOUT + 1.0) -> bool:
        """End :meth:`serve` and wait for its thread (at most ``timeout`` seconds); False
        if the thread is still running (stuck in a request) after that."""
        self._stopped = True
        self._wakeup.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True


class Greeting:
    """One server run's greeting: the registry socket code-server is told to use, and the
    :class:`WindowGreeter` thread once the server is ready.

    The socket is ``preferred`` when its path fits a socket address, else ``ipc.sock`` in
    a new private temporary directory. :meth:`close` stops the thread and removes the
    socket (code-server leaves it behind) and that directory.
    """

    def __init__(
        self, windows: EditorWindows, files: Sequence[SourceLocation], *, preferred: Path
    ) -> None:
        self._windows = windows
        self._files = tuple(files)
        self._own_dir: Path | None = None
        self.registry: Path | None = preferred
        if not fits_socket_address(preferred):
            self.registry = None
            try:
                self._own_dir = Path(tempfile.mkdtemp(prefix="vscode-interactive-"))
            except OSError as error:
                logger.info("no temporary directory for the window registry: %s", error)
            else:
                if fits_socket_address(self._own_dir / "ipc.sock"):
                    self.registry = self._own_dir / "ipc.sock"
        if self.registry is None:
            logger.info("no short path for code-server's window registry: not greeting")
        self._wakeup: PipeWakeup | None = None
        self._greeter: WindowGreeter | None = None

    def start(self) -> None:
        """Greet windows from now on (once; no-op without a registry)."""
        if self.registry is None or self._greeter is not None:
            return
        self._wakeup = PipeWakeup()
        self._greeter = WindowGreeter(
            self._windows, self.registry, self._files, wakeup=self._wakeup
        )
        self._greeter.start()

    def close(self) -> None:
        stopped = self._greeter.stop() if self._greeter is not None else True
        if self._wakeup is not None and stopped:  # a stuck thread may still wait on it
            self._wakeup.close()
        if self.registry is not None:
            remove_quietly(self.registry)
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
