"""A failing job's session on the fake code-server: the banner says why and where it
lands, and the window that connects is asked to open the front page and the raising line.

Real processes and sockets (the fake server serves code-server's window registry and one
window's CLI socket); the real browser half is in ``tests/e2e/test_first_minute.py``.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_code_server import install_fake_code_server
from tests.fakes import FakeEnvironment
from tests.waiting import wait_until
from vscode_interactive._install._arch import current_arch
from vscode_interactive._install._ensure import Installation
from vscode_interactive._session import RealSteps, Session, SessionConfig
from vscode_interactive._supervision._channel import request_resume
from vscode_interactive._supervision._landing import landing_url, open_request
from vscode_interactive._workspace import SourceLocation

pytestmark = pytest.mark.integration

JOB = """def train(rate):
    total = rate * 3
    if total > 1:
        raise ValueError(f"rate {rate} diverges")
    return total
"""


class FakeServerSteps(RealSteps):
    """Real workspace writer and supervisor; the fake code-server as the installation."""

    def __init__(self, tmp: Path) -> None:
        super().__init__()
        self.tmp = tmp

    def install(self, config: SessionConfig) -> Installation:
        return Installation(
            executable=install_fake_code_server(self.tmp / "bin"),
            version="4.139.1",
            user_data_dir=self.tmp / "user-data",
            extensions_dir=self.tmp / "extensions",
            source="path",
            arch=current_arch(),
            heartbeat_path=self.tmp / "heartbeat",
        )


@pytest.fixture
def train(tmp_path: Path) -> Iterator[Callable[[float], float]]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "vi_landing_job.py").write_text(JOB)
    sys.path.insert(0, str(workspace))
    try:
        yield importlib.import_module("vi_landing_job").train
    finally:
        sys.path.remove(str(workspace))
        sys.modules.pop("vi_landing_job", None)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def test_failing_job_banner_and_greeting_on_the_fake_server(
    tmp_path: Path,
    train: Callable[[float], float],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Banner: the exception's summary, then the landing URL and the line it opens; the
    connected window gets the front page and the raising line; resume returns the fix."""
    record = tmp_path / "window-requests.jsonl"
    monkeypatch.setenv("FAKE_CS_WINDOW", str(record))
    workspace = tmp_path / "ws"
    config = SessionConfig(
        workspace_dir=workspace,
        port=0,
        run_task_first=True,
        check_interval=0.2,
        start_timeout=20,
        grace_seconds=0.5,
    )
    layout = config.layout()
    session = Session(
        config,
        _env=FakeEnvironment({"VSCODE_INTERACTIVE_ENABLE": "1"}),
        _steps=FakeServerSteps(tmp_path),
    )
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(session.run(train, 0.5))
        except BaseException as error:  # asserted below
            outcome.append(error)

    runner = threading.Thread(target=run)
    runner.start()
    try:

        def running() -> dict[str, Any] | None:
            info = read_json(layout.session_info)
            return info if isinstance(info, dict) and info.get("state") == "running" else None

        info = wait_until(running, timeout=20, what="a running session")
        requests = wait_until(
            lambda: record.read_text() if record.exists() else None,
            timeout=20,
            what="a greeting",
        )
        banner = capsys.readouterr().err.splitlines()
        raised = SourceLocation(workspace / "vi_landing_job.py", 4)
        front = SourceLocation(layout.front_page, 1)
        landing = landing_url(
            info["server_url"], folder=workspace, reveal=raised, workspace=layout.workspace_file
        )
        assert info["url"] == landing
        why = banner.index("  Why you are here: ValueError: rate 0.5 diverges")
        assert banner[why + 2 : why + 4] == [
            f"  Open:      {landing}",
            f"  Lands on:  {raised.goto}",
        ]
        assert [json.loads(line) for line in requests.splitlines()] == [
            open_request([front, raised])
        ]
        (workspace / "vi_landing_job.py").write_text(JOB.replace("> 1", "> 10"))
        request_resume(layout.root)
        runner.join(20)
        assert outcome == [1.5]
    finally:
        if runner.is_alive():
            request_resume(layout.root)
            runner.join(20)
