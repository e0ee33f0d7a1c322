"""What the end of a supervision means to the code that waited for it.

One mapping, used by :class:`~vscode_interactive.Session` and by the reference's
``exit_handler``:

==================  ==============================================================
``RESUMED``         nothing to raise: the caller runs the task (again)
``IDLE_TIMEOUT``    :class:`IdleTimeoutError`
``SERVER_EXITED``   :class:`ServerExitedError` (even for exit code 0: not a resume)
``INTERRUPTED``     ``KeyboardInterrupt`` for SIGINT, else ``SystemExit(128 + n)``
``ABORTED``         ``failure`` itself; :class:`ResumeError` when there is none
==================  ==============================================================

The errors are chained to ``failure`` (the task's original exception, when the IDE was
opened to debug one), so a job that gives up fails with its real cause.
"""

from __future__ import annotations

import signal
from typing import NoReturn

from .._errors import IdleTimeoutError, ResumeError, ServerExitedError
from ._policy import Outcome
from ._seams import SupervisionResult

__all__ = ["chain_to_failure", "raise_for_outcome"]


def _where(result: SupervisionResult) -> str:
    return result.url or f"pid {result.server_pid}"


def raise_for_outcome(
    result: SupervisionResult,
    *,
    max_idle_seconds: float,
    failure: BaseException | None = None,
) -> NoReturn:
    """Raise what ``result``'s outcome means (see the module docstring); never for RESUMED,
    which is a programming error here (``ValueError``)."""
    outcome = result.outcome
    if outcome is Outcome.IDLE_TIMEOUT:
        raise IdleTimeoutError(
            f"the IDE at {_where(result)} was idle for {result.idle_seconds:.0f} s "
            f"(limit {max_idle_seconds:g} s) and was stopped"
            f"{f'; {result.detail}' if result.detail else ''}"
            f"{'; the original failure follows' if failure else ''}",
            idle_seconds=result.idle_seconds,
        ) from failure
    if outcome is Outcome.SERVER_EXITED:
        raise ServerExitedError(
            f"code-server at {_where(result)} exited with code {result.exit_code} on its own "
            "before anyone resumed, so the task was not run again; its log ends with:\n"
            f"{result.log_tail or '(empty)'}",
            port=result.port or None,
            exit_code=result.exit_code,
            log_tail=result.log_tail,
        ) from failure
    if outcome is Outcome.INTERRUPTED:
        signum = result.signal if result.signal is not None else signal.SIGTERM
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        # A shell reports a job killed by signal n as 128 + n; so do we.
        raise SystemExit(128 + signum)
    if outcome is Outcome.ABORTED:
        if failure is not None:
            raise failure
        raise ResumeError(
            f"the session at {_where(result)} was aborted before the task failed, so the task "
            "was not run"
        )
    raise ValueError(f"{outcome} is not a failure: the caller resumes instead")


def chain_to_failure(error: BaseException, failure: BaseException) -> None:
    """Make ``failure`` (the task's original exception) part of ``error``'s chain, so a
    job that gives up for another reason (a busy workspace, a taken port, an install or
    start error) still shows its real cause: ``error.__cause__`` when it has none, else
    the implicit context at the root of its chain. Nothing when it is already there."""
    current, seen = error, set()
    while id(current) not in seen:
        if current is failure:
            return
        seen.add(id(current))
        following = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
        if following is None:
            break
        current = following
    if current is error:
        error.__cause__ = failure
    else:
        current.__context__ = failure
