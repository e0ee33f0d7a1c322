"""Activity reports from the extension: parsing, recording, the countdown in status."""

from __future__ import annotations

import threading

import pytest

from vscode_interactive._supervision._activity import (
    ActivityLog,
    ActivityReport,
    ActivitySeen,
    IdleSource,
    countdown,
    parse_activity,
    warning_seconds,
)


def test_a_report_names_its_kind_and_window() -> None:
    """{"kind": "edit", "window": "12-ab"} is an edit from that window."""
    assert parse_activity({"command": "activity", "kind": "edit", "window": "12-ab"}) == (
        ActivityReport("edit", "12-ab")
    )


@pytest.mark.parametrize(
    "request_",
    [{}, {"kind": 3}, {"kind": "Edit"}, {"kind": "x" * 40}, {"kind": "edit", "window": "a b"}],
)
def test_malformed_reports_are_refused_with_a_reason(request_: dict[str, object]) -> None:
    """A missing or odd kind or window is an error message, not a report."""
    answer = parse_activity(request_)
    assert isinstance(answer, str) and answer.startswith("bad activity")


def test_new_kinds_are_accepted() -> None:
    """A newer extension may report kinds this version does not know."""
    assert parse_activity({"kind": "notebook-run", "window": "w"}) == ActivityReport(
        "notebook-run", "w"
    )


def test_the_log_keeps_the_latest_instant_and_counts_windows() -> None:
    """Reports arriving out of order never move the latest instant back."""
    log = ActivityLog()
    assert log.seen() == ActivitySeen()
    log.record(ActivityReport("window", "a"), 10.0)
    log.record(ActivityReport("edit", "b"), 12.0)
    log.record(ActivityReport("cursor", "a"), 11.0)
    assert log.seen() == ActivitySeen(last_at=12.0, reports=3, windows=2, last_kind="cursor")


def test_the_log_is_safe_across_threads() -> None:
    """Concurrent reports are all counted."""
    log = ActivityLog()

    def report(window: str) -> None:
        for i in range(200):
            log.record(ActivityReport("edit", window), float(i))

    threads = [threading.Thread(target=report, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.seen().reports == 800 and log.seen().windows == 4


@pytest.mark.parametrize(
    ("max_idle", "lead"), [(36000, 300.0), (3000, 300.0), (600, 60.0), (60, 6.0)]
)
def test_the_warning_comes_5_minutes_before_or_10_percent_of_a_short_limit(
    max_idle: float, lead: float
) -> None:
    """5 min before the stop, or 10 % of max_idle_seconds when that is shorter."""
    assert warning_seconds(max_idle) == pytest.approx(lead)


def test_the_countdown_says_source_last_activity_and_time_left() -> None:
    """Time left is the limit minus the idle time, never negative; instants are wall clock."""
    fields = countdown(
        source=IdleSource.EXTENSION,
        idle_seconds=20.0,
        max_idle_seconds=60.0,
        wall_now=1000.0,
        last_kind="edit",
    )
    assert fields == {
        "idle_source": "extension",
        "idle_seconds": 20.0,
        "max_idle_seconds": 60.0,
        "last_activity": 980.0,
        "last_activity_kind": "edit",
        "idle_deadline": 1040.0,
        "seconds_left": 40.0,
        "warn_seconds": 6.0,
    }
    late = countdown(
        source=IdleSource.HEARTBEAT, idle_seconds=70.0, max_idle_seconds=60.0, wall_now=1000.0
    )
    assert late["seconds_left"] == 0.0 and late["last_activity_kind"] is None
