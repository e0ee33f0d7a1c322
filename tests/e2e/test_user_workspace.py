"""The user's own project in the real IDE: their launch configurations and settings next
to ours, and nothing of the session left in their tree.

A git project with its own ``.vscode/launch.json`` ("My App") and ``.vscode/settings.json``
fails under ``Session.run``; in headless Chromium (Playwright) the workbench that opens shows
the user's settings at work (their window title, their indentation in the status bar) and
Run and Debug lists "My App" beside our configurations. The user edits a file and adds one,
resumes, and ``git status --porcelain`` then shows exactly those two edits: the session
wrote nothing outside its git-ignored state directory and left ``.vscode/`` byte for byte.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.support import SessionThread, log_in
from tests.e2e.test_first_minute import STEP_MS, WORKBENCH_MS, editor_tab

pytestmark = pytest.mark.e2e

JOB = '''"""A training job with a bug."""


def train(rate):
    if rate > 1:
        raise ValueError(f"rate {rate} is too high")
    return rate * 2
'''
LAUNCH = {
    "version": "0.2.0",
    "configurations": [
        {
            "name": "My App",
            "type": "debugpy",
            "request": "launch",
            "program": "${workspaceFolder}/train_job.py",
        }
    ],
}
SETTINGS = {
    "window.title": "MY-PROJECT-TITLE ${activeEditorShort}",
    "editor.tabSize": 7,
    "editor.detectIndentation": False,
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=e2e@example.com", "-c", "user.name=e2e", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A committed git project with its own .vscode/launch.json and settings.json."""
    workspace = tmp_path / "project"
    (workspace / ".vscode").mkdir(parents=True)
    (workspace / "train_job.py").write_text(JOB)
    (workspace / ".vscode" / "launch.json").write_text(json.dumps(LAUNCH, indent=2))
    (workspace / ".vscode" / "settings.json").write_text(json.dumps(SETTINGS, indent=2))
    git(workspace, "init", "-q")
    git(workspace, "add", ".")
    git(workspace, "commit", "-qm", "the project")
    sys.path.insert(0, str(workspace))
    try:
        yield workspace
    finally:
        sys.path.remove(str(workspace))
        sys.modules.pop("train_job", None)


def debug_configurations(page: Page) -> list[str]:
    """The entries of Run and Debug's configuration dropdown (VS Code's action widget:
    opened, read, closed).

    Under load the view may still be laying out when the button is first clickable, and
    that click opens nothing: the button is clicked again (while no menu is open) until the
    menu shows, within STEP_MS."""
    button = page.get_by_role("button", name=re.compile("^Debug Launch Configurations"))
    entries = page.get_by_role("menu", name="Action Widget").get_by_role("menuitemcheckbox")
    deadline = time.monotonic() + STEP_MS / 1000
    while True:
        if entries.count() == 0:
            button.click(timeout=STEP_MS)
        try:
            entries.first.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
    names = [text.strip() for text in entries.all_inner_texts()]
    page.keyboard.press("Escape")
    expect(entries).to_have_count(0, timeout=STEP_MS)
    return names


def test_their_configurations_and_settings_apply_and_git_sees_only_their_edits(
    real_code_server: Path, page: Page, project: Path, tmp_path: Path
) -> None:
    """Window title and indentation come from the user's settings; Run and Debug lists
    "My App" and "Interactive Debugging"; after an edit, a new file and a resume, `git
    status --porcelain` is exactly those two, and .vscode/ is unchanged."""
    train = importlib.import_module("train_job").train
    before = {p.name: p.read_bytes() for p in (project / ".vscode").iterdir()}
    with SessionThread(real_code_server, project, tmp_path / "state", train, 3) as running:
        layout = running.layout
        log_in(page, str(running.wait_running()["url"]), layout)
        try:
            expect(editor_tab(page, "train_job.py")).to_be_visible(timeout=WORKBENCH_MS)
        except AssertionError:
            page.screenshot(path=tmp_path / "no-workbench.png")
            raise
        # Their settings: a window-scoped one (the title) and a resource-scoped one.
        expect(page).to_have_title(re.compile("MY-PROJECT-TITLE"), timeout=STEP_MS)
        editor_tab(page, "train_job.py").click()
        indentation = page.locator(".statusbar-item").filter(has_text=re.compile(r"^Spaces: "))
        expect(indentation).to_have_text("Spaces: 7", timeout=STEP_MS)
        # Their launch configuration and ours, side by side in Run and Debug.
        page.keyboard.press("Control+Shift+D")
        names = debug_configurations(page)
        assert "My App (project)" in names, names  # theirs, from .vscode/launch.json
        assert "Interactive Debugging (workspace)" in names, names  # ours, from the workspace
        assert "Resume Task (workspace)" in names, names

        (project / "train_job.py").write_text(JOB.replace("rate > 1", "rate > 5"))
        (project / "notes.md").write_text("what I found\n")
        assert running.resume() == [6]
    assert git(project, "status", "--porcelain").splitlines() == [
        " M train_job.py",
        "?? notes.md",
    ]
    assert {p.name: p.read_bytes() for p in (project / ".vscode").iterdir()} == before
    patch = layout.changes_patch.read_text()
    assert "+++ b/train_job.py" in patch and "+++ b/notes.md" in patch
