"""What ``resume`` and ``abort`` share: ask before ending the IDE phase, then send the request."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._session_dir import add_location_options, state_dir_from

__all__ = ["Ending", "register_ending"]

_EXIT_DECLINED = 1
_EXIT_USAGE = 2


@dataclass(frozen=True)
class Ending:
    """One way to end the IDE phase: its subcommand, its words, and its channel request."""

    command: str  # "resume"
    verb: str  # "resuming" (in "not resuming: ...")
    help: str
    description: str
    question: str  # with {state_dir}
    request: Callable[[Path], str]

    def run(self, args: argparse.Namespace) -> int:
        state_dir = state_dir_from(args)
        if not args.yes:
            if not sys.stdin.isatty():
                print(
                    f"vscode-interactive {self.command}: not {self.verb}: confirmation needed but "
                    f"stdin is not a terminal; pass --yes to {self.command} without asking",
                    file=sys.stderr,
                )
                return _EXIT_USAGE
            answer = input(self.question.format(state_dir=state_dir) + " [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print(
                    f"vscode-interactive {self.command}: cancelled; the IDE keeps running",
                    file=sys.stderr,
                )
                return _EXIT_DECLINED
        print(self.request(state_dir))
        return 0


def register_ending(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], ending: Ending
) -> None:
    parser = subparsers.add_parser(ending.command, help=ending.help, description=ending.description)
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    add_location_options(parser)
    parser.set_defaults(handler=ending.run)
