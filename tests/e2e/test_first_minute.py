"""The first minute in the real IDE: a failing job lands the user on the failure.

A real code-server (the archive ``scripts/build_code_server.sh`` builds) and a headless
Chromium: ``Session.run`` with ``run_task_first`` catches a real exception, prints the
landing URL, and the browser, after code-server's password login, shows exactly the front
page (in front) and the failing file, whose cursor is on the line that raised. Then the
fixed source is resumed and its value returned. Evidence comes from the workbench's own
DOM: the editor tabs, the editors' resource URIs and the status bar's cursor position.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cdp import Browser, find_chromium
from tests.fakes import FakeEditorWindows, FakeEnvironment
from vscode_interactive._install._arch import current_arch
from vscode_interactive._install._ensure import Installation
from vscode_interactive._layout import StateLayout
from vscode_interactive._session import RealSteps, Session, SessionConfig
from vscode_interactive._supervision._channel import request_resume
from vscode_interactive._supervision._server import ServerOptions
from vscode_interactive._supervision._supervisor import Supervisor, SupervisorSeams
from vscode_interactive._workspace import prepare_workspace

pytestmark = pytest.mark.e2e

ARCHIVE_ENV = "VSCODE_INTERACTIVE_E2E_ARCHIVE"
SCREENSHOT_ENV = "VSCODE_INTERACTIVE_E2E_SCREENSHOT"
BUILD_CACHE = Path(
    os.environ.get("VSCODE_INTERACTIVE_BUILD_CACHE", "~/.cache/vscode-interactive-build")
).expanduser()
DEFAULT_ARCHIVE = BUILD_CACHE / "code-server-4.139.1-linux-amd64.tar.gz"

JOB = '''"""A toy training job."""


def schedule(rate, epochs):
    return [rate / (epoch + 1) for epoch in range(epochs)]


def train(rate, epochs=3):
    steps = schedule(rate, epochs)
    if sum(steps) > 1:
        raise ValueError(f"learning rate {rate} diverges: {sum(steps):.2f} > 1")
    return steps
'''
RAISING_LINE = JOB.splitlines().index(next(x for x in JOB.splitlines() if "raise" in x)) + 1

TABS = """JSON.stringify([...document.querySelectorAll('.tabs-container .tab')].map(t => {
  const r = t.getBoundingClientRect();
  return {label: t.getAttribute('aria-label'), active: t.classList.contains('active'),
          x: r.x + r.width / 2, y: r.y + r.height / 2};
}))"""
EDITOR_URIS = """JSON.stringify([...document.querySelectorAll('.editor-instance .monaco-editor')]
  .map(e => e.getAttribute('data-uri')).filter(Boolean))"""
SIDE_BAR_TEXT = "(document.querySelector('.part.auxiliarybar') || {}).innerText || ''"
CURSOR = """[...document.querySelectorAll('.statusbar-item')].map(e => e.textContent)
  .find(t => /^Ln \\d+, Col \\d+/.test(t)) || ''"""


def missing(what: str) -> None:
    """Skip locally, fail in CI: CI must run these tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: the end-to-end tests must run)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real code-server executable, extracted from the built archive."""
    archive = Path(os.environ.get(ARCHIVE_ENV) or DEFAULT_ARCHIVE)
    if not archive.is_file():
        missing(f"no code-server archive at {archive}; run scripts/build_code_server.sh")
    target = tmp_path_factory.mktemp("code-server")
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(target)], check=True, timeout=300)
    (root,) = target.iterdir()
    return root / "bin" / "code-server"


@pytest.fixture
def chromium() -> str:
    found = find_chromium()
    if found is None:
        missing("no chromium on PATH (apt-get install chromium)")
    assert found is not None
    return found


class LocalSteps(RealSteps):
    """The real workspace writer and supervisor; code-server is the extracted archive."""

    def __init__(self, executable: Path, state: Path) -> None:
        super().__init__()
        self._executable, self._state = executable, state

    def install(self, config: SessionConfig) -> Installation:
        return Installation(
            executable=self._executable,
            version="4.139.1",
            user_data_dir=self._state / "user-data",
            extensions_dir=self._state / "extensions",
            source="path",
            arch=current_arch(),
            heartbeat_path=self._state / "heartbeat",
        )


@pytest.fixture
def job(tmp_path: Path) -> Iterator[tuple[Path, Callable[..., Any]]]:
    """A project with ``train_job.py``, importable as ``train_job``."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "train_job.py").write_text(JOB)
    sys.path.insert(0, str(workspace))
    try:
        yield workspace, importlib.import_module("train_job").train
    finally:
        sys.path.remove(str(workspace))
        sys.modules.pop("train_job", None)


def wait_for_session(layout: StateLayout, runner: threading.Thread) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert runner.is_alive(), "the session ended before code-server was ready"
        try:
            info: dict[str, Any] = json.loads(layout.session_info.read_text())
        except (OSError, ValueError):
            info = {}
        if info.get("state") == "running":
            return info
        time.sleep(0.2)
    raise AssertionError("code-server was not ready within 120 s")


