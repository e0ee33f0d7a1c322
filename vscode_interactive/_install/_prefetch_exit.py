"""The exit hook of the background installs: a child still running when the interpreter
exits is killed, and reaped for a moment.

:class:`~._prefetch.Prefetch` registers itself when it starts and unregisters when it is
done. The hook is installed once per process (a forked child that inherited it does
nothing), among threading's own exit hooks where there are such, so it runs before the
interpreter joins worker threads.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

__all__ = ["Stoppable", "register", "unregister"]

_REAP_AT_EXIT = 2.0


class Stoppable(Protocol):
    """What the hook does to a live prefetch: kill its child, then wait for it a moment."""

    def cancel(self) -> None: ...

    def reap(self, timeout: float) -> None: ...


_LIVE: set[Stoppable] = set()
_LIVE_LOCK = threading.Lock()
_HOOK_PID: int | None = None


def register(prefetch: Stoppable) -> None:
    """Kill ``prefetch``'s child if it still runs when the interpreter exits."""
    global _HOOK_PID
    with _LIVE_LOCK:
        _LIVE.add(prefetch)
        if os.getpid() == _HOOK_PID:
            return
        _HOOK_PID = os.getpid()
    # threading's own exit hooks run before the interpreter joins worker threads (and
    # before concurrent.futures shuts its pools down); atexit's would run after them.
    register_hook = getattr(threading, "_register_atexit", None)
    try:
        if register_hook is None:
            raise RuntimeError
        register_hook(_at_exit)
    except RuntimeError:
        import atexit

        atexit.register(_at_exit)


def unregister(prefetch: Stoppable) -> None:
    """``prefetch`` is done: nothing of it is left for the hook."""
    with _LIVE_LOCK:
        _LIVE.discard(prefetch)


def _at_exit() -> None:
    if os.getpid() != _HOOK_PID:  # a forked child inherited the hook, not the prefetch
        return
    with _LIVE_LOCK:
        live = list(_LIVE)
    for prefetch in live:
        prefetch.cancel()
    for prefetch in live:
        prefetch.reap(_REAP_AT_EXIT)
