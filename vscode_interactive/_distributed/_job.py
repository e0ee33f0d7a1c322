"""This rank's side of a distributed session, round after round.

:meth:`DistributedJob.run` is what ``Session.run`` does once the function has failed (or
before it is called) in a multi-rank job::

    elect --hosting--> IDE phase (the single-process one) --resumed--> gather -> conclude
          |                       \\--any other end: conclude, raise as a single process
          \\--parked--> park --resume including me--> reload
                             \\--anything else----> IdleTimeoutError from my own failure
    resumed: every participant rebuilds the process group (all ranks present), then calls
    the function again; if it fails again, the next round starts.

Every exception the host's IDE phase raises (idle timeout, a server that exited, a
signal, an install that failed) concludes the round first, so no rank waits for a
session that is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import IdleTimeoutError, ReloadError, ServerError
from .._layout import StateLayout
from .._ports import Clock
from ._messages import ended_error, host_summary, parked_error, parked_message, ranks_section
from ._protocol import RESUMED, Coordinator, Election, SessionEnd
from ._ranks import RankInfo
from ._report import RankReport, report_for
from ._store import CoordinationStore, PrefixedStore
from ._watch import HostWatcher

if TYPE_CHECKING:
    from .._session import Call

__all__ = [
    "DistributedJob",
    "HostHooks",
    "IdePhase",
    "JobSeams",
    "kind_of",
    "open_job",
    "real_seams",
    "report_finished",
]

logger = logging.getLogger("vscode_interactive")


@dataclass(frozen=True)
class HostHooks:
    """What the hosting rank adds to the single-process IDE phase: ``summary`` rewrites
    the banner's failure line; ``prepared`` runs each time the workspace was written."""

    summary: Callable[[str | None], str | None]
    prepared: Callable[[], None]


class IdePhase(Protocol):
    """The single-process IDE phase: open the IDE on this rank for ``failure``; return
    the (re-imported) function to resume with, or raise how the session ended."""

    def __call__(
        self, failure: BaseException | None, hooks: HostHooks, first: BaseException | None
    ) -> Callable[..., Any]:
        """``first`` is the failure of the job's first round (an abort chains to it)."""
        ...


@dataclass(frozen=True)
class JobSeams:
    """The effects of a distributed session (the real ones come from :func:`real_seams`)."""

    open_store: Callable[[RankInfo, str | None], CoordinationStore | None]
    rebuild: Callable[[str], bool]
    reload: Callable[[Callable[..., Any]], Callable[..., Any]]
    write_page: Callable[[Path, str], None]
    clock: Clock
    hostname: str
    pid: int
    watch_interval: float = 1.0
    tie_window: float = 2.0
    depart_timeout: float = 60.0


def kind_of(error: BaseException) -> str:
    """How a round ended, from what the host's IDE phase raised."""
    if isinstance(error, IdleTimeoutError):
        return "idle_timeout"
    if isinstance(error, ServerError):
        return "server_exited"
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        return "interrupted"
    return "failed"


def open_job(info: RankInfo, spec: str | None, seams: JobSeams) -> DistributedJob | None:
    """The job's coordinator, or None (with a warning) when the ranks have no store."""
    try:
        store = seams.open_store(info, spec)
    except (OSError, RuntimeError) as error:
        logger.warning(
            "%s: could not reach the coordination store (%s); this rank opens its own IDE",
            info.describe(),
            error,
        )
        return None
    if store is None:
        logger.warning(
            "%s: no store to coordinate the ranks through (torch.distributed is not "
            "initialized, no torchrun agent, no VSCODE_INTERACTIVE_STORE); every failing "
            "rank opens its own IDE",
            info.describe(),
        )
        return None
    namespace = f"vscode_interactive/{info.job_id}"
    coordinator = Coordinator(
        PrefixedStore(store, namespace),
        world_size=info.world_size,
        clock=seams.clock,
        tie_window=seams.tie_window,
    )
    return DistributedJob(info, coordinator, namespace=namespace, seams=seams)


def report_finished(info: RankInfo, spec: str | None, seams: JobSeams) -> None:
    """Tell the job's store this rank's call returned; quietly nothing without a store."""
    try:
        store = seams.open_store(info, spec)
        if store is not None:
            PrefixedStore(store, f"vscode_interactive/{info.job_id}").add("finished", 1)
    except Exception:  # success must never fail because the store is unreachable
        logger.debug("%s: could not report the finished call", info.describe(), exc_info=True)


