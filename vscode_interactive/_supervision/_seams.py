"""The data a supervisor takes and gives: its seams, and how a session ended."""

from __future__ import annotations

from collections.abc import Callable
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

__all__ = ["Prepared", "SupervisionResult", "SupervisorSeams", "WhileStarting"]


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


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the work done while code-server starts tells the banner (it replaces the
    options' ``post_mortem`` and ``edits_note``)."""

    post_mortem: bool = False
    edits_note: str | None = None


#: Work the supervisor runs once, right after it started code-server and before it waits
#: for it to be ready (a session writes its workspace and opens its debugger meanwhile).
#: The banner is shown only after it returned; if it raises, code-server is stopped.
WhileStarting = Callable[[], Prepared]


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
