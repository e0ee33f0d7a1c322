"""Names kept from the reference implementation (flytekit's ``vscode_lib``), on our footing.

* :data:`MAX_IDLE_SECONDS` (10 hours) and :data:`EXIT_CODE_SUCCESS` (0) keep their values.
* :func:`execute_command` runs a command *without a shell* (a string is split with
  :func:`shlex.split`), raises :class:`InstallError` -- a ``RuntimeError``, like the
  reference -- carrying stderr when it fails, and returns stdout.
* :func:`exit_handler` keeps its parameters. The reference polled the heartbeat file every
  60 s and took "the child exited" to mean "the user resumed"; ours hands the child to a
  :class:`Supervisor` (heartbeat via ``/healthz`` when ``url`` is given, else the file;
  resume only through the explicit channel). ``RESUMED`` returns
  ``task_function(*args, **kwargs)`` (None without one); every other outcome raises what
  :mod:`vscode_interactive._supervision._outcomes` maps it to, as a session does
  (:class:`IdleTimeoutError`, :class:`ServerExitedError` even for exit code 0,
  ``KeyboardInterrupt`` / ``SystemExit(128+n)``).

  ``post_execute`` runs exactly once, after the child's process group is gone, whatever
  the outcome (also when supervision itself fails). The task function is called as given;
  re-importing edited source is the session's job.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .._errors import ConfigError, InstallError
from .._install._locations import code_server_heartbeat_path
from .._layout import StateLayout
from .._ports import CommandRunner, ProcessHandle
from .._supervision._outcomes import raise_for_outcome
from .._supervision._policy import Outcome
from .._supervision._server import EXIT_CODE_SUCCESS, MAX_IDLE_SECONDS, ServerOptions
from .._supervision._supervisor import Supervisor, SupervisorSeams
from .._system._processes import SubprocessRunner

__all__ = ["EXIT_CODE_SUCCESS", "MAX_IDLE_SECONDS", "execute_command", "exit_handler"]


def execute_command(cmd: str | Sequence[str], *, _runner: CommandRunner | None = None) -> str:
    """Run ``cmd`` (an argv list, or a string split like a POSIX shell would, but never run
    by one) and return its stdout; raise :class:`InstallError` with stderr on failure."""
    argv = shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]
    if not argv:
        raise ConfigError("execute_command: the command is empty")
    runner = _runner if _runner is not None else SubprocessRunner()
    shown = shlex.join(argv)
    try:
        result = runner.run(argv)
    except OSError as error:
        raise InstallError(f"cannot run {shown}: {error}") from error
    if result.returncode != EXIT_CODE_SUCCESS:
        raise InstallError(
            f"command {shown} failed with exit code {result.returncode}: "
            f"{result.stderr.strip() or result.stdout.strip() or '(no output)'}",
            output=result.output,
        )
    return result.stdout


def _default_heartbeat(seams: SupervisorSeams) -> Path:
    return code_server_heartbeat_path(seams.environment, Path.cwd())


def exit_handler(
    child_process: ProcessHandle,
    task_function: Callable[..., object] | None = None,
    args: Sequence[object] | None = None,
    kwargs: Mapping[str, object] | None = None,
    max_idle_seconds: float = MAX_IDLE_SECONDS,
    post_execute: Callable[[], object] | None = None,
    *,
    layout: StateLayout | None = None,
    url: str | None = None,
    heartbeat_file: Path | None = None,
    check_interval: float = 5.0,
    grace_seconds: float = 5.0,
    _seams: SupervisorSeams | None = None,
) -> object:
    """Supervise an already-started code-server (``child_process`` leads its own process
    group) until an outcome, then act on it as the module docstring's table says.

    ``layout`` (default: the current directory's) names the resume socket; ``heartbeat_file``
    defaults to ``$XDG_DATA_HOME/code-server/heartbeat`` (``~/.local/share/...``).
    """
    seams = _seams if _seams is not None else SupervisorSeams()
    layout = layout if layout is not None else StateLayout.for_workspace(Path.cwd())
    heartbeat = heartbeat_file if heartbeat_file is not None else _default_heartbeat(seams)
    options = ServerOptions(
        executable=Path("code-server"),  # unused: the server is already running
        layout=layout,
        user_data_dir=layout.root,
        extensions_dir=layout.root,
        max_idle_seconds=max_idle_seconds,
        check_interval=min(check_interval, max_idle_seconds),
        grace_seconds=grace_seconds,
        data_home=heartbeat.parent.parent,
    )
    try:
        result = Supervisor(options, _seams=seams).attach(child_process, url=url)
    finally:
        if post_execute is not None:
            post_execute()
    if result.outcome is not Outcome.RESUMED:
        raise_for_outcome(result, max_idle_seconds=max_idle_seconds)
    if task_function is None:
        return None
    return task_function(*(args or ()), **dict(kwargs or {}))
