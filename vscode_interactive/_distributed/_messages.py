"""What a distributed session says: banner line, parking log, front-page section, errors.

All pure: reports and outcomes in, text (or the exception to raise) out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .._errors import IdleTimeoutError
from ._protocol import Election, SessionEnd
from ._report import RankReport

__all__ = [
    "ended_error",
    "host_summary",
    "parked_error",
    "parked_message",
    "ranks_section",
]

_KINDS = {
    "idle_timeout": "was stopped after nobody used it",
    "server_exited": "ended because code-server exited on its own",
    "interrupted": "was interrupted (the host rank got a signal)",
    "aborted": "was aborted from the IDE",
    "failed": "ended because the host rank failed",
}


def host_summary(election: Election, world_size: int, failure_summary: str | None) -> str:
    """The banner's "why you are here": the failure, then which rank and host this is."""
    me = election.me
    where = f"rank {me.rank} of {world_size} on {me.host} hosts the IDE for the whole job"
    return f"{failure_summary} ({where})" if failure_summary else where[0].upper() + where[1:]


def parked_message(election: Election, url: str | None = None) -> str:
    """The log line of a rank that parks (or, with ``url``, learns where the IDE is)."""
    me, host = election.me, election.host
    if url:
        return (
            f"rank {me.rank} is parked; the job's IDE (rank {host.rank} on {host.host}) is at {url}"
        )
    why = f" after {me.exception}" if me.exception else ""
    return (
        f"rank {me.rank} on {me.host} parked{why}: rank {host.rank} on {host.host} holds the "
        "debugging session for the whole job (its banner and `vscode-interactive status` show "
        "the URL); waiting for it to resume or end"
    )


def parked_error(election: Election, end: SessionEnd) -> IdleTimeoutError:
    """What a parked rank raises when the round ends without a resume that includes it
    (chain it to the rank's own failure)."""
    host = election.host
    session = f"the IDE of rank {host.rank} on {host.host}"
    if end.url:
        session += f" ({end.url})"
    if end.resumed:
        what = "resumed without this rank (it had not parked in time)"
    else:
        what = _KINDS.get(end.kind, f"ended ({end.kind})")
    detail = f": {end.detail}" if end.detail else ""
    return IdleTimeoutError(
        f"rank {election.me.rank} was parked while {session} held the job's debugging "
        f"session; that session {what}{detail}; this rank stops too"
        f"{' (its own failure follows)' if election.me.exception else ''}"
    )


def ended_error(rank: int, end: SessionEnd) -> IdleTimeoutError:
    """What a rank raises when it stops after the job's session already ended."""
    what = _KINDS.get(end.kind, f"ended ({end.kind})")
    detail = f": {end.detail}" if end.detail else ""
    return IdleTimeoutError(
        f"rank {rank} stopped after the job's debugging session {what}{detail}; "
        "this rank stops too (its own failure follows)"
    )


def _cell(text: str | None) -> str:
    if not text:
        return "-"
    escaped = text.replace("|", "\\|")
    return "`" + re.sub("`", "'", escaped) + "`"


def ranks_section(reports: Sequence[RankReport], *, host_rank: int, world_size: int) -> str:
    """The front page's "Ranks" section: one row per rank that stopped."""
    lines = [
        "## Ranks",
        "",
        f"{len(reports)} of {world_size} ranks stopped; rank {host_rank} hosts this IDE and "
        "the others are parked until you resume (they all call the function again, together) "
        "or the session ends (they all stop).",
        "",
        "| rank | host | exception | innermost frame |",
        "|---|---|---|---|",
    ]
    for report in sorted(reports, key=lambda r: r.rank):
        rank = f"**{report.rank}** (this IDE)" if report.rank == host_rank else str(report.rank)
        exception = _cell(report.exception) if report.exception else "stopped before the call"
        lines.append(f"| {rank} | {_cell(report.host)} | {exception} | {_cell(report.frame)} |")
    return "\n".join(lines) + "\n"
