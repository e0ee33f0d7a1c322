"""The thread-safe side of a supervisor: its state and the controls other threads use.

:class:`SupervisorControls` holds what the loop (:mod:`._supervisor`) and other threads
share under one lock: the policy's current state, the resume/abort/interrupt requests, the
activity the IDE extension reported, and where the server runs. Its methods are the
public controls of :class:`~._supervisor.Supervisor`, safe to call from any thread while
``run`` blocks (``interrupt`` even from a signal handler): ``request_resume``,
``request_abort``, ``interrupt``, ``status`` and ``record_activity`` (the channel's
handlers).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping
from typing import Any

from .._errors import ResumeError
from .._ports import Wakeup
from ._activity import ActivityLog, parse_activity
from ._channel import Reply
from ._landing import landing_url
from ._policy import Outcome, Phase, State
from ._seams import SupervisorSeams
from ._server import ServerOptions
from ._session_files import SessionFiles, session_status

__all__ = ["SupervisorControls"]


class SupervisorControls:
    """State shared with other threads, and the controls they use (see the module)."""

    def __init__(self, options: ServerOptions, seams: SupervisorSeams) -> None:
        self.options = options
        self._seams = seams
        self._lock = threading.Lock()
        self._state: State | None = None
        self._resume_requested = False
        self._abort_requested = False
        self._interrupts = 0
        self._last_signal: int | None = None
        self._wakeup: Wakeup | None = seams.wakeup
        self._url = ""
        self._port = 0
        self._server_pid = 0
        self._files = SessionFiles(options.layout)
        self._activity = ActivityLog()

    @property
    def url(self) -> str:
        """The server's base URL (``http://host:port``)."""
        return self._url

    @property
    def landing_url(self) -> str:
        """The URL to open: the base URL plus what the IDE shows first."""
        if not self._url:
            return ""
        files = self.options.open_files
        reveal = files[-1] if files else None
        return landing_url(
            self._url,
            folder=self.options.workspace_folder,
            reveal=reveal,
            workspace=self.options.workspace_file,
        )

    def request_resume(self) -> str:
        """Ask the running session to stop the IDE and end with ``RESUMED``."""
        with self._lock:
            state = self._state
            if (
                state is not None
                and state.phase in (Phase.STOPPING, Phase.DONE)
                and state.outcome is not Outcome.RESUMED
            ):
                raise ResumeError(
                    f"the session is already ending ({state.detail or 'stopping'}); "
                    "there is nothing left to resume"
                )
            self._resume_requested = True
        if self._wakeup is not None:
            self._wakeup.notify()
        return (
            f"resume accepted by supervisor pid {os.getpid()}: stopping code-server"
            f"{f' at {self._url}' if self._url else ''} and running the task again"
        )

    def request_abort(self) -> str:
        """Ask the running session to stop the IDE and end with ``ABORTED``: the job ends
        with its failure instead of running the task again."""
        with self._lock:
            state = self._state
            if state is not None and state.phase in (Phase.STOPPING, Phase.DONE):
                raise ResumeError(
                    f"the session is already ending ({state.detail or 'stopping'}); "
                    "there is nothing left to abort"
                )
            self._abort_requested = True
        if self._wakeup is not None:
            self._wakeup.notify()
        return (
            f"abort accepted by supervisor pid {os.getpid()}: stopping code-server"
            f"{f' at {self._url}' if self._url else ''}; the job ends with its failure"
        )

    def interrupt(self, signum: int = signal.SIGTERM) -> None:
        """End the session with ``INTERRUPTED``. Lock-free: safe in a signal handler."""
        self._last_signal = signum
        self._interrupts += 1
        if self._wakeup is not None:
            self._wakeup.notify()

    def status(self) -> dict[str, object]:
        """What ``vscode-interactive status`` shows (and ``session.json`` holds)."""
        with self._lock:
            state = self._state
        return self._status_of(state)

    def _status_of(self, state: State | None) -> dict[str, object]:
        clock = self._seams.clock
        return session_status(
            self.options,
            state,
            now=clock.monotonic(),
            wall=clock.now(),
            url=self._url,
            landing_url=self.landing_url,
            port=self._port,
            server_pid=self._server_pid,
            password_file=self._files.password_file,
            reported=self._activity.seen(),
        )

    def record_activity(self, request: Mapping[str, Any]) -> Reply:
        """Record a report of the IDE extension (``{"kind": ..., "window": ...}``); the
        reply carries the status with the moved deadline. Refused once the session stops."""
        report = parse_activity(request)
        if isinstance(report, str):
            return {"ok": False, "message": report}
        with self._lock:
            state = self._state
            ending = state is not None and state.phase in (Phase.STOPPING, Phase.DONE)
            if not ending:
                self._activity.record(report, self._seams.clock.monotonic())
        if ending:
            assert state is not None
            detail = state.detail or "stopping"
            return {
                "ok": False,
                "message": f"the session is ending ({detail})",
                "status": self._status_of(state),
            }
        return {
            "ok": True,
            "message": f"activity recorded ({report.kind})",
            "status": self._status_of(state),
        }

    def _set_state(self, state: State) -> None:
        with self._lock:
            self._state = state
