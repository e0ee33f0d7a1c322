"""Shared ``--state-dir`` / ``--workspace`` options of the session subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._layout import StateLayout

__all__ = ["add_location_options", "state_dir_from"]


def add_location_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="the session's state directory (the .vscode-interactive folder)",
    )
    where.add_argument(
        "--workspace",
        type=Path,
        metavar="DIR",
        help="the workspace the session opened (default: the current directory)",
    )


def state_dir_from(args: argparse.Namespace) -> Path:
    if args.state_dir is not None:
        return Path(args.state_dir)
    return StateLayout.for_workspace(args.workspace or Path.cwd()).root
