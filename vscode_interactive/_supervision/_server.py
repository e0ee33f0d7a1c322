"""What to launch and what to tell the user: pure functions over :class:`ServerOptions`.

Nothing here starts a process or touches the network; the supervisor feeds these values
to its ports. Facts about code-server this module relies on:

* the password is read from ``$PASSWORD``, ``$HASHED_PASSWORD`` or the ``--config`` file,
  never a flag. We use the config file (0600, in the private state dir, read once at
  start): a variable would stay readable in ``/proc/<pid>/environ`` of the guardian and
  of code-server for their whole life. Both variables are dropped from the child's
  environment, and the user's own ``~/.config/code-server/config.yaml`` is not read;
* ``$PORT`` overrides the port of ``--bind-addr``; ``$VSCODE_IPC_HOOK_CLI`` (set inside a
  VS Code terminal) makes code-server open the folder in *that* editor and exit instead of
  serving; both are removed from the child environment;
* only the **last** positional argument counts: a folder, or a ``.code-workspace`` file
  (then ``GET /`` redirects to ``?workspace=<file>``), to open. Files given before it are
  ignored by the web client, so it always comes last and files cannot be opened from the
  command line (see
  :mod:`vscode_interactive._supervision._landing` for how they are opened instead);
* ``--session-socket`` is the registry where each IDE window registers its remote-CLI
  socket; a Unix socket path holds at most 107 bytes;
* the heartbeat file is ``$XDG_DATA_HOME/code-server/heartbeat``; the supervisor points
  ``XDG_DATA_HOME`` at a directory of the session so the file is known and not shared.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .._errors import ConfigError, ServerStartError
from .._install._locations import code_server_heartbeat_path
from .._layout import StateLayout
from ._activity import ENV_CHANNEL
from ._defaults import EXIT_CODE_SUCCESS, MAX_IDLE_SECONDS, AuthMode
from ._policy import StartFailure

if TYPE_CHECKING:
    from .._workspace import SourceLocation

__all__ = [
    "EXIT_CODE_SUCCESS",
    "MAX_IDLE_SECONDS",
    "AuthMode",
    "ServerOptions",
    "ServerSettings",
    "base_url",
    "build_argv",
    "build_env",
    "guardian_argv",
    "is_loopback",
    "looks_like_port_taken",
    "render_banner",
    "start_error",
    "validate_options",
]

# Variables that would change what the child does behind our back (see module docstring).
_DROPPED_ENV = (
    "PASSWORD",
    "HASHED_PASSWORD",
    "PORT",
    "VSCODE_IPC_HOOK_CLI",
    "CODE_SERVER_PARENT_PID",
)

_FLAGS = (
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    # Without it code-server reopens the folder of an earlier session sharing the
    # user-data dir instead of the folder we pass.
    "--ignore-last-opened",
)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Everything the supervisor needs to run one code-server.

    ``port=0`` picks a free port. ``folder`` defaults to the layout's workspace; code-server
    runs there. ``workspace_file`` (a ``.code-workspace`` file) is what it opens instead of
    the folder when given. ``edits_note`` tells, in the banner, where edits are saved.
    ``data_home`` (the child's ``XDG_DATA_HOME``) defaults to ``<state dir>/xdg-data``.
    ``extra_args`` are flags placed before the folder; ``extra_env`` is added to the
    child's environment (it cannot override ``PASSWORD`` or ``XDG_DATA_HOME``).
    ``open_files`` is what the IDE shows on start, front first (the front page, then the
    line that raised): the landing URL opens the last one, and every window that connects
    is asked to open them all (see :mod:`vscode_interactive._supervision._landing`).
    ``post_mortem`` says the job holds the failure for a debugger (the banner's first step).
    """

    executable: Path
    layout: StateLayout
    user_data_dir: Path
    extensions_dir: Path
    folder: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    auth: AuthMode = "password"
    allow_unauthenticated: bool = False
    max_idle_seconds: float = MAX_IDLE_SECONDS
    check_interval: float = 5.0
    start_timeout: float = 60.0
    max_lifetime_seconds: float | None = None
    grace_seconds: float = 5.0
    extra_args: tuple[str, ...] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)
    data_home: Path | None = None
    port_retries: int = 3
    use_guardian: bool = True
    open_files: tuple[SourceLocation, ...] = ()
    workspace_file: Path | None = None
    edits_note: str | None = None
    post_mortem: bool = False

    @property
    def workspace_folder(self) -> Path:
        return self.folder if self.folder is not None else self.layout.workspace

    @property
    def opened(self) -> Path:
        """What code-server opens: the workspace file if there is one, else the folder."""
        return self.workspace_file if self.workspace_file is not None else self.workspace_folder

    @property
    def xdg_data_home(self) -> Path:
        return self.data_home if self.data_home is not None else self.layout.root / "xdg-data"

    @property
    def heartbeat_file(self) -> Path:
        # code-server runs in workspace_folder with XDG_DATA_HOME=xdg_data_home
        env = {"XDG_DATA_HOME": str(self.xdg_data_home)}
        return code_server_heartbeat_path(env, self.workspace_folder)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    bare = host.strip("[]")
    if bare.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


