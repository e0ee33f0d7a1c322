"""Claiming a workspace and its port before a session writes anything (real flock, sockets)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from vscode_interactive import ServerStartError
from vscode_interactive._layout import StateLayout
from vscode_interactive._supervision._claim import claim_session, claim_workspace
from vscode_interactive._system._network import SocketPortAllocator


def test_a_held_workspace_is_refused_naming_the_holder_and_freed_after(tmp_path: Path) -> None:
    """While one claim holds the workspace a second is refused with the holder's pid;
    once released the workspace can be claimed again."""
    layout = StateLayout.for_workspace(tmp_path)
    with claim_workspace(layout):
        assert stat.S_IMODE(layout.session_lock.stat().st_mode) == 0o600
        busy = pytest.raises(ServerStartError, match=f"pid {os.getpid()}, not serving")
        with busy, claim_workspace(layout):
            pass
    with claim_workspace(layout):
        pass


def test_a_refused_claim_writes_nothing(tmp_path: Path) -> None:
    """The loser leaves every file of the holder's state dir as it was."""
    layout = StateLayout.for_workspace(tmp_path)
    with claim_workspace(layout):
        before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in layout.root.iterdir()}
        with pytest.raises(ServerStartError), claim_workspace(layout):
            pass
        after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in layout.root.iterdir()}
    assert after == before


def test_a_taken_port_is_refused_and_the_workspace_released(tmp_path: Path) -> None:
    """claim_session checks the port after taking the workspace and lets go of it when
    the port is taken."""
    layout = StateLayout.for_workspace(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        taken = pytest.raises(ServerStartError, match=f"port {port} on 127.0.0.1 is already in")
        claim = claim_session(layout, host="127.0.0.1", port=port, ports=SocketPortAllocator())
        with taken, claim:
            pass
    with claim_workspace(layout):
        pass
