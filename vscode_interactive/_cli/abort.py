"""``vscode-interactive abort``: end the waiting job with its failure instead of resuming."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._ending import Ending, register_ending

__all__ = ["register"]


def _request(state_dir: Path) -> str:
    from .._supervision._channel import request_abort

    return request_abort(state_dir)


ABORT = Ending(
    command="abort",
    verb="aborting",
    help="stop the IDE and end the waiting job with its failure",
    description=(
        "Ask the session that waits in the IDE to stop code-server and end the job with "
        "its latest failure (chained to the first one), without running the task again. "
        "Unsaved editor changes are lost."
    ),
    question=(
        "End the job waiting in {state_dir} with its failure? The IDE stops and unsaved "
        "changes are lost."
    ),
    request=_request,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_ending(subparsers, ABORT)
