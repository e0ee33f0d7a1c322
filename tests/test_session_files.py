"""session.json and the password file: private, atomic, removed only if this run wrote them."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from vscode_interactive import ServerOptions, StateLayout
from vscode_interactive._supervision._policy import initial_state
from vscode_interactive._supervision._session_files import SessionFiles, session_status


def _layout(tmp_path: Path) -> StateLayout:
    layout = StateLayout.for_workspace(tmp_path)
    layout.root.mkdir(parents=True)
    return layout


def test_password_is_private_even_under_a_permissive_umask(tmp_path: Path) -> None:
    """The password file is 0600 whatever the umask, holds the returned password, and is
    named by ``password_file`` only once written."""
    layout = _layout(tmp_path)
    files = SessionFiles(layout)
    named_before = files.password_file
    old = os.umask(0)
    try:
        password = files.create_password()
    finally:
        os.umask(old)
    assert named_before is None
    assert files.password_file == layout.password_file
    assert layout.password_file.read_text() == password
    assert len(password) >= 32
    assert stat.S_IMODE(layout.password_file.stat().st_mode) == 0o600
    assert SessionFiles(_layout(tmp_path / "other")).create_password() != password


def test_remove_deletes_only_what_this_run_wrote(tmp_path: Path) -> None:
    """A run that wrote no password leaves another's password file alone; what it wrote goes."""
    layout = _layout(tmp_path)
    layout.password_file.write_text("someone else's")
    files = SessionFiles(layout)
    files.write_info({"state": "running"})
    assert json.loads(layout.session_info.read_text()) == {"state": "running"}
    files.remove()
    assert not layout.session_info.exists()
    assert layout.password_file.read_text() == "someone else's"


def test_failing_to_write_session_info_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """session.json is informational: an unwritable state dir logs a warning, and remove()
    then has nothing of ours to delete."""
    layout = StateLayout.for_workspace(tmp_path / "missing")  # its state dir does not exist
    files = SessionFiles(layout)
    with caplog.at_level(logging.WARNING, logger="vscode_interactive.supervisor"):
        files.write_info({"state": "running"})
    assert "could not write" in caplog.text
    files.remove()
    assert not layout.root.exists()


def test_session_status_reports_idle_time_and_deadline(tmp_path: Path) -> None:
    """The status shows the phase, the URLs, and when the idle limit will stop the IDE."""
    layout = StateLayout.for_workspace(tmp_path)
    options = ServerOptions(
        executable=Path("code-server"),
        layout=layout,
        user_data_dir=tmp_path,
        extensions_dir=tmp_path,
        max_idle_seconds=100,
    )
    state = initial_state(1000.0)
    status = session_status(
        options,
        state,
        now=1030.0,
        wall=5000.0,
        url="http://127.0.0.1:9",
        landing_url="http://127.0.0.1:9/?folder=x",
        port=9,
        server_pid=12,
        password_file=None,
    )
    assert status["state"] == state.phase.value
    assert status["idle_seconds"] == 30.0
    assert status["last_activity"] == 4970.0
    assert status["idle_deadline"] == 5070.0
    assert status["url"] == "http://127.0.0.1:9/?folder=x"
    assert status["server_url"] == "http://127.0.0.1:9"
    assert status["password_file"] is None
    assert status["state_dir"] == str(layout.root)
    before = session_status(
        options, None, now=0, wall=0, url="", landing_url="", port=0, server_pid=0,
        password_file=layout.password_file,
    )  # fmt: skip
    assert before["state"] == "starting"
    assert before["password_file"] == str(layout.password_file)
