"""The session, composition only: ``Session(config).run(fn, *args, **kwargs)`` and its async twin
``await Session(config).arun(fn, *args, **kwargs)``.

The order is the whole story of a session::

    enabled? --no--> fn(*args, **kwargs)
       | yes
    run_task_first? --succeeds--> its value (a background install, if any, is cancelled)
       | fails (or not asked)
    options checked (ConfigError before the task runs)
    pre_execute -> (a rank of a multi-process job? -> _distributed._job: one IDE for all)
       -> claim the workspace and port -> install code-server
       -> start code-server on the landing (planned, nothing written yet); while it boots:
          post-mortem listener on the failure (if any) -> note the workspace (_edits,
          once per run) -> write workspace + captured inputs; the banner waits for both
       -> supervise --RESUMED------> reload fn from its edited source -> call -> value
                   |                                                      | raises
                   |                      the IDE opens again on the new failure (a round)
                   --ABORTED------> the latest failure, chained to the first
                   --IDLE_TIMEOUT-> IdleTimeoutError (from the latest failure)
                   --SERVER_EXITED> ServerExitedError (from the latest failure)
                   --INTERRUPTED--> KeyboardInterrupt (SIGINT) / SystemExit(128+n)
    pre_execute/post_execute run once around each IDE phase, whatever its outcome; the
    post-mortem listener is closed and the workspace released before the task runs again.
    An error of an IDE phase is chained to the failure that opened it. Every supervision,
    however it ends, is followed by the patch of the edits since the first phase
    (.vscode-interactive/changes.patch, saved to ``save_to`` too).

Each step is a call into its own module, reached through :class:`SessionSteps` so the
composition can be unit-tested on fakes; :class:`RealSteps` wires the real modules.

``run`` and ``arun`` share this one flow (``Session._run_enabled``). It calls the user's
function only through a *call* strategy: ``run`` calls it here; ``arun``
(:mod:`._async`) runs the flow in a worker thread and has each
call awaited in the caller's event loop, so the IDE phase never blocks the loop.
With ``run_task_first`` the install may already run while the function does
(:mod:`vscode_interactive._install._prefetch`); the install step waits for it.

Modules: :mod:`._config` (``SessionConfig``, light enough for ``@vscode`` to import at
decoration), :mod:`._steps` (``SessionSteps`` and ``RealSteps``), :mod:`._run`
(``Session``: the flow above), :mod:`._ide` (``IdePhases``: one IDE phase, claim to
resumed function), :mod:`._async` (``arun``'s worker thread and loop bridge).
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._async import THREAD_NAME, run_async
    from ._config import ENV_ENABLE, Call, SessionConfig
    from ._ide import summarize_failure
    from ._run import Session
    from ._steps import RealSteps, SessionSteps

__all__ = [
    "ENV_ENABLE",
    "THREAD_NAME",
    "Call",
    "RealSteps",
    "Session",
    "SessionConfig",
    "SessionSteps",
    "run_async",
    "summarize_failure",
]

__getattr__ = _lazy_getattr(
    __name__,
    {
        "Call": "._config",
        "ENV_ENABLE": "._config",
        "SessionConfig": "._config",
        "RealSteps": "._steps",
        "SessionSteps": "._steps",
        "Session": "._run",
        "summarize_failure": "._ide",
        "THREAD_NAME": "._async",
        "run_async": "._async",
    },
)
