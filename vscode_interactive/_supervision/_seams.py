"""The data a supervisor takes and gives: its seams, and how a session ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from .._ports import (
    Clock,
    EditorWindows,
    Environment,
    HealthProbe,
    Interrupts,
    PortAllocator,
    ProcessLauncher,
    Wakeup,
)
from .._system._network import SocketPortAllocator, UnixSocketEditorWindows, UrllibHealthProbe
from .._system._os import OsEnvironment, SignalInterrupts, SystemClock
from .._system._processes import PopenLauncher
from ._policy import Outcome

__all__ = ["SupervisionResult", "SupervisorSeams"]


@dataclass(frozen=True, slots=True)
class SupervisionResult:
    """How the session ended; returned only once the server's process group is gone."""

    outcome: Outcome
    url: str
    port: int
    exit_code: int | None
    """The group leader's exit code (negative signal number if killed)."""
    log_tail: str
    idle_seconds: float
    """Seconds since the last activity when the session ended."""
    signal: int | None = None
    """For ``INTERRUPTED``: the signal the supervising process received."""
    detail: str = ""
    server_pid: int = 0
    stray_processes: bool = False
    """True if processes of the group survived SIGKILL (stuck in the kernel)."""

    @property
    def resumed(self) -> bool:
        return self.outcome is Outcome.RESUMED


@dataclass(frozen=True)
class SupervisorSeams:
    """The side effects a supervisor uses; the defaults are the real ones.

    ``wakeup=None`` makes a fresh self-pipe per run (closed afterwards).
    """

    clock: Clock = field(default_factory=SystemClock)
    launcher: ProcessLauncher = field(default_factory=PopenLauncher)
    probe: HealthProbe = field(default_factory=UrllibHealthProbe)
    environment: Environment = field(default_factory=OsEnvironment)
    interrupts: Interrupts = field(default_factory=SignalInterrupts)
    port_allocator: PortAllocator = field(default_factory=SocketPortAllocator)
    wakeup: Wakeup | None = None
    editor_windows: EditorWindows = field(default_factory=UnixSocketEditorWindows)
