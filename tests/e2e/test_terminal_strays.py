"""What the IDE's terminal starts never outlives the session, on the real code-server.

A job opens a real code-server; headless Chromium opens the workbench and its integrated
terminal and types ``nohup sleep N &`` and ``setsid sleep M &`` there, as a user would
(each in its own session after the shell, SIGHUP ignored by nohup). Whether the session
then ends by resume, by SIGTERM to the job or by idle timeout, neither sleep is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import CLI, Job, code_server_processes, wait_for, wait_for_session

pytestmark = pytest.mark.e2e

_JOB = """\
import logging

from vscode_interactive import Session, SessionConfig

logging.basicConfig(level=logging.INFO)


def compute(value: int) -> float:
    return value / 0  # BUG


if __name__ == "__main__":
    config = SessionConfig(
        port=0,
        auth="none",
        run_task_first=True,
        max_idle_seconds={idle},
        check_interval=0.5,
        grace_seconds=2.0,
    )
    print("RESULT", Session(config).run(compute, 84), flush=True)
"""

_WORKBENCH_MS = 120_000
_STEP_MS = 30_000


def _sleeps(tag: str) -> list[int]:
    """Live processes running ``sleep <tag>...`` (the ones the terminal started)."""
    return [pid for pid, _cmdline in code_server_processes(Path(f"sleep {tag}"))]


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rfind(")") + 2 :].split()


def _terminal_shell() -> int | None:
    """The pid of a shell that code-server's pty host started, once there is one."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int(_stat_fields(int(entry.name))[1])
            if b"ptyHost" in Path(f"/proc/{parent}/cmdline").read_bytes():
                return int(entry.name)
    return None


def _start_strays_in_the_terminal(page: Page, url: str, tag: str) -> list[int]:
    page.goto(url)
    expect(page.locator(".monaco-workbench")).to_be_visible(timeout=_WORKBENCH_MS)
    terminal = page.locator(".terminal-wrapper .xterm").first
    for _ in range(4):  # the loading workbench may take the focus or the palette away
        with contextlib.suppress(AssertionError):
            page.keyboard.press("Escape")
            page.keyboard.press("F1")
            palette = page.locator(".quick-input-widget input")
            expect(palette).to_be_visible(timeout=_STEP_MS)
            palette.fill(">Terminal: Create New Terminal")
            expect(page.locator(".quick-input-list")).to_contain_text(
                "Create New Terminal", timeout=_STEP_MS
            )
            page.keyboard.press("Enter")
            expect(terminal).to_be_visible(timeout=_STEP_MS)
            break
    expect(terminal).to_be_visible(timeout=_STEP_MS)
    # Type only once the terminal's shell runs (keys sent before reach no shell).
    wait_for(_terminal_shell, timeout=_WORKBENCH_MS / 1000, what="the terminal's shell")
    terminal.click()
    command = f"nohup sleep {tag}1 >/dev/null 2>&1 & setsid sleep {tag}2 >/dev/null 2>&1 &"
    page.keyboard.type(command)
    page.keyboard.press("Enter")

    def both() -> list[int] | None:
        found = _sleeps(tag)
        return found if len(found) == 2 else None

    return wait_for(both, timeout=_WORKBENCH_MS / 1000, what="the two sleeps typed in the terminal")


@pytest.mark.parametrize("how", ["resume", "sigterm", "idle"])
def test_what_the_terminal_starts_is_gone_when_the_session_ends(
    e2e_env: dict[str, str], e2e_workspace: Path, page: Page, how: str
) -> None:
    """``nohup sleep &`` and ``setsid sleep &`` typed in the real IDE terminal are gone
    after a resume, a SIGTERM to the job, or an idle timeout."""
    tag = {"resume": "7771", "sigterm": "7772", "idle": "7773"}[how]
    script = e2e_workspace / "job.py"
    script.write_text(_JOB.format(idle=60 if how == "idle" else 600))
    job = Job(script, e2e_env).start()
    strays: list[int] = []
    try:
        status = wait_for_session(e2e_workspace, job)
        strays = _start_strays_in_the_terminal(page, str(status["url"]), tag)
        page.goto("about:blank")  # a closed tab: only the idle clock is left to end it
        if how == "resume":
            script.write_text(script.read_text().replace("value / 0  # BUG", "value / 2"))
            done = subprocess.run(
                [CLI, "resume", "--yes", "--workspace", str(e2e_workspace)],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            assert job.wait(240) == 0, job.describe()
        elif how == "sigterm":
            assert job.process is not None
            job.process.send_signal(signal.SIGTERM)
            assert job.wait(240) == 128 + signal.SIGTERM, job.describe()
        else:
            assert job.wait(400) == 1, job.describe()
            assert "IdleTimeoutError" in job.stderr
        left = wait_for(
            lambda: True if not _sleeps(tag) else None,
            timeout=60,
            what=f"the terminal's sleeps {strays} to end",
        )
        assert left
    finally:
        job.kill()
        for pid in _sleeps(tag):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
