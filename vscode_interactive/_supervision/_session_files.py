"""The two files a supervisor keeps in the state directory for the user.

* ``session.json`` (:attr:`StateLayout.session_info`): what ``vscode-interactive status``
  shows, written when the server starts and refreshed at every check while it runs.
  Informational only: failing to write it is logged, never fatal.
* ``password`` (:attr:`StateLayout.password_file`): the generated code-server password,
  mode 0600 from its first byte;
* ``code-server.yaml`` (:attr:`StateLayout.server_config`): the same password as
  code-server's config file (``--config``), 0600: code-server reads it once at start, so
  no process (the guardian, code-server, their children) holds it in its environment.

:meth:`SessionFiles.remove` deletes, at the end of a run, exactly the files this run wrote;
:func:`session_status` is what ``session.json`` holds.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from .._layout import StateLayout
from .._system._files import remove_quietly, write_json_atomic, write_secret
from ._activity import ActivitySeen, IdleSource, countdown
from ._policy import Phase, State
from ._server import ServerOptions

__all__ = ["SessionFiles", "session_status"]

logger = logging.getLogger("vscode_interactive.supervisor")

_PASSWORD_BYTES = 24


class SessionFiles:
    """``session.json`` and the password file of one supervisor run."""

    def __init__(self, layout: StateLayout) -> None:
        self._layout = layout
        self._password_written = False
        self._info_written = False

    @property
    def password_file(self) -> Path | None:
        """The password file, once :meth:`create_password` wrote it."""
        return self._layout.password_file if self._password_written else None

    def create_password(self) -> str:
        """A new random password, written to the password file and code-server's config
        file (both 0600); returns it."""
        password = secrets.token_urlsafe(_PASSWORD_BYTES)  # [A-Za-z0-9_-]: plain YAML
        self._password_written = True
        write_secret(self._layout.password_file, password)
        write_secret(self._layout.server_config, f'password: "{password}"\n')
        return password

    def write_info(self, status: Mapping[str, object]) -> None:
        """Replace ``session.json`` with ``status`` (atomically); log, never raise, on error."""
        try:
            write_json_atomic(self._layout.session_info, status)
            self._info_written = True
        except OSError as error:
            logger.warning("could not write %s: %s", self._layout.session_info, error)

    def remove(self) -> None:
        """Delete the files this run wrote (others' files are left alone)."""
        if self._info_written:
            remove_quietly(self._layout.session_info)
        if self._password_written:
            remove_quietly(self._layout.password_file)
            remove_quietly(self._layout.server_config)


def session_status(
    options: ServerOptions,
    state: State | None,
    *,
    now: float,
    wall: float,
    url: str,
    landing_url: str,
    port: int,
    server_pid: int,
    password_file: Path | None,
    reported: ActivitySeen | None = None,
) -> dict[str, object]:
    """What ``session.json`` holds and ``vscode-interactive status`` shows (pure).

    ``reported`` is what the IDE extension reported so far: a report the loop has not
    stepped on yet already counts here (the policy takes it at its next step, unless the
    session is stopping), so an answer to a report shows the moved deadline."""
    layout = options.layout
    source = state.idle_source if state is not None else IdleSource.HEARTBEAT
    last = state.last_activity if state is not None else now
    live = state is None or state.phase in (Phase.STARTING, Phase.RUNNING)
    if live and reported is not None and reported.last_at is not None:
        source, last = IdleSource.EXTENSION, max(last, min(reported.last_at, now))
    return {
        "state": state.phase.value if state is not None else "starting",
        "url": landing_url,
        "server_url": url,
        "port": port,
        "supervisor_pid": os.getpid(),
        "server_pid": server_pid,
        "state_dir": str(layout.root),
        "password_file": str(password_file) if password_file is not None else None,
        "log_file": str(layout.server_log),
        **countdown(
            source=source,
            idle_seconds=max(0.0, now - last),
            max_idle_seconds=options.max_idle_seconds,
            wall_now=wall,
            last_kind=reported.last_kind if reported is not None else "",
        ),
    }
