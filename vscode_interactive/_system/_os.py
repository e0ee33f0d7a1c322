"""Real clock, environment, signals, wakeup and PATH: the operating-system adapters."""

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

__all__ = ["OsEnvironment", "PipeWakeup", "SignalInterrupts", "SystemClock", "prepend_to_path"]


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class OsEnvironment:
    """``os.environ``, read-only."""

    def get(self, name: str) -> str | None:
        return os.environ.get(name)

    def snapshot(self) -> dict[str, str]:
        return dict(os.environ)


class SignalInterrupts:
    """SIGTERM/SIGINT handlers, installed only when called from the main thread."""

    _SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, frame: FrameType | None) -> None:
            callback(signum)

        previous = {signum: signal.signal(signum, handler) for signum in self._SIGNALS}

        def restore() -> None:
            for signum, old in previous.items():
                signal.signal(signum, old)

        return restore


class PipeWakeup:
    """A self-pipe: ``notify`` writes a byte, ``wait`` selects on the read end.

    Unlike :class:`threading.Event`, notifying takes no lock, so a signal handler may call
    it even while the waiting thread is inside ``wait``.
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def notify(self) -> None:
        if self._write < 0:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write, b"!")

    def wait(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._read], [], [], max(timeout, 0.0))
        if not ready:
            return False
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._read, 512):
                pass
        return True

    def close(self) -> None:
        """Close both ends; a later ``notify`` does nothing (never writes to a reused fd)."""
        fds, self._read, self._write = (self._read, self._write), -1, -1
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def prepend_to_path(directory: Path) -> None:
    """Put ``directory`` first on this process's ``PATH`` (once), so children find it by name."""
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if entries and entries[0] == str(directory):
        return
    os.environ["PATH"] = os.pathsep.join([str(directory), *[e for e in entries if e]])
