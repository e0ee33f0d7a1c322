"""Starting one code-server process: which executable, which port, which command line.

The supervisor calls these once per launch attempt; every effect comes through the
ports it passes in (``PortAllocator``, ``ProcessLauncher``), except finding the
executable on ``PATH``. Each failure is a :class:`ServerStartError` saying what to do.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from .._errors import ServerStartError
from .._ports import PortAllocator, ProcessHandle, ProcessLauncher
from .._system._files import regular_file_size
from . import _guardian
from ._claim import check_port_free
from ._server import ServerOptions, build_argv, guardian_argv

__all__ = ["choose_port", "launch_server", "resolve_executable"]

logger = logging.getLogger("vscode_interactive.supervisor")


def resolve_executable(executable: Path | str, path: str | None) -> str:
    """The full path of ``executable`` (searched on ``path`` when it has no ``/``)."""
    exe = str(executable)
    found = shutil.which(exe, path=path)
    if found is None:
        where = "is not on PATH" if os.sep not in exe else "is missing or not executable"
        raise ServerStartError(
            f"code-server executable {exe!r} {where}; install it or pass its full path"
        )
    return found


def choose_port(options: ServerOptions, ports: PortAllocator) -> int:
    """``options.port`` if it is free, or a free port when it is 0."""
    check_port_free(options.host, options.port, ports)
    return options.port or ports.free_port(options.host)


def launch_server(
    options: ServerOptions,
    launcher: ProcessLauncher,
    *,
    executable: str,
    port: int,
    env: dict[str, str],
    registry: Path | None,
) -> tuple[ProcessHandle, int]:
    """Start code-server (under the guardian unless ``options.use_guardian`` is off) with
    its output appended to the server log; return it and the log's size before it started."""
    log = options.layout.server_log
    argv = build_argv(options, port, session_socket=registry)
    argv[0] = executable
    if options.use_guardian and sys.executable:
        argv = guardian_argv(
            sys.executable,
            Path(_guardian.__file__),
            grace=options.grace_seconds,
            parent_pid=os.getpid(),
            argv=argv,
        )
    log_offset = regular_file_size(log)
    try:
        handle = launcher.launch(argv, env=env, cwd=options.workspace_folder, log_path=log)
    except OSError as error:
        raise ServerStartError(
            f"cannot start code-server ({executable}): {error}", port=port
        ) from error
    return handle, log_offset
