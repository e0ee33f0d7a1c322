"""Waiting for a condition, the one way tests wait (these machines are loaded: never a
fixed sleep, always a condition with a deadline).

::

    wait_until(lambda: server.count("/a") == 2, timeout=10, what="the second GET of /a")
    info = wait_until(read_session_info, timeout=30, what="the session file")  # its value
    wait_until_gone(pids, timeout=10)  # every process ended (zombies count as ended)
    await wait_until_async(task_started.is_set, timeout=10, what="the task")  # in a coroutine

A predicate may raise to fail at once (``assert child.poll() is None, child.stderr`` inside
it stops waiting for a child that already died). Process helpers live here too because
the test process, not the fakes it starts, is the one that waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

__all__ = ["kill_leftovers", "process_alive", "wait_until", "wait_until_async", "wait_until_gone"]

_T = TypeVar("_T")


def wait_until(
    predicate: Callable[[], _T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.02,
) -> _T:
    """Call ``predicate`` until it returns a truthy value and return that value (so a
    predicate returning ``X | None`` gives an ``X``).

    Raises ``AssertionError("timed out after <timeout> s waiting for <what>")`` when the
    deadline passes first; the predicate is always tried once more at the deadline, so a
    slow machine that got there late still passes.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


async def wait_until_async(
    predicate: Callable[[], _T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.01,
) -> _T:
    """:func:`wait_until` inside a coroutine: between tries it yields to the event loop
    (``asyncio.sleep``) instead of blocking it, so the loop's other tasks run meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


def process_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (zombies of orphans may never be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] not in ("Z", "X")


def wait_until_gone(pids: Iterable[int], *, timeout: float = 10.0) -> None:
    """Wait until none of ``pids`` runs; the AssertionError names the survivors."""
    pids = list(pids)
    try:
        wait_until(
            lambda: not any(process_alive(pid) for pid in pids),
            timeout=timeout,
            what=f"processes {pids} to end",
        )
    except AssertionError as error:
        survivors = [pid for pid in pids if process_alive(pid)]
        raise AssertionError(f"{error}; still running: {survivors}") from None


def kill_leftovers(pids: Iterable[int]) -> None:
    """Test cleanup: SIGKILL whatever is still running."""
    for pid in pids:
        if process_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
