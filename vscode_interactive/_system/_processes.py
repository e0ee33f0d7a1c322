"""Real process adapters: launch a process group, run a command (argv lists only)."""

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .._ports import BytesResult, CommandResult
from .._supervision._guardian import descendants, live_processes
from ._files import open_private_append

__all__ = ["PopenLauncher", "SubprocessRunner"]

_PR_SET_PDEATHSIG = 1
# Passes over /proc when SIGKILLing descendants outside the group: each pass finds those
# re-parented since the last one; a pass that finds none ends the sweep.
_KILL_SWEEPS = 200


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the forked child
    """In the child, before exec: ask Linux to SIGTERM us when our parent dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _PopenHandle:
    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self._pgid = popen.pid  # start_new_session: the child leads its own group

    @property
    def pid(self) -> int:
        return self._popen.pid

    def poll(self) -> int | None:
        return self._popen.poll()

    def wait(self, timeout: float) -> int | None:
        try:
            return self._popen.wait(timeout=max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            return None

    def signal_group(self, signum: int) -> None:
        """Signal the group and every descendant of its leader outside it.

        A process an IDE terminal started (``setsid``, ``nohup``) is in another session,
        so the group signal misses it. For SIGKILL the group is stopped first (nothing in
        it can fork or exit), those descendants are killed while the leader (the guardian,
        a subreaper) still holds them, and only then the group: otherwise a descendant
        whose parent dies with the group is re-parented to init and lives on.
        """
        if signum == signal.SIGKILL:
            self._killpg(signal.SIGSTOP)
            _kill_outside_group(self._popen.pid, self._pgid, signum, sweeps=_KILL_SWEEPS)
        else:
            _kill_outside_group(self._popen.pid, self._pgid, signum, sweeps=1)
        self._killpg(signum)

    def _killpg(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._pgid, signum)

    def group_alive(self) -> bool:
        self._popen.poll()  # reap the leader so a zombie does not count as alive
        try:
            os.killpg(self._pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return _group_has_live_member(self._pgid)


def _kill_outside_group(leader: int, pgid: int, signum: int, *, sweeps: int) -> None:
    """Send ``signum`` to the descendants of ``leader`` that are not in group ``pgid``,
    again (up to ``sweeps`` passes) while new ones appear (children of killed ones are
    re-parented to the leader, a subreaper, and show up in the next pass)."""
    for _ in range(sweeps):
        table = live_processes()
        if table is None:
            return
        in_group = {pid for pid, _ppid, pgrp in table if pgrp == pgid}
        outside = [pid for pid in descendants(leader, table) if pid not in in_group]
        if not outside:
            return
        for pid in outside:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


def _group_has_live_member(pgid: int) -> bool:
    """False when every process left in group ``pgid`` is a zombie.

    ``killpg(pgid, 0)`` also succeeds for zombies, and orphaned zombies are never reaped
    when PID 1 is a process that does not reap (a Python job running as PID 1 in a pod),
    so the signal test alone would report a dead group alive forever. Where ``/proc`` is
    missing this falls back to "alive".
    """
    table = live_processes()
    if table is None:
        return True
    return any(pgrp == pgid for _pid, _ppid, pgrp in table)


class PopenLauncher:
    """Starts children with :class:`subprocess.Popen` in a new session (own group).

    ``parent_death_signal=False`` is for programs that ask for their own parent-death
    signal (the background install does): without a function to run in the child
    before ``exec``, :mod:`subprocess` can spawn with ``vfork`` instead of copying this
    process's memory map, which for a job holding gigabytes is tens of milliseconds.

    ``own_session=False`` gives the child a process group of its own but keeps it in this
    session. That matters for a child meant to run at a lower priority: Linux's
    autogroup scheduling (on by default on desktops and VMs) shares the CPU between
    sessions first, so a child in a new session would compete with the whole job as an
    equal, whatever its nice value. (Python 3.10 has no ``process_group``: there the
    group is made by ``os.setpgrp`` before ``exec``, which costs the ``vfork``.)
    """

    def __init__(self, *, parent_death_signal: bool = True, own_session: bool = True) -> None:
        self._parent_death_signal = parent_death_signal and sys.platform == "linux"
        self._own_session = own_session

    def _group_options(self) -> dict[str, Any]:
        """How the child gets its own process group (and maybe session), and what runs in
        it before ``exec``."""
        death = _set_parent_death_signal if self._parent_death_signal else None
        if self._own_session:
            return {"start_new_session": True, "preexec_fn": death}
        if sys.version_info >= (3, 11):
            return {"process_group": 0, "preexec_fn": death}

        def own_group() -> None:  # pragma: no cover - runs in the forked child
            os.setpgrp()
            if death is not None:
                death()

        return {"preexec_fn": own_group}

    def launch(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        log_path: Path | None = None,
    ) -> _PopenHandle:
        log: IO[bytes] | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = os.fdopen(open_private_append(log_path), "ab")  # never through a symlink
        try:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log if log is not None else subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                **self._group_options(),
            )
        finally:
            if log is not None:
                log.close()
        return _PopenHandle(popen)


class SubprocessRunner:
    """Runs short commands with :func:`subprocess.run`: output captured as text
    (:meth:`run`) or as bytes (:meth:`run_bytes`)."""

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        done = subprocess.run(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
        return CommandResult(done.returncode, done.stdout, done.stderr)

    def run_bytes(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> BytesResult:
        """Like :meth:`run`, with ``stdin`` as input and stdout returned undecoded; a
        command that outlives ``timeout`` is killed and raises ``TimeoutError``."""
        try:
            done = subprocess.run(
                list(argv),
                env=dict(env) if env is not None else None,
                cwd=cwd,
                input=stdin if stdin is not None else b"",
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise TimeoutError(f"{argv[0]} did not finish within {timeout:g} s") from error
        return BytesResult(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))
