"""The group leader that stands between the supervisor and code-server.

Run as a script (``python -I -S _guardian.py --grace S --parent PID -- code-server ...``), it
is a standalone, standard-library-only program: like the CLI it is an entry point of its own
process, which is why it may touch ``os``, ``signal`` and ``subprocess`` directly.

Why it exists: Linux delivers the parent-death signal (``PR_SET_PDEATHSIG``, set by
:class:`~vscode_interactive._system.PopenLauncher`) only to the direct child. If the
supervising Python process is SIGKILLed (the OOM killer picks the biggest process, often
the job), code-server's own children -- extension host, pty host, a debuggee -- would keep
a GPU pod alive. The guardian is that direct child. It

* leads the process group and starts code-server inside it;
* becomes a *child subreaper*, so every orphaned descendant is re-parented to it and
  reaped (no zombies left for a PID 1 that does not reap);
* on SIGTERM/SIGINT/SIGHUP (the supervisor stopping, or the parent-death signal), or when
  its parent disappears (checked every second, for systems without PDEATHSIG), sends
  SIGTERM to the whole group and to every descendant outside it, waits ``--grace``
  seconds, then SIGKILLs what is left: every descendant, in whatever session or group
  (an IDE terminal's jobs, ``setsid``/``nohup`` ones included), and the group. It stays
  alive until they are gone, so orphans are re-parented to it, not to init;
* when code-server exits on its own, clears the rest of the group the same way and exits
  with code-server's status (re-raising the same signal if it was killed), so the
  supervisor sees code-server's real exit code.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

_PR_SET_CHILD_SUBREAPER = 36
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def live_processes() -> list[tuple[int, int, int]] | None:
    """``(pid, ppid, pgrp)`` of every process that is not a zombie, read from ``/proc``;
    None where there is no ``/proc``. (Also used by ``_system``: this module must stay
    standard-library-only, so the shared piece lives here.)"""
    try:
        names = os.listdir("/proc")  # noqa: PTH208 - pathlib's import would slow the launch
    except OSError:
        return None
    found: list[tuple[int, int, int]] = []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as file:  # noqa: PTH123
                stat = file.read()
        except OSError:
            continue
        # Fields after the ")" that closes the command name: state ppid pgrp ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) < 3 or fields[0] in ("Z", "X"):
            continue
        found.append((int(name), int(fields[1]), int(fields[2])))
    return found


def descendants(root: int, table: list[tuple[int, int, int]]) -> list[int]:
    """Every process below ``root`` in ``table`` (from :func:`live_processes`), whatever
    its session or group: a terminal's jobs included. Parents come before children."""
    children: dict[int, list[int]] = {}
    for pid, ppid, _pgrp in table:
        children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    pending = list(children.get(root, ()))
    while pending:
        pid = pending.pop(0)
        if pid in found or pid == root:
            continue
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


_PARENT_CHECK_SECONDS = 1.0


