"""SessionConfig: the options of one session, and the small shared names of the flow.

Only what defining ``SessionConfig`` and ``@vscode`` needs is imported here: a job imports
this module at start-up; everything a session does happens in :mod:`._run`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeAlias, TypeVar

from .._errors import ConfigError
from .._install._config import VscodeConfig
from .._supervision._defaults import MAX_IDLE_SECONDS

# Only what defining SessionConfig and @vscode needs is imported here: a job imports this
# module at start-up, and the installer, supervisor, workspace writer and reloader (with
# urllib, ssl, inspect, ...) are needed only once a session opens the IDE.
if TYPE_CHECKING:
    import logging
    from pathlib import Path

    from .._layout import StateLayout
    from .._supervision._defaults import AuthMode


P = ParamSpec("P")
R = TypeVar("R")

#: How the flow calls the user's function: ``call(fn, args, kwargs) -> value``.
Call: TypeAlias = "Callable[[Callable[..., Any], tuple[object, ...], Mapping[str, object]], Any]"


def _logger() -> logging.Logger:
    """The library's logger; ``logging`` is imported on first use, not by ``@vscode``."""
    import logging

    return logging.getLogger("vscode_interactive")


#: ``0`` turns every session into a plain call, ``1`` forces sessions on.
ENV_ENABLE = "VSCODE_INTERACTIVE_ENABLE"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SessionConfig:
    """Options of one debugging session. Every field has a working default.

    ``port=0`` picks a free port; ``host`` other than loopback needs ``auth="password"``
    (or ``allow_unauthenticated=True``). ``workspace_dir`` is the folder the IDE opens
    (default: the current directory); ``cache_dir`` holds downloads (default:
    ``$VSCODE_INTERACTIVE_CACHE`` or the user cache dir). ``coordination_store`` names
    the store the ranks of a multi-process job agree through (``tcp://HOST:PORT`` or
    ``file:///PATH``; default: ``$VSCODE_INTERACTIVE_STORE``, else the job's own
    ``torch.distributed`` store). ``save_to`` (an fsspec URL; default:
    ``$VSCODE_INTERACTIVE_SAVE_TO``; ``""``: nowhere) receives one folder per session with
    the patch of the edits, the front page, the traceback and, with ``save_inputs``, the
    captured inputs. ``prefetch`` installs code-server in the background while a
    ``run_task_first`` function runs (None: on with ``run_task_first``;
    ``$VSCODE_INTERACTIVE_PREFETCH`` overrides it).
    """

    max_idle_seconds: float = MAX_IDLE_SECONDS
    port: int = 8080
    host: str = "127.0.0.1"
    auth: AuthMode = "password"
    enable: bool = True
    run_task_first: bool = False
    pre_execute: Callable[[], object] | None = None
    post_execute: Callable[[], object] | None = None
    vscode: VscodeConfig = field(default_factory=VscodeConfig)
    workspace_dir: Path | str | None = None
    cache_dir: Path | str | None = None
    allow_unauthenticated: bool = False
    start_timeout: float = 120.0
    check_interval: float = 5.0
    max_lifetime_seconds: float | None = None
    grace_seconds: float = 5.0
    coordination_store: str | None = None
    save_to: str | None = None
    save_inputs: bool = False
    prefetch: bool | None = None

    def layout(self) -> StateLayout:
        """Where this session's files go."""
        from pathlib import Path

        from .._layout import StateLayout

        return StateLayout.for_workspace(
            Path.cwd() if self.workspace_dir is None else self.workspace_dir
        )


def _parse_enable(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(
        f"{ENV_ENABLE}={value!r} is not a switch; use 1 (open the IDE) or 0 (just run the "
        "function), or unset it"
    )
