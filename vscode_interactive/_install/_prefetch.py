"""Install code-server while the task runs: :class:`Prefetch`.

With ``run_task_first`` nothing is installed before the function fails, so a fresh pod
would wait for the whole cold install (the ~230 MB archive, ~9,500 files, the extensions)
before the IDE's URL appears. A session therefore starts a :class:`Prefetch` before it
calls the function:

1. a daemon thread waits ``head_start`` seconds (a function that returns sooner costs
   nothing more), then checks cheaply whether anything is missing
   (:func:`._warm.installed_already`: the warm path of ``ensure_installed``, no request,
   no process);
2. if something is missing, the thread starts the install in a child process
   (:mod:`._prefetch_child`) in a process group of its own and gives that whole group the
   lowest CPU and I/O priority (the :class:`~vscode_interactive._ports.Priorities` seam).
   The download, the sha256, the extraction and the extension install happen there, so
   they never hold the job's GIL. The thread keeps the job's priority and looks at the
   child once a second: a low-priority thread of the job would hold up the job's own
   thread every time it waits for the GIL and the scheduler passes it over (measured: a
   CPU-bound task up to 2x slower), and frequent polling would cost a GIL hand-over each
   time.

Then exactly one of:

* the function returns: :meth:`Prefetch.cancel` kills the child's process group and does
  not wait. The cache publishes nothing before it is complete, and the next miss removes
  the ``.part`` file and temp tree of a dead process, so nothing half-written remains.
* the function fails: :meth:`Prefetch.join` gives the install back the priority the
  session had (where the OS allows it) and waits; the session's own install step then
  finds everything in place, or, if the prefetch failed (logged once), installs as it
  always did. The child uses the same cache (and its lock), so there is one download.
* the interpreter exits: an exit hook (:mod:`._prefetch_exit`) kills and reaps a child
  still running. If the job is killed outright, the child's parent-death signal makes it
  kill its own group.

Whether a session prefetches at all, and what its child is told, is decided in
:mod:`._prefetch_request`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

from . import _prefetch_exit
from ._prefetch_request import (
    ENV_PREFETCH,
    ENV_REQUEST,
    PrefetchRequest,
    child_argv,
    prefetch_wanted,
)
from ._prefetch_seams import PrefetchSeams, real_seams

if TYPE_CHECKING:
    from pathlib import Path

    from .._ports import Environment, PriorityLevels, ProcessHandle
    from .._session import SessionConfig

__all__ = [
    "ENV_PREFETCH",
    "ENV_REQUEST",
    "BackgroundInstall",
    "Prefetch",
    "PrefetchOutcome",
    "PrefetchRequest",
    "PrefetchSeams",
    "child_argv",
    "prefetch_wanted",
    "start_prefetch",
]

logger = logging.getLogger("vscode_interactive.install")

HEAD_START = 1.0
LOOK_EVERY = 1.0
_LOOK_WHEN_WAITED = 0.05
_PROGRESS_EVERY = 10.0

PrefetchOutcome = Literal["running", "present", "installed", "failed", "cancelled"]
"""``present``: nothing was missing; ``installed``: the child installed what was."""


class BackgroundInstall(Protocol):
    """What a session does with a started prefetch."""

    def cancel(self) -> None: ...

    def join(self) -> PrefetchOutcome: ...


class Prefetch:
    """One background install; see the module docstring. Build it, then :meth:`start`.

    ``seams`` makes its effects; it is called in the thread, after the head start, so the
    caller's thread pays for no import.
    """

    def __init__(
        self,
        request: PrefetchRequest,
        seams: Callable[[], PrefetchSeams],
        *,
        head_start: float = HEAD_START,
        look_every: float = LOOK_EVERY,
    ) -> None:
        self._request = request
        self._make_seams = seams
        self._seams: PrefetchSeams | None = None
        self._head_start = head_start
        self._look_every = look_every
        self._lock = threading.Lock()
        self._go = threading.Event()  # set by a failure or a cancel: stop waiting, act now
        self._done = threading.Event()
        self._cancelled = False
        self._hurried = False
        self._levels: PriorityLevels | None = None
        self._child: ProcessHandle | None = None
        self._log: Path | None = None
        self._launched_at = 0.0
        self.outcome: PrefetchOutcome = "running"
        self.detail = ""
        """Why it failed (the child's last lines, or the error), for the one log line."""

    def start(self) -> Prefetch:
        _prefetch_exit.register(self)
        thread = threading.Thread(target=self._run, name="vscode-interactive-prefetch")
        thread.daemon = True
        thread.start()
        return self

    # -- the caller's side ------------------------------------------------------------

    def cancel(self) -> None:
        """The function returned: stop now (kill the child's group), without waiting."""
        with self._lock:
            if self._cancelled or self._done.is_set():
                return
            self._cancelled = True
            child = self._child
        self._go.set()
        if child is not None:
            import signal  # loaded already: starting the child imported subprocess

            child.signal_group(signal.SIGKILL)

    def join(self) -> PrefetchOutcome:
        """The function failed: give the install back its priority and wait for it."""
        self._hurry()
        if not self._done.is_set():
            logger.info("waiting for the code-server install that started while the task ran")
        last = ""
        while not self._done.wait(_PROGRESS_EVERY):
            line = self._last_line()
            if line and line != last:
                logger.info("background install: %s", line)
                last = line
        return self.outcome

    def _hurry(self) -> None:
        with self._lock:
            if self._hurried:
                return
            self._hurried = True
            levels, child, seams = self._levels, self._child, self._seams
            if seams is not None and levels is not None and child is not None:
                seams.priorities.restore_group(child.pid, levels)
        self._go.set()

    def _last_line(self) -> str:
        from .._system._files import read_log_tail

        return read_log_tail(self._log, lines=1) if self._log is not None else ""

    def reap(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a killed child to be gone (exit hook)."""
        child = self._child
        if child is not None:
            child.wait(timeout)

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        outcome: PrefetchOutcome = "failed"
        detail = "the background install stopped unexpectedly"
        try:
            outcome, detail = self._work()
        except Exception as error:  # logged once; the install at failure time tries again
            detail = f"{type(error).__name__}: {error}"
        finally:
            self._finish(outcome, detail)

    def _work(self) -> tuple[PrefetchOutcome, str]:
        self._go.wait(self._head_start)
        if self._cancelled:
            return "cancelled", ""
        seams = self._make_seams()
        self._seams = seams
        if seams.check():
            return "present", ""
        child, failure = self._launch(seams)
        if child is None:
            return ("failed", failure) if failure else ("cancelled", "")
        logger.info(
            "installing code-server in the background while the task runs (process %d, "
            "lowest CPU and I/O priority)",
            child.pid,
        )
        code = child.poll()
        while code is None:
            # Once a second while the task runs (each look takes the GIL); often once it
            # failed and the session waits for the install.
            self._go.wait(_LOOK_WHEN_WAITED if self._hurried else self._look_every)
            code = child.poll()
        if code == 0:
            return "installed", ""
        from .._system._files import read_log_tail

        tail = read_log_tail(self._log, lines=8) if self._log is not None else ""
        return "failed", f"exit code {code}: {tail or '(no output)'}"

    def _launch(self, seams: PrefetchSeams) -> tuple[ProcessHandle | None, str]:
        """Start the child and lower its group's priorities (all its threads, and what they
        start later, inherit them); under the lock, so a cancel or a hurry sees either no
        child or the started, lowered one. No child and no reason: it was cancelled."""
        with self._lock:
            if self._cancelled:
                return None, ""
            self._log = seams.log_file()
            self._launched_at = seams.clock.monotonic()
            env = {**seams.env.snapshot(), ENV_REQUEST: self._request.to_json(os.getpid())}
            try:
                self._child = seams.launcher.launch(seams.argv, env=env, log_path=self._log)
            except OSError as error:
                return None, f"cannot start {seams.argv[0]}: {error}"
            if not self._hurried:
                self._levels = seams.priorities.lower_group(self._child.pid)
            return self._child, ""

    def _finish(self, outcome: PrefetchOutcome, detail: str = "") -> None:
        seams = self._seams
        elapsed = seams.clock.monotonic() - self._launched_at if seams is not None else 0.0
        with self._lock:
            # A killed child fails; that is the cancel, not a failure to report.
            self.outcome = "cancelled" if self._cancelled and outcome == "failed" else outcome
            self.detail = detail
            log, self._log = self._log, None
        if self.outcome == "installed":
            logger.info("code-server was installed in the background in %.1f s", elapsed)
        elif self.outcome == "failed":
            logger.warning(
                "installing code-server in the background failed (%s); it is installed again "
                "if the task fails",
                detail,
            )
        if log is not None:
            from .._system._files import remove_quietly

            remove_quietly(log)
        _prefetch_exit.unregister(self)
        self._done.set()


def start_prefetch(config: SessionConfig, env: Environment) -> Prefetch | None:
    """Start the background install of a session, or None when it is not wanted (or this
    interpreter cannot start a child of itself: an empty ``sys.executable``)."""
    if not prefetch_wanted(
        config.prefetch, run_task_first=config.run_task_first, env_value=env.get(ENV_PREFETCH)
    ):
        return None
    if not sys.executable:
        logger.info("no background install: sys.executable is empty in this interpreter")
        return None
    cache_dir = None if config.cache_dir is None else str(config.cache_dir)
    request = PrefetchRequest(config.vscode, cache_dir)
    return Prefetch(request, lambda: real_seams(request, env)).start()
