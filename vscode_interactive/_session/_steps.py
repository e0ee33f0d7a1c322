"""The effects a session composes (:class:`SessionSteps`) and the real ones
(:class:`RealSteps`): each step is one call into its own module."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

# Only what defining SessionConfig and @vscode needs is imported here: a job imports this
# module at start-up, and the installer, supervisor, workspace writer and reloader (with
# urllib, ssl, inspect, ...) are needed only once a session opens the IDE.
if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from .._edits._record import EditRecord
    from .._install._ensure import Installation
    from .._ports import Clock, Interrupts, PostMortemHandle
    from .._supervision._seams import SupervisionResult, WhileStarting
    from .._supervision._server import ServerOptions
    from .._workspace import WorkspaceFiles


from ._config import SessionConfig


class SessionSteps(Protocol):
    """The effects a session composes; each is one call into its own module."""

    def claim(self, config: SessionConfig) -> AbstractContextManager[object]:
        """Hold the workspace (and check the port) for an IDE phase; raise, having
        written nothing, when another session holds it or the port is taken."""
        ...

    def install(self, config: SessionConfig) -> Installation: ...

    def record_edits(
        self, config: SessionConfig, *, job: str, save_to: str | None
    ) -> EditRecord: ...

    def prepare(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        *,
        config: SessionConfig,
        failure: BaseException | None,
        post_mortem: tuple[str, int] | None = None,
        edits_note: str | None = None,
    ) -> WorkspaceFiles: ...

    def supervise(
        self,
        options: ServerOptions,
        *,
        failure_summary: str | None,
        interrupts: Interrupts | None = None,
        while_starting: WhileStarting | None = None,
    ) -> SupervisionResult:
        """Run the IDE to its end. ``interrupts``: where SIGTERM/SIGINT (and, for
        ``arun``, cancellation) reach the supervisor; ``None`` = this thread's signals.
        ``while_starting`` runs once code-server was started, before the banner."""
        ...

    def post_mortem(self, failure: BaseException) -> PostMortemHandle:
        """Hold ``failure`` for a debugger; :class:`DebuggerError` when that cannot be."""
        ...


class RealSteps:
    """The real modules: cache + installer, workspace writer, supervisor."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock

    def claim(self, config: SessionConfig) -> AbstractContextManager[object]:
        from .._supervision._claim import claim_session

        return claim_session(config.layout(), host=config.host, port=config.port)

    def install(self, config: SessionConfig) -> Installation:
        from .._install._ensure import ensure_installed

        if config.cache_dir is None:
            return ensure_installed(config.vscode)
        from ..cache import Cache

        return ensure_installed(config.vscode, cache=Cache(root=config.cache_dir))

    def record_edits(self, config: SessionConfig, *, job: str, save_to: str | None) -> EditRecord:
        from .._edits._record import real_record

        layout, inputs = config.layout(), config.save_inputs
        return real_record(layout, job=job, save_to=save_to, save_inputs=inputs, clock=self._clock)

    def prepare(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        *,
        config: SessionConfig,
        failure: BaseException | None,
        post_mortem: tuple[str, int] | None = None,
        edits_note: str | None = None,
    ) -> WorkspaceFiles:
        from pathlib import Path

        from .._system._os import SystemClock
        from .._workspace import prepare_workspace

        clock = self._clock or SystemClock()
        return prepare_workspace(
            fn,
            args,
            kwargs,
            layout=config.layout(),
            python=sys.executable,
            failure=failure,
            max_idle_seconds=config.max_idle_seconds,
            now=clock.now(),
            job_pid=os.getpid(),
            working_directory=Path.cwd(),
            post_mortem=post_mortem,
            edits_note=edits_note,
        )

    def supervise(
        self,
        options: ServerOptions,
        *,
        failure_summary: str | None,
        interrupts: Interrupts | None = None,
        while_starting: WhileStarting | None = None,
    ) -> SupervisionResult:
        from .._supervision._seams import SupervisorSeams
        from .._supervision._supervisor import Supervisor

        seams = SupervisorSeams() if interrupts is None else SupervisorSeams(interrupts=interrupts)
        supervisor = Supervisor(options, failure_summary=failure_summary, _seams=seams)
        return supervisor.run(_while_starting=while_starting)

    def post_mortem(self, failure: BaseException) -> PostMortemHandle:
        from .._debug._postmortem import open_post_mortem

        return open_post_mortem(failure)
