"""``vscode-interactive abort``: end the waiting job with its failure instead of resuming."""

from __future__ import annotations

import argparse
import sys

from .._supervision._channel import request_abort
from ._session_dir import add_location_options, state_dir_from

__all__ = ["register"]

_EXIT_DECLINED = 1
_EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "abort",
        help="stop the IDE and end the waiting job with its failure",
        description=(
            "Ask the session that waits in the IDE to stop code-server and end the job with "
            "its latest failure (chained to the first one), without running the task again. "
            "Unsaved editor changes are lost."
        ),
    )
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    add_location_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    state_dir = state_dir_from(args)
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                "vscode-interactive abort: not aborting: confirmation needed but stdin is not "
                "a terminal; pass --yes to abort without asking",
                file=sys.stderr,
            )
            return _EXIT_USAGE
        answer = input(
            f"End the job waiting in {state_dir} with its failure? The IDE stops and unsaved "
            "changes are lost. [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("vscode-interactive abort: cancelled; the IDE keeps running", file=sys.stderr)
            return _EXIT_DECLINED
    print(request_abort(state_dir))
    return 0
