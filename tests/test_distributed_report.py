"""Rank reports and the messages of a distributed session."""

from __future__ import annotations

import os

from vscode_interactive._distributed._messages import (
    host_summary,
    parked_error,
    parked_message,
    ranks_section,
)
from vscode_interactive._distributed._protocol import Election, SessionEnd
from vscode_interactive._distributed._report import RankReport, innermost_frame, report_for


def _fail() -> None:
    raise ValueError("bad learning rate\nsecond line")


def test_report_names_the_exception_and_the_innermost_user_frame() -> None:
    """A caught exception becomes 'Type: first line' and this file's raising line."""
    try:
        _fail()
    except ValueError as error:
        rep = report_for(3, host="node-a", pid=42, failure=error)
    assert (rep.rank, rep.host, rep.pid) == (3, "node-a", 42)
    assert rep.exception == "ValueError: bad learning rate"
    assert rep.frame is not None
    assert rep.frame.startswith(f"{os.path.abspath(__file__)}:")  # noqa: PTH100
    assert rep.frame.endswith(" in _fail")


def test_report_without_failure_says_nothing_failed() -> None:
    """A rank that stopped before the call reports no exception and no frame."""
    assert report_for(0, host="h", pid=1, failure=None) == RankReport(rank=0, host="h", pid=1)


def test_innermost_frame_skips_library_frames() -> None:
    """Frames in the library roots and site-packages are skipped; else the innermost."""
    frames = [
        ("/job/train.py", 10, "main"),
        ("/job/train.py", 20, "step"),
        ("/venv/lib/site-packages/torch/distributed/c10d.py", 99, "all_reduce"),
        ("/usr/lib/python3.11/threading.py", 5, "wait"),
    ]
    assert innermost_frame(frames, library_roots=["/usr/lib/python3.11"]) == (
        "/job/train.py:20 in step"
    )
    only_library = frames[2:]
    assert innermost_frame(only_library, library_roots=["/usr/lib/python3.11"]) == (
        "/usr/lib/python3.11/threading.py:5 in wait"
    )
    assert innermost_frame([], library_roots=[]) is None


def test_backend_source_locations_are_dropped() -> None:
    """gloo's '[file.cc:78] ' prefix is noise in a one-line summary."""
    error = RuntimeError("[/w/gloo/transport/tcp/unbound_buffer.cc:78] Timed out waiting 8000ms")
    rep = report_for(0, host="h", pid=1, failure=error)
    assert rep.exception == "RuntimeError: Timed out waiting 8000ms"


def test_long_messages_are_clipped() -> None:
    """A huge exception message does not flood the store or the front page."""
    rep = report_for(0, host="h", pid=1, failure=RuntimeError("x" * 5000))
    assert rep.exception is not None and len(rep.exception) == 300
    assert rep.exception.endswith("...")


HOST = RankReport(rank=1, host="node-b", pid=11, exception="ValueError: bad", frame="/t.py:3 in f")
PARKED = RankReport(rank=0, host="node-a", pid=10, exception="RuntimeError: Timed out")


def test_banner_summary_names_rank_and_host() -> None:
    """The host's banner says why, which rank and which host holds the IDE."""
    election = Election(round=0, me=HOST, host=HOST)
    assert host_summary(election, 2, "ValueError: bad") == (
        "ValueError: bad (rank 1 of 2 on node-b hosts the IDE for the whole job)"
    )
    assert host_summary(election, 2, None) == (
        "Rank 1 of 2 on node-b hosts the IDE for the whole job"
    )


def test_parked_message_names_the_host_and_url() -> None:
    """A parked rank logs its own failure, the host rank and where the IDE is."""
    election = Election(round=0, me=PARKED, host=HOST)
    text = parked_message(election)
    assert "rank 0 on node-a parked after RuntimeError: Timed out" in text
    assert "rank 1 on node-b holds the debugging session" in text
    assert "vscode-interactive status" in text
    assert parked_message(election, "http://127.0.0.1:8080/") == (
        "rank 0 is parked; the job's IDE (rank 1 on node-b) is at http://127.0.0.1:8080/"
    )


def test_parked_error_is_an_idle_timeout_naming_the_session() -> None:
    """A parked rank whose round ends without resuming it raises IdleTimeoutError."""
    election = Election(round=0, me=PARKED, host=HOST)
    error = parked_error(election, SessionEnd("idle_timeout", detail="idle 60 s", url="http://x/"))
    assert isinstance(error, TimeoutError)
    assert "rank 0 was parked while the IDE of rank 1 on node-b (http://x/)" in str(error)
    assert "was stopped after nobody used it: idle 60 s" in str(error)
    assert "its own failure follows" in str(error)
    left_out = parked_error(election, SessionEnd("resumed", participants=(1,)))
    assert "resumed without this rank" in str(left_out)
    assert "ended (weird)" in str(parked_error(election, SessionEnd("weird")))


def test_ranks_section_lists_every_rank() -> None:
    """The front page's table has rank, host, exception and frame of each stopped rank."""
    text = ranks_section(
        [HOST, PARKED, RankReport(rank=2, host="n|c", pid=1)], host_rank=1, world_size=4
    )
    lines = text.splitlines()
    assert lines[0] == "## Ranks"
    assert "3 of 4 ranks stopped; rank 1 hosts this IDE" in text
    assert "| 0 | `node-a` | `RuntimeError: Timed out` | - |" in lines
    assert "| **1** (this IDE) | `node-b` | `ValueError: bad` | `/t.py:3 in f` |" in lines
    assert "| 2 | `n\\|c` | stopped before the call | - |" in lines
