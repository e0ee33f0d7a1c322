"""``vscode-interactive status``'s idle lines: which source, the last activity, time left."""

from __future__ import annotations

from vscode_interactive._cli.status import idle_lines


def test_extension_source_shows_last_activity_and_time_left() -> None:
    """With the extension in use: the source named, the last activity with its kind, time left."""
    lines = idle_lines(
        {
            "idle_source": "extension",
            "last_activity": 1_700_000_000.0,
            "last_activity_kind": "edit",
            "idle_seconds": 75.0,
            "seconds_left": 3525.0,
            "max_idle_seconds": 3600.0,
        }
    )
    assert lines == [
        "idle source:    extension: what the IDE extension reports (typing, cursor, editors, "
        "terminals, debugger)",
        "last activity:  2023-11-14 22:13:20 UTC (75.0 s ago, edit)",
        "time left:      59 min before the idle stop (after 60 min without activity)",
    ]


def test_heartbeat_source_says_an_open_tab_counts() -> None:
    """Before any window with the extension connected, the fallback is named as such."""
    (source, *_rest) = idle_lines({"idle_source": "heartbeat", "seconds_left": 10.0})
    assert "no IDE window with the extension connected yet; an open tab counts" in source
