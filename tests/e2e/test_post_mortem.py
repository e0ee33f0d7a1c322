"""The debugger in the real IDE with no extension downloaded: post-mortem, then a re-run.

A job fails in a subprocess on the real code-server with ``VSCODE_INTERACTIVE_EXTENSIONS=""``
(only the library's own extension is installed), in a project with its own
``.vscode/launch.json`` ("My App", which Run and Debug pre-selects). In headless Chromium,
F5 still starts "Post-mortem: inspect the failure" (the library's extension binds it): the
Call Stack shows the failing function and the Variables view its live locals with their
values. Then "Interactive Debugging" re-runs the function and stops at a breakpoint.
Evidence comes from the workbench's DOM.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.artifacts import build_vsix
from tests.e2e.support import CLI, Job, wait_for, wait_for_session
from tests.httpserver import LoopbackServer

pytestmark = pytest.mark.e2e

SCREENSHOT_ENV = "VSCODE_INTERACTIVE_E2E_POST_MORTEM_SCREENSHOT"
WORKBENCH_MS = 120_000
STEP_MS = 60_000

JOB = """\
from vscode_interactive import SessionConfig, vscode


def load_batch(size):
    return [index * 3 for index in range(size)]


@vscode(
    run_task_first=True,
    port=0,
    auth="none",
    max_idle_seconds=900,
    session_config=SessionConfig(check_interval=0.5, grace_seconds=2.0, start_timeout=120),
)
def train(size, scale):
    batch = load_batch(size)
    total = sum(batch)
    weight = scale - 3
    return total / weight  # RAISES


if __name__ == "__main__":
    print("RESULT", train(4, 3), flush=True)
"""
# The user's own launch configuration, listed before ours and pre-selected in Run and Debug.
USER_LAUNCH = {
    "version": "0.2.0",
    "configurations": [
        {
            "name": "My App",
            "type": "debugpy",
            "request": "launch",
            "program": "${workspaceFolder}/my_app.py",
        }
    ],
}
RAISING_LINE = next(i for i, line in enumerate(JOB.splitlines(), 1) if "# RAISES" in line)
BATCH_LINE = next(i for i, line in enumerate(JOB.splitlines(), 1) if "batch = " in line)


def session_status(workspace: Path) -> dict[str, object]:
    done = subprocess.run(
        [CLI, "status", "--json", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    status: dict[str, object] = json.loads(done.stdout) if done.returncode == 0 else {}
    return status


def panel_rows(page: Page, view: str) -> Locator:
    """The rows of a Run and Debug section (``call-stack`` or ``variables``)."""
    return page.locator(f".debug-{view} .monaco-list-row")


def run_command(page: Page, title: str) -> None:
    """Run a command from the Command Palette by its title."""
    page.keyboard.press("Control+Shift+P")
    expect(page.locator(".quick-input-widget").first).to_be_visible(timeout=STEP_MS)
    page.keyboard.type(title)
    option = page.locator(".quick-input-list .monaco-list-row").filter(has_text=title).first
    expect(option).to_be_visible(timeout=STEP_MS)
    option.click()


def stop_debugging(page: Page) -> None:
    """The debug toolbar's Disconnect (attach) or Stop (launch) button."""
    toolbar = page.locator(".debug-toolbar")
    button = toolbar.locator('[aria-label^="Disconnect"], [aria-label^="Stop"]').first
    expect(button).to_be_visible(timeout=STEP_MS)
    button.click()
    expect(toolbar).to_be_hidden(timeout=STEP_MS)


def pick(page: Page, label: str) -> None:
    """Choose ``label`` in an open quick pick."""
    expect(page.locator(".quick-input-widget").first).to_be_visible(timeout=STEP_MS)
    page.keyboard.type(label)
    option = page.locator(".quick-input-list .monaco-list-row").filter(has_text=label).first
    expect(option).to_be_visible(timeout=STEP_MS)
    option.click()


@pytest.fixture
def failed_job(e2e_env: dict[str, str], e2e_workspace: Path) -> Iterator[Job]:
    script = e2e_workspace / "job.py"
    script.write_text(JOB)
    (e2e_workspace / "my_app.py").write_text('print("my app")\n')
    (e2e_workspace / ".vscode").mkdir()
    (e2e_workspace / ".vscode" / "launch.json").write_text(json.dumps(USER_LAUNCH, indent=2))
    env = dict(e2e_env)
    env["VSCODE_INTERACTIVE_EXTENSIONS"] = ""  # no marketplace extension at all
    job = Job(script, env).start()
    try:
        yield job
    finally:
        if job.process is not None and job.process.poll() is None:
            subprocess.run(
                [CLI, "abort", "--yes", "--workspace", str(e2e_workspace)],
                capture_output=True,
                check=False,
                timeout=30,
            )
            job.wait(60)
        job.kill()