def test_a_failing_job_lands_on_the_front_page_and_the_raising_line(
    code_server: Path,
    chromium: str,
    job: tuple[Path, Callable[..., Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Landing URL -> login -> the front page in front, the failing file at its line;
    then the edited function resumes with the original inputs."""
    workspace, train = job
    config = SessionConfig(
        workspace_dir=workspace,
        port=0,
        run_task_first=True,
        max_idle_seconds=900,
        check_interval=1.0,
        start_timeout=120,
        grace_seconds=2,
    )
    layout = config.layout()
    session = Session(
        config,
        _env=FakeEnvironment({"VSCODE_INTERACTIVE_ENABLE": "1"}),
        _steps=LocalSteps(code_server, tmp_path / "state"),
    )
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(session.run(train, 0.9))
        except BaseException as error:  # reported by the assertions below
            outcome.append(error)

    runner = threading.Thread(target=run)
    runner.start()
    try:
        info = wait_for_session(layout, runner)
        banner = capsys.readouterr().err
        landing = info["url"]
        source = workspace / "train_job.py"

        # The banner: why the IDE is up, next to the landing URL.
        lines = banner.splitlines()
        why = next(i for i, x in enumerate(lines) if "Why you are here: ValueError" in x)
        assert lines[why + 2] == f"  Open:      {landing}"
        assert lines[why + 3] == f"  Lands on:  {source}:{RAISING_LINE}"
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(landing).query)
        assert query["folder"] == [str(workspace)]

        with Browser(chromium, tmp_path / "chromium") as page:
            page.navigate(landing)
            page.wait_for(
                lambda: page.evaluate("!!document.querySelector('input[name=password]')"),
                60,
                "code-server's login page",
            )
            password = layout.password_file.read_text().strip()
            page.evaluate(
                f"document.querySelector('input[name=password]').value = {json.dumps(password)};"
                "document.querySelector('form').submit(); true"
            )

            def two_tabs() -> list[dict[str, Any]] | None:
                tabs: list[dict[str, Any]] = json.loads(page.evaluate(TABS) or "[]")
                names = sorted(tab["label"] for tab in tabs)
                return tabs if names == ["DEBUGGING.md", "train_job.py"] else None

            try:
                tabs = page.wait_for(two_tabs, 90, "the front page and train_job.py tabs")
            except AssertionError as error:
                page.screenshot(tmp_path / "failed.png")
                seen = page.evaluate(TABS), page.evaluate("location.href")
                log = layout.server_log.read_text()[-3000:]
                raise AssertionError(f"{error}; saw {seen}; server log:\n{log}") from None
            # The login redirected back to the landing URL, payload included.
            assert page.evaluate("location.pathname") == "/"
            assert (
                page.evaluate("new URLSearchParams(location.search).get('payload')")
                == (query["payload"][0])
            )
            page.wait_for(
                lambda: (
                    next(t for t in json.loads(page.evaluate(TABS)) if t["active"])["label"]
                    == "DEBUGGING.md"
                ),
                30,
                "the front page in front",
            )
            # The workspace settings reached the workbench: no chat panel. (Its side bar may
            # stay open, empty: the remote settings arrive after the first layout.)
            page.wait_for(lambda: "Chat" not in page.evaluate(SIDE_BAR_TEXT), 30, "no chat")
            time.sleep(1.0)  # let the editor paint before the picture
            page.screenshot(tmp_path / "first-minute.png")
            if os.environ.get(SCREENSHOT_ENV):
                page.screenshot(Path(os.environ[SCREENSHOT_ENV]))
            uris = json.loads(page.evaluate(EDITOR_URIS))
            assert [
                urllib.parse.unquote(uri).endswith("/.vscode-interactive/DEBUGGING.md")
                for uri in uris
            ] == [True]

            source_tab = next(t for t in tabs if t["label"] == "train_job.py")
            page.click(source_tab["x"], source_tab["y"])
            cursor = page.wait_for(
                lambda: (
                    page.evaluate(CURSOR)
                    if urllib.parse.unquote(json.loads(page.evaluate(EDITOR_URIS))[0]).endswith(
                        str(source)
                    )
                    else None
                ),
                30,
                "train_job.py in front",
            )
            assert cursor == f"Ln {RAISING_LINE}, Col 1"

        source.write_text(JOB.replace("if sum(steps) > 1:", "if sum(steps) > 10:"))
        request_resume(layout.root)
        runner.join(60)
        assert not runner.is_alive()
        assert outcome and outcome[0] == pytest.approx([0.9, 0.45, 0.3])
    finally:
        if runner.is_alive():
            with contextlib.suppress(Exception):
                request_resume(layout.root)
            runner.join(30)


def test_the_landing_url_alone_opens_the_raising_line(
    code_server: Path,
    chromium: str,
    job: tuple[Path, Callable[..., Any]],
    tmp_path: Path,
) -> None:
    """With no window ever greeted, the landing URL's payload by itself opens the failing
    file with the cursor on the line that raised (and nothing else)."""
    workspace, train = job
    with pytest.raises(ValueError, match="diverges") as failure:
        train(0.9)
    layout = StateLayout.for_workspace(workspace)
    files = prepare_workspace(
        train, (0.9,), layout=layout, python=sys.executable, failure=failure.value
    )
    options = ServerOptions(
        executable=code_server,
        layout=layout,
        user_data_dir=tmp_path / "user-data",
        extensions_dir=tmp_path / "extensions",
        auth="none",
        open_files=files.open_first,
        start_timeout=120,
        grace_seconds=2,
    )
    supervisor = Supervisor(
        options,
        _seams=SupervisorSeams(editor_windows=FakeEditorWindows()),  # no window is greeted
        announce=lambda banner: None,
    )
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    try:
        wait_for_session(layout, runner)
        with Browser(chromium, tmp_path / "chromium") as page:
            page.navigate(supervisor.landing_url)
            page.wait_for(lambda: page.evaluate(CURSOR), 90, "an editor with a cursor")
            tabs = json.loads(page.evaluate(TABS))
            assert [(tab["label"], tab["active"]) for tab in tabs] == [("train_job.py", True)]
            assert page.evaluate(CURSOR) == f"Ln {RAISING_LINE}, Col 1"
    finally:
        supervisor.request_resume()
        runner.join(30)
    assert not runner.is_alive()
