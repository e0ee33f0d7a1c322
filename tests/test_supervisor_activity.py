"""The supervisor with the IDE extension's reports, on fakes: the idle clock, the replies,
the channel address handed to code-server, and the log saying which source is in use."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeProcess
from tests.test_supervisor import READY_AFTER, Rig
from vscode_interactive._supervision._channel import channel_env_value
from vscode_interactive._supervision._policy import Outcome
from vscode_interactive._supervision._supervisor import Supervisor


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    rig = Rig(tmp_path)
    # An open tab: code-server's heartbeat beats all the time.
    rig.heartbeat_ms = lambda now: int((rig.clock.now() - 1) * 1000)
    return rig


def report(sup: Supervisor, kind: str, window: str = "w1") -> dict[str, Any]:
    return sup.record_activity({"command": "activity", "kind": kind, "window": window})


def test_with_the_extension_an_open_tab_does_not_keep_the_ide_up(rig: Rig) -> None:
    """The heartbeat beats, but only reports count: idle stop max_idle after the last one."""
    sup = rig.supervisor(FakeProcess(rig.clock), max_lifetime_seconds=1000)
    rig.at(10, lambda: report(sup, "window"))
    rig.at(80, lambda: report(sup, "edit"))
    result = sup.run()
    assert result.outcome is Outcome.IDLE_TIMEOUT
    edited = rig.fired_at[1]  # when the "edit" report arrived
    assert edited + 100 <= rig.elapsed() < edited + 101
    assert "idle source: extension" in result.detail


def test_without_the_extension_the_heartbeat_still_counts(rig: Rig) -> None:
    """Fallback: no window with the extension ever connected, the beating heart keeps it up."""
    result = rig.supervisor(FakeProcess(rig.clock), max_lifetime_seconds=500).run()
    assert result.outcome is Outcome.IDLE_TIMEOUT
    assert "maximum lifetime" in result.detail


def test_the_reply_carries_the_moved_deadline(rig: Rig) -> None:
    """An answer to a report already shows the full time left, the source and the kind."""
    sup = rig.supervisor(FakeProcess(rig.clock))
    replies: list[dict[str, Any]] = []
    rig.at(60, lambda: replies.append(report(sup, "keep-working")))
    rig.at(70, sup.request_resume)
    sup.run()
    (reply,) = replies
    assert reply["ok"] is True and reply["message"] == "activity recorded (keep-working)"
    status = reply["status"]
    assert status["idle_source"] == "extension"
    assert status["last_activity_kind"] == "keep-working"
    assert status["seconds_left"] == pytest.approx(100, abs=0.5)
    assert status["warn_seconds"] == pytest.approx(10)


def test_reports_are_refused_once_the_session_stops(rig: Rig) -> None:
    """After the stop began, a report is answered ok=false and changes nothing."""
    process = FakeProcess(rig.clock, ignores_sigterm=True)  # stopping lasts the grace
    sup = rig.supervisor(process)
    replies: list[dict[str, Any]] = []
    rig.at(20, sup.request_resume)
    rig.at(23, lambda: replies.append(report(sup, "edit")))
    assert sup.run().outcome is Outcome.RESUMED
    assert replies[0]["ok"] is False and "ending" in replies[0]["message"]


def test_a_malformed_report_is_refused(rig: Rig) -> None:
    """No kind: refused with the reason."""
    sup = rig.supervisor(FakeProcess(rig.clock))
    reply = sup.record_activity({"command": "activity"})
    assert reply == {
        "ok": False,
        "message": 'bad activity: "kind" must be a short lower-case word such as "edit"',
    }


def test_code_server_gets_the_channel_address(rig: Rig) -> None:
    """The extension host inherits VSCODE_INTERACTIVE_CHANNEL from code-server's environment."""
    sup = rig.supervisor(FakeProcess(rig.clock))
    rig.at(5, sup.request_resume)
    sup.run()
    env = rig.launcher.launches[0].env
    assert env["VSCODE_INTERACTIVE_CHANNEL"] == channel_env_value(
        str(rig.layout.root.resolve() / "resume.sock")
    )
    assert env["VSCODE_INTERACTIVE_CHANNEL"] == str(rig.layout.root.resolve() / "resume.sock")


def test_the_log_says_which_idle_source_is_in_use(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """The heartbeat first; then, once a window connects, the extension's reports."""
    sup = rig.supervisor(FakeProcess(rig.clock))
    rig.at(READY_AFTER + 10, lambda: report(sup, "window"))
    rig.at(40, sup.request_resume)
    with caplog.at_level(logging.INFO, logger="vscode_interactive"):
        sup.run()
    messages = [r.getMessage() for r in caplog.records if "idle clock" in r.getMessage()]
    assert len(messages) == 2
    assert "code-server's heartbeat until an IDE window" in messages[0]
    assert "extension connected" in messages[1]