# A stand-in for the Python Debugger extension: it serves the debugpy type itself (attach
# to the job's server) and leaves a mark when VS Code asks it for an adapter.
FAKE_PYTHON_DEBUGGER_JS = b"""
const vscode = require('vscode');
const fs = require('fs');
exports.activate = (context) => {
  context.subscriptions.push(vscode.debug.registerDebugAdapterDescriptorFactory('debugpy', {
    createDebugAdapterDescriptor(session) {
      fs.writeFileSync(process.env.FAKE_PYTHON_DEBUGGER_MARK, session.configuration.name);
      const connect = session.configuration.connect;
      return new vscode.DebugAdapterServer(Number(connect.port), connect.host);
    },
  }));
};
"""


def open_the_job_file(page: Page, url: str) -> None:
    """Log in, wait for the job's greeting, put the keyboard in the job's source."""
    page.goto(url)
    tabs = page.locator(".tabs-container").get_by_role("tab")
    # The job greets the window: the front page comes to the front (a Markdown preview).
    expect(tabs.and_(page.locator('[aria-label="DEBUGGING.md"]'))).to_have_attribute(
        "aria-selected", "true", timeout=WORKBENCH_MS
    )
    # Keys go to the workbench, not to the preview's iframe: focus the source editor.
    job_tab = tabs.and_(page.locator('[aria-label="job.py"]'))
    job_tab.click()
    expect(job_tab).to_have_attribute("aria-selected", "true", timeout=STEP_MS)
    page.locator(".editor-instance .monaco-editor .view-lines").first.click()


def start_post_mortem(page: Page, *, with_f5: bool = False) -> tuple[Locator, Locator]:
    """Run and Debug view open, then "Post-mortem: inspect the failure" (F5, or picked in
    Select and Start Debugging); checks the failing frame is selected with its live locals.
    Returns the call stack and variables rows."""
    page.locator('.activitybar [aria-label^="Run and Debug"]').first.click()
    call_stack_header = page.locator(".pane-header").filter(has_text="Call Stack")
    expect(call_stack_header.first).to_be_visible(timeout=STEP_MS)
    if with_f5:
        # Run and Debug pre-selects the project's own configuration; F5 is ours anyway.
        selected = page.get_by_role("button", name=re.compile("^Debug Launch Configurations"))
        expect(selected.first).to_contain_text("My App", timeout=STEP_MS)
        page.keyboard.press("F5")
    else:
        run_command(page, "Debug: Select and Start Debugging")
        pick(page, "Post-mortem: inspect the failure")
    expect(page.locator(".debug-toolbar")).to_be_visible(timeout=STEP_MS)
    stack = panel_rows(page, "call-stack")
    expect(stack.filter(has_text="train").first).to_be_visible(timeout=STEP_MS)
    # The raising frame is selected: its row is focused and its locals are shown.
    expect(stack.filter(has_text="train").first).to_have_class(
        re.compile(r"\bselected\b"), timeout=STEP_MS
    )
    variables = panel_rows(page, "variables")
    expect(variables.filter(has_text=re.compile(r"weight\s*[:=]?\s*0")).first).to_be_visible(
        timeout=STEP_MS
    )
    expect(variables.filter(has_text=re.compile(r"total\s*[:=]?\s*18")).first).to_be_visible(
        timeout=STEP_MS
    )
    return stack, variables