class DistributedJob:
    """One rank's view of the job's debugging session (see the module docstring)."""

    def __init__(
        self, info: RankInfo, coordinator: Coordinator, *, namespace: str, seams: JobSeams
    ) -> None:
        self.info = info
        self.coordinator = coordinator
        self.namespace = namespace
        self.seams = seams

    def finished(self) -> None:
        """This rank's call returned: a resume elsewhere need not wait for it."""
        self.coordinator.finished()

    def run(
        self,
        fn: Callable[..., Any],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        *,
        failure: BaseException | None,
        ide_phase: IdePhase,
        layout: StateLayout,
        pre_execute: Callable[[], object] = lambda: None,
        post_execute: Callable[[], object] = lambda: None,
        call: Call = lambda fn, args, kwargs: fn(*args, **kwargs),
    ) -> Any:
        """Rounds until the function returns on this rank, or the session ends.

        ``post_execute`` runs after each round this rank took part in, ``pre_execute``
        before each round but the first (the caller ran it). The resumed function is called
        as ``call(function, args, kwargs)`` (``Session.arun`` awaits it in the caller's
        task)."""
        first: BaseException | None = failure
        rounds = 0
        while True:
            if rounds:
                pre_execute()
            rounds += 1
            me = report_for(
                self.info.rank, host=self.seams.hostname, pid=self.seams.pid, failure=failure
            )
            try:
                resumed = self._round(me, fn, failure, first, ide_phase, layout)
            except ReloadError as error:  # a parked rank's re-import: the next round shows it
                logger.error("%s: %s; the job's IDE opens again", self.info.describe(), error)
                failure, resumed = error, None
            finally:
                post_execute()
            if resumed is None:
                continue  # this rank did not resume with the others: the next round has it
            function, participants, number = resumed
            try:
                if len(participants) == self.info.world_size:
                    self.seams.rebuild(f"{self.namespace}/r{number}/pg")
                return call(function, args, kwargs)
            except Exception as error:
                logger.exception(
                    "%s: the resumed call failed; the job's IDE opens again", self.info.describe()
                )
                failure = error
                first = first if first is not None else error

    def _leave(self, error: BaseException, *, wait: bool = True) -> BaseException:
        """Before this rank raises ``error`` after an end without resume: say why it stops
        (the launcher may kill it before its traceback is printed), then wait until the
        others are leaving too (not after a signal, which asks for a prompt exit)."""
        logger.error("%s stops with %s: %s", self.info.describe(), type(error).__name__, error)
        if wait:
            missing = self.coordinator.depart(self.seams.depart_timeout)
            if missing:
                logger.warning(
                    "%s: %d other rank(s) did not stop within %.0f s (still running, or stuck "
                    "in a collective); stopping anyway",
                    self.info.describe(),
                    missing,
                    self.seams.depart_timeout,
                )
        return error

    def _round(
        self,
        me: RankReport,
        fn: Callable[..., Any],
        failure: BaseException | None,
        first: BaseException | None,
        ide_phase: IdePhase,
        layout: StateLayout,
    ) -> tuple[Callable[..., Any], tuple[int, ...], int] | None:
        """One round: (the function to call, the participants, the round), or None when
        the round resumed without this rank; raises how the session ended otherwise."""
        election = self.coordinator.elect(me)
        if isinstance(election, SessionEnd):  # the session ended before this rank stopped
            raise self._leave(ended_error(self.info.rank, election)) from failure
        if election.hosting:
            function, participants = self._host(election, failure, first, ide_phase, layout)
            return function, participants, election.round
        logger.warning("%s", parked_message(election))
        end = self.coordinator.park(
            election, on_url=lambda url: logger.warning("%s", parked_message(election, url))
        )
        if end.includes(self.info.rank):
            logger.info("%s: resuming with rank(s) %s", self.info.describe(), end.participants)
            return self.seams.reload(fn), end.participants, election.round
        if end.resumed:
            logger.warning("%s: the session resumed without this rank", self.info.describe())
            return None
        raise self._leave(parked_error(election, end)) from failure

    def _host(
        self,
        election: Election,
        failure: BaseException | None,
        first: BaseException | None,
        ide_phase: IdePhase,
        layout: StateLayout,
    ) -> tuple[Callable[..., Any], tuple[int, ...]]:
        world = self.info.world_size
        coordinator = self.coordinator
        watcher = HostWatcher(
            coordinator,
            election,
            front_page=layout.front_page,
            session_file=layout.session_info,
            render=lambda reports: ranks_section(
                reports, host_rank=election.me.rank, world_size=world
            ),
            write=self.seams.write_page,
            interval=self.seams.watch_interval,
        )
        hooks = HostHooks(
            summary=lambda text: host_summary(election, world, text), prepared=watcher.tick
        )
        with watcher:  # beats until the round is concluded, gather and departure included
            try:
                function = ide_phase(failure, hooks, first)
            except BaseException as error:
                # An abort ends the job with the host's own failure (as for one process).
                kind = "aborted" if failure is not None and error is failure else kind_of(error)
                coordinator.conclude(election, SessionEnd(kind, detail=_first_line(error)))
                self._leave(error, wait=kind != "interrupted")
                raise
            participants = coordinator.gather(election)
            coordinator.conclude(election, SessionEnd(RESUMED, participants=participants))
        return function, participants


def real_seams() -> JobSeams:
    """The real effects: torch's stores, the process-group rebuild, the re-import."""
    import os
    import socket

    from .._reload._reimport import reload_function
    from .._reload._target import target_of
    from .._system._files import write_atomic
    from .._system._os import SystemClock
    from ._torch import open_store, rebuild_process_group

    clock = SystemClock()

    def opener(info: RankInfo, spec: str | None) -> CoordinationStore | None:
        opened = open_store(info, spec, clock)
        if opened is None:
            return None
        logger.debug("%s: coordinating through %s", info.describe(), opened.description)
        return opened.store

    def write_page(path: Path, text: str) -> None:
        write_atomic(path, text)

    return JobSeams(
        open_store=opener,
        rebuild=rebuild_process_group,
        reload=lambda fn: reload_function(target_of(fn), fn),
        write_page=write_page,
        clock=clock,
        hostname=socket.gethostname(),
        pid=os.getpid(),
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."
