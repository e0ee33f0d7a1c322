"""``vscode-interactive status``: show the live session (URL, pids, idle time, state dir)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import datetime, timezone

from .._errors import ResumeError
from .._layout import STATE_DIR_NAME
from .._supervision._channel import request_status
from .._workspace._front_page import format_duration
from ._session_dir import add_location_options, state_dir_from

__all__ = ["idle_lines", "register"]

_SESSION_FILE = "session.json"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show the live debugging session",
        description="Show the live session of a workspace: URL, pids, idle time, state dir.",
    )
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    add_location_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    state_dir = state_dir_from(args)
    try:
        status = request_status(state_dir, timeout=3.0)
    except ResumeError as error:
        message = f"vscode-interactive status: no live session in {state_dir}"
        stale = state_dir / _SESSION_FILE
        if stale.exists():
            message += f" ({stale} is left from a session whose supervisor is gone)"
        elif state_dir.name != STATE_DIR_NAME and not state_dir.exists():
            message += " (that directory does not exist)"
        print(f"{message}\n  {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(status, indent=2, sort_keys=True))
        return 0
    password = status.get("password_file") or "none (auth disabled)"
    print(
        "\n".join(
            [
                f"url:            {status.get('url') or '(not ready yet)'}",
                f"state:          {status.get('state')}",
                f"supervisor pid: {status.get('supervisor_pid')}",
                f"server pid:     {status.get('server_pid')}",
                *idle_lines(status),
                f"state dir:      {status.get('state_dir')}",
                f"password file:  {password}",
                f"log:            {status.get('log_file')}",
            ]
        )
    )
    return 0


_SOURCES = {
    "extension": "what the IDE extension reports (typing, cursor, editors, terminals, debugger)",
    "heartbeat": "code-server's heartbeat (no IDE window with the extension connected yet; "
    "an open tab counts)",
}


def idle_lines(status: Mapping[str, object]) -> list[str]:
    """The idle part of ``status``: source, last activity, time left before the idle stop."""
    source = str(status.get("idle_source") or "heartbeat")
    lines = [f"idle source:    {source}: {_SOURCES.get(source, source)}"]
    last = status.get("last_activity")
    if isinstance(last, (int, float)):
        when = datetime.fromtimestamp(last, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        kind = status.get("last_activity_kind")
        idle = status.get("idle_seconds", 0)
        lines.append(f"last activity:  {when} ({idle} s ago{f', {kind}' if kind else ''})")
    left, limit = status.get("seconds_left"), status.get("max_idle_seconds")
    if isinstance(left, (int, float)) and isinstance(limit, (int, float)):
        lines.append(
            f"time left:      {format_duration(left)} before the idle stop "
            f"(after {format_duration(limit)} without activity)"
        )
    return lines