def test_post_mortem_then_interactive_debugging_with_no_extension_downloaded(
    failed_job: Job, e2e_workspace: Path, page: Page, tmp_path: Path
) -> None:
    """F5, though the project's "My App" is selected in Run and Debug, starts the
    Post-mortem: the Call Stack shows train, the Variables view weight = 0 (live, nothing
    re-run); then Interactive Debugging stops at a breakpoint in the re-run; then
    "Abort job" in the IDE ends the job with the failure."""
    info = wait_for_session(e2e_workspace, failed_job)
    try:
        open_the_job_file(page, str(info["url"]))
        stack, variables = start_post_mortem(page, with_f5=True)
        call_stack_header = page.locator(".pane-header").filter(has_text="Call Stack")
        # Using the debugger is activity for the idle clock (the extension reports it).
        wait_for(
            lambda: session_status(e2e_workspace).get("last_activity_kind") == "debug" or None,
            timeout=STEP_MS / 1000,
            what="the debug session reported as activity",
        )
        page.screenshot(path=tmp_path / "post-mortem.png")
        if os.environ.get(SCREENSHOT_ENV):
            page.screenshot(path=os.environ[SCREENSHOT_ENV])
        # Detach: the job keeps waiting.
        stop_debugging(page)
        expect(stack.filter(has_text="train")).to_have_count(0, timeout=STEP_MS)
        assert failed_job.process is not None and failed_job.process.poll() is None

        # A breakpoint on the batch line (cursor there, F9), then the re-run stops
        # there: a breakpoint stop before the failure, so `batch` is not even assigned.
        batch_line = page.locator(".editor-instance .view-lines .view-line")
        batch_line.filter(has_text="batch = load_batch(size)").first.click()
        expect(
            page.locator(".statusbar-item").filter(has_text=f"Ln {BATCH_LINE},").first
        ).to_be_visible(timeout=STEP_MS)
        page.keyboard.press("F9")  # Debug: Toggle Breakpoint
        breakpoints = page.locator(".debug-breakpoints .monaco-list-row")
        expect(breakpoints.filter(has_text="job.py").first).to_be_visible(timeout=STEP_MS)
        run_command(page, "Debug: Select and Start Debugging")
        pick(page, "Interactive Debugging")
        at_breakpoint = stack.filter(has_text="train").filter(has_text=f"{BATCH_LINE}:")
        expect(at_breakpoint.first).to_be_visible(timeout=STEP_MS)
        expect(call_stack_header.first).to_contain_text(
            re.compile("paused on breakpoint", re.IGNORECASE), timeout=STEP_MS
        )
        expect(variables.filter(has_text=re.compile(r"size\s*[:=]?\s*4")).first).to_be_visible(
            timeout=STEP_MS
        )
        expect(variables.filter(has_text="total")).to_have_count(0)
        page.screenshot(path=tmp_path / "interactive-debugging.png")
        stop_debugging(page)

        # "Abort job" in the IDE ends the job with its failure (no re-run).
        run_command(page, "vscode-interactive: Abort job")
        confirm = page.locator(".monaco-dialog-box").get_by_role("button", name="Abort")
        expect(confirm).to_be_visible(timeout=STEP_MS)
        confirm.click()
        assert failed_job.wait(90) == 1
        assert failed_job.stderr.rstrip().splitlines()[-1] == "ZeroDivisionError: division by zero"
        assert "RESULT" not in failed_job.stdout
    except AssertionError:
        page.screenshot(path=tmp_path / "failed.png")
        print("screenshot:", tmp_path / "failed.png")
        print(failed_job.stderr[-3000:])
        raise


def test_with_the_python_debugger_installed_it_serves_the_type_and_ours_stays_out(
    e2e_env: dict[str, str], e2e_workspace: Path, page: Page, tmp_path: Path
) -> None:
    """A stand-in ms-python.debugpy installed beside ours: its factory serves the
    post-mortem (ours registers none, so VS Code raises no 'registered once' error), the
    locals show, and our extension still runs (the status bar's Resume job)."""
    fake = build_vsix(
        "ms-python",
        "debugpy",
        "2099.1.0",
        manifest_extra={
            "main": "./extension.js",
            "engines": {"vscode": "^1.90.0"},
            "activationEvents": ["onDebugResolve:debugpy"],
            "contributes": {"debuggers": [{"type": "debugpy", "label": "Python Debugger"}]},
        },
        files={"extension.js": FAKE_PYTHON_DEBUGGER_JS},
    )
    mark = tmp_path / "served-by-python-debugger"
    script = e2e_workspace / "job.py"
    script.write_text(JOB)
    with LoopbackServer() as server:
        url = server.add("/ms-python.debugpy-2099.1.0.vsix", fake)
        env = dict(e2e_env)
        env["VSCODE_INTERACTIVE_EXTENSIONS"] = f"{url}#sha256={hashlib.sha256(fake).hexdigest()}"
        env["FAKE_PYTHON_DEBUGGER_MARK"] = str(mark)
        job = Job(script, env).start()
        try:
            info = wait_for_session(e2e_workspace, job)
            open_the_job_file(page, str(info["url"]))
            start_post_mortem(page)
            assert mark.read_text() == "Post-mortem: inspect the failure"
            expect(
                page.locator(".statusbar-item").filter(has_text="Resume job").first
            ).to_be_visible(timeout=STEP_MS)
            errors = page.locator(".notifications-toasts, .notification-list-item").filter(
                has_text=re.compile("registered once|already registered", re.IGNORECASE)
            )
            expect(errors).to_have_count(0)
        except AssertionError:
            page.screenshot(path=tmp_path / "failed.png")
            print(job.stderr[-3000:])
            raise
        finally:
            subprocess.run(
                [CLI, "abort", "--yes", "--workspace", str(e2e_workspace)],
                capture_output=True,
                check=False,
                timeout=30,
            )
            job.wait(60)
            job.kill()