class ServerSettings(Protocol):
    """What :func:`validate_options` checks: fields of :class:`ServerOptions`, also of
    ``SessionConfig`` (so a session checks them before any work)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def auth(self) -> str: ...
    @property
    def allow_unauthenticated(self) -> bool: ...
    @property
    def max_idle_seconds(self) -> float: ...
    @property
    def check_interval(self) -> float: ...
    @property
    def start_timeout(self) -> float: ...
    @property
    def grace_seconds(self) -> float: ...
    @property
    def max_lifetime_seconds(self) -> float | None: ...


def validate_options(options: ServerSettings) -> list[str]:
    """Raise :class:`ConfigError` for unusable options; return warnings to log."""
    problems = []
    if not 0 <= options.port <= 65535:
        problems.append(f"port must be 0 (pick a free one) or 1-65535, got {options.port}")
    if options.auth not in ("password", "none"):
        problems.append(f"auth must be 'password' or 'none', got {options.auth!r}")
    for name in ("max_idle_seconds", "check_interval", "start_timeout"):
        if not getattr(options, name) > 0:
            problems.append(f"{name} must be positive, got {getattr(options, name)}")
    if options.grace_seconds < 0:
        problems.append(f"grace_seconds must be >= 0, got {options.grace_seconds}")
    lifetime = options.max_lifetime_seconds
    if lifetime is not None and not lifetime > 0:
        problems.append(f"max_lifetime_seconds must be positive or None, got {lifetime}")
    if not options.host:
        problems.append("host must not be empty (use 127.0.0.1 to stay on this machine)")
    if problems:
        raise ConfigError("invalid code-server options: " + "; ".join(problems))
    warnings = []
    if options.auth == "none" and not is_loopback(options.host):
        if not options.allow_unauthenticated:
            raise ConfigError(
                f"refusing to serve code-server on {options.host} without authentication: "
                "anyone who can reach that address could run commands as this user. Use "
                "auth='password', bind 127.0.0.1 (and kubectl port-forward), or pass "
                "allow_unauthenticated=True if the network is trusted."
            )
        warnings.append(
            f"code-server is served WITHOUT authentication on {options.host}: anyone who can "
            "reach it can run commands as this user (allow_unauthenticated=True)"
        )
    return warnings


def _bind_host(host: str) -> str:
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def base_url(host: str, port: int) -> str:
    """The URL to open; a wildcard bind address is shown as the loopback one."""
    wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - recognising, not binding
    shown = wildcard.get(host.strip("[]"), host)
    return f"http://{_bind_host(shown)}:{port}"


def build_argv(
    options: ServerOptions, port: int, *, session_socket: Path | None = None
) -> list[str]:
    """The code-server command line; what it opens (workspace file or folder) comes last.

    ``session_socket`` is where code-server's registry of IDE windows listens. With
    password auth, ``--config`` names the file holding the password (see the module
    docstring)."""
    config = ("--config", str(options.layout.server_config)) if options.auth == "password" else ()
    return [
        str(options.executable),
        "--bind-addr",
        f"{_bind_host(options.host)}:{port}",
        "--auth",
        options.auth,
        *config,
        *_FLAGS,
        "--user-data-dir",
        str(options.user_data_dir),
        "--extensions-dir",
        str(options.extensions_dir),
        *(("--session-socket", str(session_socket)) if session_socket is not None else ()),
        *options.extra_args,
        str(options.opened),
    ]


def build_env(
    base: Mapping[str, str],
    options: ServerOptions,
    *,
    channel: str | None = None,
) -> dict[str, str]:
    """The child's environment: ``base`` minus variables that would hijack code-server (a
    password among them: it goes through the config file), plus ``extra_env``,
    ``XDG_DATA_HOME`` and ``channel`` as ``VSCODE_INTERACTIVE_CHANNEL``: the extension host
    inherits it and the library's extension reports activity there."""
    env = {key: value for key, value in base.items() if key not in _DROPPED_ENV}
    env.update(options.extra_env)
    if channel is not None:
        env[ENV_CHANNEL] = channel
    env["XDG_DATA_HOME"] = str(options.xdg_data_home)
    for secret in ("PASSWORD", "HASHED_PASSWORD"):  # extra_env must not add one back
        env.pop(secret, None)
    return env


