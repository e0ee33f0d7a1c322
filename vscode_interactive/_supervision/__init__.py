"""Supervision: one code-server from launch to the end of its process group.

* :mod:`._policy`: the pure state machine ``step(state, observation, limits)``; :class:`Outcome`;
* :mod:`._server`: :class:`ServerOptions`, validation, code-server's argv/env, the banner;
* :mod:`._seams`: the ports a supervisor takes and :class:`SupervisionResult`;
* :mod:`._supervisor`: :class:`Supervisor`, the thin observe/step/act loop, built on
  :mod:`._controls` (the state other threads share and the controls they use);
* :mod:`._channel`: the resume/status Unix socket in the state directory;
* :mod:`._landing`: the landing URL and the greeting of each new IDE window;
* :mod:`._guardian`: the standalone group leader that outlives no supervisor.
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._channel import request_resume, request_status
    from ._policy import Outcome
    from ._seams import SupervisionResult
    from ._server import ServerOptions
    from ._supervisor import Supervisor

__all__ = [
    "Outcome",
    "ServerOptions",
    "SupervisionResult",
    "Supervisor",
    "request_resume",
    "request_status",
]

__getattr__ = _lazy_getattr(
    __name__,
    {
        "request_resume": "._channel",
        "request_status": "._channel",
        "Outcome": "._policy",
        "SupervisionResult": "._seams",
        "ServerOptions": "._server",
        "Supervisor": "._supervisor",
    },
)
