"""Idle means nobody works: the library's extension on the real code-server, in Chromium.

Each test runs a failing job in a subprocess (``Session.run`` with ``run_task_first``,
password auth, ``max_idle_seconds=60``), logs in from headless Chromium and then either
leaves the tab untouched, types in the editor every 20 s, or answers the idle warning.
The evidence is the job's exit (``IdleTimeoutError`` or the resumed value), what
``vscode-interactive status`` said along the way (idle source, last activity and its
kind) and the workbench's own DOM (status bar, notification, dialog).

``VSCODE_INTERACTIVE_E2E_SCREENSHOT_DIR`` set: the warning's screenshot is saved there too
(that is how docs/idle-warning.png is made).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.support import CLI, Job, wait_for, wait_for_session

pytestmark = pytest.mark.e2e

MAX_IDLE = 60.0
CHECK = 2.0
GRACE = 2.0
SLACK = 5.0  # the job's own exit after the server stopped, and this test's polling
SCREENSHOT_DIR = "VSCODE_INTERACTIVE_E2E_SCREENSHOT_DIR"

JOB = f"""\
import logging
import sys

from vscode_interactive import IdleTimeoutError, Session, SessionConfig

logging.basicConfig(level=logging.INFO)


def compute(value):
    return value / 0  # BUG


if __name__ == "__main__":
    config = SessionConfig(
        port=0,
        run_task_first=True,
        max_idle_seconds={MAX_IDLE},
        check_interval={CHECK},
        grace_seconds={GRACE},
        start_timeout=180,
    )
    try:
        print("RESULT", Session(config).run(compute, 84), flush=True)
    except IdleTimeoutError as error:
        print("IDLE", error, flush=True)
        sys.exit(3)
"""
BUG_LINE = JOB.splitlines().index("    return value / 0  # BUG") + 1

COUNTDOWN = ".statusbar-item:has-text('idle stop in')"
RESUME_ITEM = ".statusbar-item:has-text('Resume job')"
WARNING = ".notification-toast:has-text('the IDE stops in')"
STEP_MS = 60_000


def status_of(workspace: Path) -> dict[str, Any] | None:
    """``vscode-interactive status --json``, or None when no session answers."""
    done = subprocess.run(
        [CLI, "status", "--json", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if done.returncode != 0:
        return None
    status: dict[str, Any] = json.loads(done.stdout)
    return status


@dataclass
class Run:
    """A job with its IDE open in a logged-in page."""

    job: Job
    workspace: Path
    page: Page
    connected: dict[str, Any] = field(default_factory=dict)

    def status(self) -> dict[str, Any]:
        status = status_of(self.workspace)
        assert status is not None, f"no session answers\n{self.job.describe()}"
        return status


@pytest.fixture
def ide(page: Page, e2e_env: dict[str, str], e2e_workspace: Path) -> Any:
    """Start the job, log in, wait until the extension's window is the idle source."""
    script = e2e_workspace / "job.py"
    script.write_text(JOB)
    job = Job(script, e2e_env).start()
    try:
        info = wait_for_session(e2e_workspace, job)
        page.goto(str(info["url"]))
        page.locator("input[name=password]").wait_for(timeout=120_000)
        password = (e2e_workspace / ".vscode-interactive" / "password").read_text().strip()
        page.fill("input[name=password]", password)
        page.keyboard.press("Enter")
        page.locator(COUNTDOWN).wait_for(timeout=180_000)

        def extension_source() -> dict[str, Any] | None:
            status = status_of(e2e_workspace)
            return status if status and status.get("idle_source") == "extension" else None

        connected = wait_for(extension_source, timeout=60, what="the extension as idle source")
        yield Run(job, e2e_workspace, page, connected)
    finally:
        job.kill()


def focus_source(page: Page) -> None:
    """Bring job.py to the front and put the cursor on the line that raised.

    The job's greeting opens the front page and job.py once the extension host is up,
    re-rendering the editors (under load while the test clicks: the editor it found is
    detached). So: wait until the greeting's front page is there, then click until
    job.py's editor takes the click, within the step's deadline."""
    tabs = page.locator(".tabs-container .tab")
    expect(tabs.filter(has_text="DEBUGGING.md").first).to_be_visible(timeout=STEP_MS)
    deadline = time.monotonic() + STEP_MS / 1000
    while True:
        try:
            tabs.filter(has_text="job.py").first.click(timeout=5_000)
            page.locator(".monaco-editor[data-uri$='job.py'] .view-lines").first.click(
                timeout=5_000
            )
            break
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
    page.keyboard.press("Control+g")
    page.keyboard.type(str(BUG_LINE))
    page.keyboard.press("Enter")


