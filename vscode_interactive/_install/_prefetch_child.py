"""The background install's child process (started by :mod:`._prefetch`).

It reads its request from ``$VSCODE_INTERACTIVE_PREFETCH_REQUEST`` (and removes it, so
code-server never sees it), makes sure it dies with the job, then calls
``ensure_installed`` exactly as the session's install step does, with the same cache.
It leads its own process group (in the job's session), which the job gives the lowest CPU
and I/O priority right after starting it; what it starts inherits that. Its output (the
cache's progress lines, errors) goes to a private log file the job reads only if the
install fails.

Dying with the job: Linux sends it SIGTERM when the thread that started it ends (the job
was killed), and a watcher thread then kills the whole group with SIGKILL, including a
running ``code-server --install-extension``. A Python signal handler alone is not enough:
it runs only in the main thread, between bytecodes, and the main thread spends the
install blocked (joining the download threads). A SIGTERM that the kernel hands to another
thread, or that lands just before the main thread blocks (a window a starved, lowest
priority process sits in for long), would wait for that block to end: for as long as a
stalled download lasts. The C-level handler writes the signal's number to the wakeup fd
at once, whichever thread it runs in, and the watcher blocks on reading it. What a killed
install leaves is safe: the cache publishes nothing incomplete and the next miss removes
the dead process's temp files.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from types import FrameType

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1


def _kill_group(signum: int = 0, frame: FrameType | None = None) -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _kill_group_on_sigterm() -> None:
    """From now on a SIGTERM kills our group at once, whichever thread the kernel hands it
    to and whatever the main thread is blocked in (see the module docstring)."""
    signal.signal(signal.SIGTERM, _kill_group)  # installs the C-level handler
    read_end, write_end = os.pipe()  # not inherited by what the install starts
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def watch() -> None:
        while data := os.read(read_end, 64):
            if signal.SIGTERM in data:
                _kill_group()

    threading.Thread(target=watch, name="vscode-interactive-die-with-job", daemon=True).start()


def _die_with_parent(parent: int) -> None:
    """SIGTERM when the starting thread ends, handled by killing our whole group."""
    if not sys.platform.startswith("linux"):
        return
    _kill_group_on_sigterm()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the job died before the signal was asked for
        _kill_group()


def main() -> int:
    raw = os.environ.pop("VSCODE_INTERACTIVE_PREFETCH_REQUEST", None)
    if raw is None:
        print("no request: this program is started by a session's background install")
        return 2
    request = json.loads(raw)
    _die_with_parent(int(request["parent"]))
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)

    from ._config import VscodeConfig
    from ._ensure import ensure_installed

    try:
        vscode = VscodeConfig(**request["vscode"])
        cache = None
        if request.get("cache") is not None:
            from ..cache import Cache

            cache = Cache(request["cache"])
        installation = ensure_installed(vscode, cache=cache)
    except Exception as error:  # the job logs these lines once and installs again if needed
        print(f"{type(error).__name__}: {error}", flush=True)
        return 1
    print(f"code-server {installation.version} ready: {installation.executable}", flush=True)
    return 0
