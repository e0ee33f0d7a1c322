"""`vscode-interactive resume` and `status`: against a live session and without one."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.live_session import LiveRig
from tests.waiting import kill_leftovers
from vscode_interactive._layout import StateLayout
from vscode_interactive._supervision._channel import ChannelServer, Reply
from vscode_interactive._supervision._policy import Outcome
from vscode_interactive.cli import EXIT_FAILURE, EXIT_USAGE, main


class Terminal(io.StringIO):
    """A stdin that claims to be a terminal, with the user's typed answer."""

    def isatty(self) -> bool:
        return True


class FakeSession:
    """Only the channel end of a session: records what was asked."""

    def __init__(self, state_dir: Path) -> None:
        self.commands: list[str] = []
        self.server = ChannelServer(state_dir, self.answer)

    def answer(self, command: str, request: Mapping[str, Any]) -> Reply:
        self.commands.append(command)
        return {"ok": True, "message": "resume accepted by supervisor pid 1"}


@pytest.fixture
def fake_session(tmp_path: Path) -> Iterator[FakeSession]:
    session = FakeSession(StateLayout.for_workspace(tmp_path).root)
    session.server.start()
    yield session
    session.server.close()


@pytest.mark.parametrize("command", ["resume", "abort"])
def test_without_terminal_and_without_yes_is_refused(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_session: FakeSession,
) -> None:
    """resume or abort with piped stdin and no --yes: exit 2 with a message; nothing is sent
    to the session."""
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main([command, "--workspace", str(tmp_path)]) == EXIT_USAGE
    assert "pass --yes" in capsys.readouterr().err
    assert fake_session.commands == []


def test_resume_asks_and_respects_no(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_session: FakeSession,
) -> None:
    """At a terminal the user is asked; anything but yes cancels with exit 1."""
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(["resume", "--workspace", str(tmp_path)]) == EXIT_FAILURE
    assert "cancelled" in capsys.readouterr().err
    assert fake_session.commands == []


def test_resume_confirmed_prints_the_acknowledgement(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_session: FakeSession,
) -> None:
    """'y' at the prompt sends the request; the ack goes to stdout; the cwd is the default."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert main(["resume"]) == 0
    assert "resume accepted by supervisor pid 1" in capsys.readouterr().out
    assert fake_session.commands == ["resume"]


def test_resume_with_no_session_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--yes with nobody listening: exit 1 and the channel's explanation on stderr."""
    assert main(["resume", "--yes", "--state-dir", str(tmp_path)]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert "vscode-interactive resume: error: no vscode-interactive session is listening" in err


def test_status_without_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No live session: exit 1; a leftover session.json is called out as stale."""
    state_dir = StateLayout.for_workspace(tmp_path).root
    assert main(["status", "--workspace", str(tmp_path)]) == EXIT_FAILURE
    assert f"no live session in {state_dir}" in capsys.readouterr().err
    state_dir.mkdir()
    (state_dir / "session.json").write_text("{}")
    assert main(["status", "--state-dir", str(state_dir)]) == EXIT_FAILURE
    assert "whose supervisor is gone" in capsys.readouterr().err


@pytest.mark.integration
def test_status_and_resume_against_a_live_supervisor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """status shows URL, pids, idle seconds and state dir; resume --yes ends it RESUMED."""
    rig = LiveRig(tmp_path)
    try:
        session = rig.session()
        session.wait_ready()
        state_dir = str(rig.layout.root)
        assert main(["status", "--state-dir", state_dir, "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["url"] == session.supervisor.url
        assert status["state_dir"] == state_dir and status["state"] == "running"
        assert status["server_pid"] > 0 and status["supervisor_pid"] > 0
        assert isinstance(status["idle_seconds"], float)
        assert main(["status", "--workspace", str(rig.layout.workspace)]) == 0
        human = capsys.readouterr().out
        assert f"url:            {session.supervisor.url}" in human and "idle source:" in human
        assert main(["resume", "--yes", "--state-dir", state_dir]) == 0
        assert "resume accepted" in capsys.readouterr().out
        assert session.finish().outcome is Outcome.RESUMED
        rig.assert_nothing_survives()
    finally:
        kill_leftovers(rig.all_pids())


def test_abort_confirmed_with_yes_sends_abort(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_session: FakeSession
) -> None:
    """abort --yes sends 'abort' and prints the acknowledgement."""
    assert main(["abort", "--yes", "--workspace", str(tmp_path)]) == 0
    assert "accepted" in capsys.readouterr().out
    assert fake_session.commands == ["abort"]
