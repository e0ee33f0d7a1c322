"""``vscode-interactive resume``: ask the waiting session to stop the IDE and resume the job."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._ending import Ending, register_ending

__all__ = ["register"]


def _request(state_dir: Path) -> str:
    from .._supervision._channel import request_resume

    return request_resume(state_dir)


RESUME = Ending(
    command="resume",
    verb="resuming",
    help="stop the IDE and resume the waiting job",
    description=(
        "Ask the session that waits in the IDE to stop code-server and run the task again "
        "with its original inputs. Unsaved editor changes are lost."
    ),
    question=("Resume the job waiting in {state_dir}? The IDE stops and unsaved changes are lost."),
    request=_request,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_ending(subparsers, RESUME)