_PORT_TAKEN_MARKERS = ("eaddrinuse", "address already in use")


def looks_like_port_taken(log_text: str) -> bool:
    """True when a log says the listen address was taken (Node prints EADDRINUSE)."""
    lowered = log_text.lower()
    return any(marker in lowered for marker in _PORT_TAKEN_MARKERS)


def render_banner(
    *,
    url: str,
    port: int,
    password_file: Path | None,
    state_dir: Path,
    in_kubernetes: bool,
    pod_name: str | None = None,
    failure_summary: str | None = None,
    max_idle_seconds: float | None = None,
    lands_on: str | None = None,
    edits_note: str | None = None,
    post_mortem: bool = False,
) -> str:
    """The one message that tells the user how to reach the IDE and how to resume.

    ``lands_on`` (``path:line``) says what the URL opens; ``edits_note`` where the
    session's edits are saved; ``post_mortem`` adds the first step: F5 inspects the
    failure where it happened."""
    rule = "=" * 72
    lines = [rule, "vscode-interactive: VS Code is ready in your browser", ""]
    if failure_summary:
        lines += [f"  Why you are here: {failure_summary}", ""]
    lines.append(f"  Open:      {url}")
    if lands_on:
        lines.append(f"  Lands on:  {lands_on}")
    if post_mortem:
        lines.append("  First:     press F5: inspect the failure where it happened (live locals)")
    if password_file is not None:
        lines.append(f"  Password:  in {password_file} (readable only by this user)")
    else:
        lines.append("  Password:  none (auth disabled)")
    if in_kubernetes:
        pod = pod_name or "$HOSTNAME"
        lines += [
            "  From your machine, forward the port first:",
            f"             kubectl port-forward pod/{pod} {port}:{port}",
        ]
        if password_file is not None:
            lines.append(f"             kubectl exec {pod} -- cat {password_file}")
    lines += [
        "",
        "  Resume the job (stops the IDE, re-runs the function with its original inputs):",
        '             the "Resume Task" launch configuration in the IDE, or',
        f"             vscode-interactive resume --state-dir {state_dir}",
    ]
    if max_idle_seconds is not None:
        lines.append(f"  Stops by itself after {_duration(max_idle_seconds)} without activity.")
    if edits_note:
        lines.append(f"  Your edits: {edits_note}")
    lines.append(rule)
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


def guardian_argv(
    python: str, guardian_script: Path, *, grace: float, parent_pid: int, argv: list[str]
) -> list[str]:
    """Wrap ``argv`` in the guardian (see :mod:`._guardian`); ``-I`` keeps
    the user's ``PYTHON*`` variables out of it and ``-S`` the ``site`` module (it needs
    only the standard library, and every millisecond before it starts code-server counts)."""
    return [
        python,
        "-I",
        "-S",
        str(guardian_script),
        "--grace",
        f"{grace:g}",
        "--parent",
        str(parent_pid),
        "--",
        *argv,
    ]


def start_error(
    options: ServerOptions,
    failure: StartFailure,
    *,
    port: int,
    exit_code: int | None,
    log_tail: str,
) -> ServerStartError:
    """The error for a server that never became ready: what happened, the log, what to do."""
    url = base_url(options.host, port)
    if failure is StartFailure.PORT_TAKEN:
        what = f"could not listen on {options.host}:{port}: the port is in use"
        hint = "Choose another port, or port=0 to pick a free one"
    elif failure is StartFailure.TIMEOUT:
        what = f"did not answer {url}/healthz within {options.start_timeout:g} s"
        hint = "Raise start_timeout on a slow machine, or read the log"
    else:
        what = f"exited with code {exit_code} before answering {url}"
        hint = "Read the log for the cause"
    return ServerStartError(
        f"code-server {what}; it was stopped. {hint}. "
        f"Last lines of {options.layout.server_log}:\n{log_tail.strip() or '(empty)'}",
        port=port,
        exit_code=exit_code,
        log_tail=log_tail,
    )