def _become_subreaper() -> None:
    if sys.platform != "linux":
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _Guardian:
    def __init__(self, argv: Sequence[str], grace: float, parent: int) -> None:
        self.argv = list(argv)
        self.grace = grace
        self.parent = parent
        self.stop_requested = False
        self.child_status: int | None = None  # os.waitpid status of code-server
        self.children_left = True
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum in _STOP_SIGNALS:
            self.stop_requested = True

    def _install_handlers(self) -> None:
        signal.set_wakeup_fd(self._write)
        for signum in (*_STOP_SIGNALS, signal.SIGCHLD):
            signal.signal(signum, self._on_signal)

    def _wait_event(self, timeout: float) -> None:
        ready, _, _ = select.select([self._read], [], [], max(timeout, 0.0))
        if ready:
            with contextlib.suppress(OSError):
                while os.read(self._read, 512):
                    pass

    def _reap(self, child_pid: int) -> None:
        """Collect every exited child; remember code-server's status."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children_left = False
                return
            if pid == 0:
                return
            if pid == child_pid:
                self.child_status = status

    def _parent_gone(self) -> bool:
        return os.getppid() != self.parent

    def _stragglers(self) -> list[int]:
        """Live processes of our group, and every descendant of ours in other sessions and
        groups (an IDE terminal's jobs, ``setsid``/``nohup`` ones included)."""
        me, group = os.getpid(), os.getpgrp()
        table = live_processes() or []
        below = descendants(me, table)
        members = [pid for pid, _ppid, pgrp in table if pgrp == group and pid != me]
        return below + [pid for pid in members if pid not in below]

    def _signal_outside_group(self, signum: int) -> None:
        """Send ``signum`` to our descendants that a signal to our group does not reach."""
        group = os.getpgrp()
        table = live_processes() or []
        in_group = {pid for pid, _ppid, pgrp in table if pgrp == group}
        for pid in descendants(os.getpid(), table):
            if pid not in in_group:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)

    def _clear_group(self, child_pid: int) -> None:
        """SIGTERM the group, wait out the grace period, then SIGKILL what remains."""
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in _STOP_SIGNALS}
        if sys.platform == "linux":
            self._signal_outside_group(signal.SIGTERM)  # a terminal's jobs get the grace too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgrp(), signal.SIGTERM)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        deadline = time.monotonic() + self.grace
        self._reap(child_pid)
        while self.children_left and time.monotonic() < deadline:
            self._wait_event(min(0.2, deadline - time.monotonic()))
            self._reap(child_pid)
        for _ in range(50):
            self._reap(child_pid)
            pids = self._stragglers() if sys.platform == "linux" else []
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            self._wait_event(0.05)
        if sys.platform != "linux" and self.children_left:
            os.killpg(os.getpgrp(), signal.SIGKILL)  # no /proc to list them: take us along
        self._reap(child_pid)

    def run(self) -> int:
        _become_subreaper()
        self._install_handlers()
        try:
            child = subprocess.Popen(self.argv)
        except OSError as error:
            print(f"vscode-interactive guardian: cannot start {self.argv[0]}: {error}", flush=True)
            return 127
        while self.child_status is None and not self.stop_requested:
            if self._parent_gone():
                print(
                    "vscode-interactive guardian: the supervising process is gone; "
                    "stopping code-server",
                    flush=True,
                )
                break
            self._wait_event(_PARENT_CHECK_SECONDS)
            self._reap(child.pid)
        self._clear_group(child.pid)
        return self._exit_code()

    def _exit_code(self) -> int:
        status = self.child_status
        if status is None:
            return 1
        if os.WIFSIGNALED(status):
            signum = os.WTERMSIG(status)
            with contextlib.suppress(OSError, ValueError):  # SIGKILL/SIGSTOP have no handler
                signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)  # exit the way code-server did
            return 128 + signum
        return os.WEXITSTATUS(status)


_USAGE = "usage: python -I -S _guardian.py --grace SECONDS --parent PID -- COMMAND [ARG ...]"


def parse_args(argv: Sequence[str]) -> tuple[float, int, list[str]]:
    """``(grace, parent, command)`` from ``--grace S --parent PID -- COMMAND ...``;
    ``ValueError`` saying what is wrong. (Parsed by hand: ``argparse`` and its imports
    would cost code-server's start ~10 ms on every launch.)"""
    grace, parent = 5.0, None
    rest = list(argv)
    while rest and rest[0] != "--":
        option, value = rest[0], rest[1] if len(rest) > 1 else None
        if option not in ("--grace", "--parent"):
            raise ValueError(f"unexpected argument {option!r}")
        if value is None:
            raise ValueError(f"{option} needs a value")
        try:
            if option == "--grace":
                grace = float(value)
            else:
                parent = int(value)
        except ValueError:
            raise ValueError(f"{option} takes a number, got {value!r}") from None
        rest = rest[2:]
    if parent is None:
        raise ValueError("--parent PID is required")
    command = rest[1:]
    if not command:
        raise ValueError("no command to run after --")
    return grace, parent, command


def main(argv: Sequence[str] | None = None) -> int:
    try:
        grace, parent, command = parse_args(sys.argv[1:] if argv is None else argv)
    except ValueError as error:
        print(f"vscode-interactive guardian: {error}\n{_USAGE}", file=sys.stderr, flush=True)
        return 2
    return _Guardian(command, grace, parent).run()


if __name__ == "__main__":  # pragma: no cover - exercised through real processes
    sys.exit(main())
