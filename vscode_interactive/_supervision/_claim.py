"""Claiming a workspace (and its port) for one session, before anything is written there.

Two jobs started in one workspace must not both write it: the second would replace the
first's captured inputs and front page while the first still waits in the IDE. So a
session takes an exclusive ``flock`` on ``<state dir>/session.lock`` before it installs or
writes anything, and holds it until its IDE phase ends (the lock goes with the process,
also when it is killed). The loser changes nothing and names the holder: the pid written
in the lock file, and the URL its resume channel reports. The requested port is checked
in the same step, so a taken port is reported before the install too.

``flock`` is advisory and some network file systems emulate it; the resume channel's
"already listens" check in the supervisor stays as the second line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator

from .._errors import ResumeError, ServerStartError
from .._layout import StateLayout
from .._ports import PortAllocator
from .._system._files import ensure_private_dir, lock_exclusive, read_private_text

__all__ = ["check_port_free", "claim_session", "claim_workspace"]

logger = logging.getLogger("vscode_interactive.supervisor")

_STATUS_TIMEOUT = 2.0


def check_port_free(host: str, port: int, ports: PortAllocator) -> None:
    """Raise :class:`ServerStartError` when ``port`` (not 0) on ``host`` is taken."""
    if port and not ports.is_free(host, port):
        raise ServerStartError(
            f"port {port} on {host} is already in use; choose another port, or port=0 to "
            "pick a free one",
            port=port,
        )


def _holder(layout: StateLayout) -> str:
    """Who holds the workspace, as the error says it: pid and URL when known."""
    try:
        recorded = json.loads(read_private_text(layout.session_lock) or "{}")
    except ValueError:
        recorded = {}
    pid = recorded.get("pid") if isinstance(recorded, dict) else None
    url = ""
    with contextlib.suppress(ResumeError):
        from ._channel import request_status

        status = request_status(layout.root, timeout=_STATUS_TIMEOUT)
        url = str(status.get("url") or status.get("server_url") or "")
        pid = pid or status.get("supervisor_pid")
    parts = [f"pid {pid}" if pid else "pid unknown"]
    parts.append(f"IDE at {url}" if url else "not serving the IDE yet")
    return ", ".join(parts)


def _busy(layout: StateLayout) -> ServerStartError:
    workspace = layout.workspace
    return ServerStartError(
        f"another vscode-interactive session ({_holder(layout)}) holds the workspace "
        f"{workspace}; this one wrote nothing there. Resume or stop that session first "
        f"(`vscode-interactive status --workspace {workspace}`, `vscode-interactive resume "
        f"--workspace {workspace}`), or give this job another workspace_dir."
    )


@contextlib.contextmanager
def claim_session(
    layout: StateLayout, *, host: str, port: int, ports: PortAllocator | None = None
) -> Iterator[None]:
    """What a session holds before any work: its workspace (:func:`claim_workspace`), and
    ``port`` checked free (``port=0`` picks one at launch). ``ports`` defaults to the real
    socket check."""
    with claim_workspace(layout):
        if port:
            if ports is None:
                from .._system._network import SocketPortAllocator

                ports = SocketPortAllocator()
            check_port_free(host, port, ports)
        yield


@contextlib.contextmanager
def claim_workspace(layout: StateLayout) -> Iterator[None]:
    """Hold ``layout``'s workspace for the duration of the ``with`` block.

    Creates (or checks) the private state directory and takes its lock; raises
    :class:`ServerStartError` naming the holder when another process has it, and
    :class:`~vscode_interactive._errors.StateDirError` for a state directory that is not
    ours.
    """
    ensure_private_dir(layout.root)
    fd = lock_exclusive(layout.session_lock)
    if fd is None:
        raise _busy(layout)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "since": time.time()}).encode(), 0)
        logger.debug("workspace %s claimed by pid %d", layout.workspace, os.getpid())
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race)
