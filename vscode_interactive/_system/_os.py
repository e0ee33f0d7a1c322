"""Real clock, environment, signals, wakeup, priorities and PATH: the operating-system
adapters."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._ports import PriorityLevels

__all__ = [
    "GroupPriorities",
    "OsEnvironment",
    "PipeWakeup",
    "SignalInterrupts",
    "SystemClock",
    "prepend_to_path",
]


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


# Linux: nice values and I/O priorities belong to each thread (task); a thread or process
# started by a thread inherits both; the PGRP forms of setpriority and ioprio_set change
# every thread of every process in a group. ioprio_set/ioprio_get have no libc wrapper.
_NICE_LOWEST = 19
_IOPRIO_WHO_PROCESS = 1  # "process" means one task (thread) here
_IOPRIO_WHO_PGRP = 2
_IOPRIO_IDLE = 3 << 13  # class IDLE: I/O only when the disk has nothing else to do
_IOPRIO_SYSCALLS = {"x86_64": (251, 252), "aarch64": (30, 31), "arm64": (30, 31)}


class GroupPriorities:
    """CPU (nice) and I/O priority of a process group, on Linux; nothing elsewhere.

    ``os.setpriority(PRIO_PGRP, pgid)`` reaches every thread of the group on Linux; the I/O
    priority goes through the ``ioprio_set`` system call via ctypes on x86_64 and arm64.
    Every failure (no privilege to raise a priority back, a seccomp filter) is ignored.
    """

    def __init__(self) -> None:
        self._linux = sys.platform.startswith("linux")
        self._syscall: Callable[..., int] | None = None
        self._numbers: tuple[int, int] | None = None
        if self._linux:
            import platform

            self._numbers = _IOPRIO_SYSCALLS.get(platform.machine())

    def _io(self) -> Callable[..., int] | None:
        if self._numbers is None:
            return None
        if self._syscall is None:
            try:
                import ctypes

                libc = ctypes.CDLL(None, use_errno=True)
                function = libc.syscall
                function.restype = ctypes.c_long
            except (OSError, AttributeError):
                self._numbers = None
                return None
            self._syscall = function
        return self._syscall

    def _io_get(self, pid: int) -> int | None:
        syscall = self._io()
        if syscall is None or self._numbers is None:
            return None
        value = syscall(self._numbers[1], _IOPRIO_WHO_PROCESS, pid)
        return value if value >= 0 else None

    def _io_set_group(self, pgid: int, value: int) -> None:
        syscall = self._io()
        if syscall is not None and self._numbers is not None:
            syscall(self._numbers[0], _IOPRIO_WHO_PGRP, pgid, value)  # -1 (EPERM) ignored

    def lower_group(self, pgid: int) -> PriorityLevels | None:
        if not self._linux:
            return None
        try:
            nice = os.getpriority(os.PRIO_PROCESS, pgid)  # the group's leader
        except OSError:
            return None
        io = self._io_get(pgid)
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PGRP, pgid, _NICE_LOWEST)
        if io is not None:
            self._io_set_group(pgid, _IOPRIO_IDLE)
        from .._ports import PriorityLevels

        return PriorityLevels(nice, io)

    def restore_group(self, pgid: int, levels: PriorityLevels) -> None:
        if not self._linux:
            return
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PGRP, pgid, levels.nice)
        if levels.io is not None:
            self._io_set_group(pgid, levels.io)


def prepend_to_path(directory: Path) -> None:
    """Put ``directory`` first on this process's ``PATH`` (once), so children find it by name."""
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if entries and entries[0] == str(directory):
        return
    os.environ["PATH"] = os.pathsep.join([str(directory), *[e for e in entries if e]])