def test_an_untouched_logged_in_tab_is_idle(ide: Run) -> None:
    """The tab stays open and untouched: the warning shows, then the job ends with
    IdleTimeoutError within max_idle + check interval + grace of the window's arrival."""
    start = ide.connected
    assert start["last_activity_kind"] == "window"
    deadline = float(start["last_activity"]) + MAX_IDLE + CHECK + GRACE + SLACK
    warned = False
    last = start
    seen = [(start["last_activity"], start["last_activity_kind"])]
    while ide.job.process is not None and ide.job.process.poll() is None:
        assert time.time() < deadline, f"still up past the idle limit: {seen}\n{ide.job.describe()}"
        warned = warned or ide.page.locator(WARNING).is_visible()
        last = status_of(ide.workspace) or last
        if (last["last_activity"], last["last_activity_kind"]) != seen[-1]:
            seen.append((last["last_activity"], last["last_activity_kind"]))
        time.sleep(1.0)
    assert ide.job.wait(10) == 3, ide.job.describe()
    assert "IDLE" in ide.job.stdout
    assert not ide.page.is_closed()
    # Nothing but the window's arrival was ever reported: an open tab is not activity.
    assert last["last_activity"] == pytest.approx(start["last_activity"], abs=0.5)
    assert last["idle_source"] == "extension"
    assert warned, "the idle warning never showed"
    assert "no activity" in ide.job.stdout


def test_typing_every_20_s_keeps_the_job_up_then_it_resumes(ide: Run) -> None:
    """Keystrokes in the editor every 20 s keep the session up for over 3 minutes; the job
    then resumes with the fixed source and returns its value."""
    focus_source(ide.page)
    began = time.monotonic()
    while time.monotonic() - began < 200:
        ide.job.check_running()
        ide.page.keyboard.press("End")
        ide.page.keyboard.type(" ")
        time.sleep(20)
    status = ide.status()
    assert status["state"] == "running"
    assert status["idle_source"] == "extension"
    assert status["last_activity_kind"] in ("edit", "cursor")
    assert float(status["seconds_left"]) > MAX_IDLE - 30
    source = ide.workspace / "job.py"
    source.write_text(JOB.replace("value / 0  # BUG", "value / 2"))
    subprocess.run(
        [CLI, "resume", "--yes", "--workspace", str(ide.workspace)], check=True, timeout=60
    )
    assert ide.job.wait(60) == 0, ide.job.describe()
    assert "RESULT 42.0" in ide.job.stdout


def test_the_warning_keep_working_and_resume_from_the_status_bar(ide: Run) -> None:
    """The warning comes before the stop; "Keep working" postpones it; "Resume job" in the
    status bar, confirmed with "Save All and Resume", finishes the job with the edited code."""
    page = ide.page
    first_deadline = float(ide.connected["idle_deadline"])
    warning = page.locator(WARNING)
    warning.wait_for(timeout=(MAX_IDLE + 10) * 1000)
    assert time.time() < first_deadline
    shot = ide.workspace.parent / "idle-warning.png"
    page.screenshot(path=str(shot))
    if os.environ.get(SCREENSHOT_DIR):
        page.screenshot(path=str(Path(os.environ[SCREENSHOT_DIR]) / "idle-warning.png"))
    assert re.search(r"idle stop in \d+ s", page.locator(COUNTDOWN).inner_text())

    warning.get_by_role("button", name="Keep working").click()

    def postponed() -> dict[str, Any] | None:
        status = ide.status()
        return status if status["last_activity_kind"] == "keep-working" else None

    status = wait_for(postponed, timeout=15, what="keep-working recorded")
    assert float(status["idle_deadline"]) > first_deadline + 5
    wait_for(
        lambda: True if time.time() > first_deadline + CHECK + GRACE + 2 else None,
        timeout=MAX_IDLE,
        what="the first deadline to pass",
    )
    ide.job.check_running()

    focus_source(page)
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    page.keyboard.type("return value / 2")
    page.locator(RESUME_ITEM).click()
    dialog = page.locator(".monaco-dialog-box")
    dialog.wait_for(timeout=30_000)
    assert "calls compute again with its original inputs" in dialog.inner_text()
    dialog.get_by_role("button", name="Save All and Resume").click()
    assert ide.job.wait(60) == 0, ide.job.describe()
    assert "RESULT 42.0" in ide.job.stdout
    assert "return value / 2" in (ide.workspace / "job.py").read_text()
