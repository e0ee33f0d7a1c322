"""What the IDE's terminal starts never outlives the session, on the real code-server.

A job opens a real code-server; headless Chromium opens the workbench and its integrated
terminal and types ``nohup sleep N &`` and ``setsid sleep M &`` there, as a user would
(each in its own session after the shell, SIGHUP ignored by nohup). Whether the session
then ends by resume, by SIGTERM to the job or by idle timeout, neither sleep is left.

Two things of VS Code's own make keys typed into a fresh window go nowhere, so the test
waits them out instead of racing them: the job's greeting opens the front page (a Markdown
preview that takes the focus) once the window's extension host is up, and a terminal
nobody typed into yet is *relaunched* (a new shell, what was typed lost) when an extension
adds to the terminals' environment, which the built-in git extension does at start-up.
Hence: wait for the greeting, type, and type again in the new shell if the one typed into
was replaced before the sleeps appeared. The sleeps are named per run (the pytest
process's pid), so runs of this file side by side on one machine do not count or kill
each other's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.support import CLI, Job, wait_for, wait_for_session
from vscode_interactive._supervision._guardian import descendants, live_processes

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
_TYPINGS = 3  # a terminal is relaunched at most once in practice; 3 leaves room


def _proc_bytes(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def _sleeps(tag: str) -> list[int]:
    """Live processes that are exactly ``sleep <tag>1`` or ``sleep <tag>2``."""
    names = [[b"sleep", f"{tag}{n}".encode()] for n in (1, 2)]
    return [
        pid
        for pid, _ppid, _pgrp in live_processes() or []
        if _proc_bytes(pid, "cmdline").split(b"\0")[:-1] in names
    ]


def _both_sleeps(tag: str) -> list[int] | None:
    """Every live ``sleep <tag>N``, once both the nohup and the setsid one run."""
    found = _sleeps(tag)
    started = {_proc_bytes(pid, "cmdline") for pid in found}
    return found if len(started) == 2 else None


def _exe(pid: int) -> str | None:
    try:
        return str(Path(f"/proc/{pid}/exe").readlink())
    except OSError:
        return None


def _start_time(pid: int) -> int:
    stat = _proc_bytes(pid, "stat").decode(errors="replace")
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else 0


def _terminal_shell(job_pid: int) -> int | None:
    """The newest shell run by the pty host of this job's code-server (None until one runs).

    Only this job's processes count: other sessions on the machine have terminals too. A
    pty host's children are its shells, apart from helpers running its own executable.
    """
    table = live_processes() or []
    parent = {pid: ppid for pid, ppid, _pgrp in table}
    below = descendants(job_pid, table)
    hosts = {pid for pid in below if b"ptyHost" in _proc_bytes(pid, "cmdline")}
    shells = [
        pid
        for pid in below
        if parent.get(pid) in hosts and _exe(pid) not in (None, _exe(parent[pid]))
    ]
    return max(shells, key=_start_time) if shells else None


def _open_a_terminal(page: Page, url: str) -> Locator:
    """Open the workbench, wait until the job greeted it, then open an integrated terminal."""
    page.goto(url)
    expect(page.locator(".monaco-workbench")).to_be_visible(timeout=_WORKBENCH_MS)
    # The greeting brings the front page to the front and takes the focus: wait it out,
    # or it closes the palette or swallows the keys meant for the terminal.
    tabs = page.locator(".tabs-container").get_by_role("tab")
    expect(tabs.and_(page.locator('[aria-label="DEBUGGING.md"]'))).to_have_attribute(
        "aria-selected", "true", timeout=_WORKBENCH_MS
    )
    terminal = page.locator(".terminal-wrapper .xterm").first
    for _ in range(4):  # should the palette still lose the focus, open it again
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
    return terminal


def _start_strays_in_the_terminal(page: Page, url: str, tag: str, job: Job) -> list[int]:
    terminal = _open_a_terminal(page, url)
    assert job.process is not None
    job_pid = job.process.pid
    command = f"nohup sleep {tag}1 >/dev/null 2>&1 & setsid sleep {tag}2 >/dev/null 2>&1 &"
    replaced: list[int] = []
    for _ in range(_TYPINGS):
        # Type only once the terminal's shell runs (keys sent before reach no shell).
        shell = wait_for(
            lambda: _terminal_shell(job_pid),
            timeout=_WORKBENCH_MS / 1000,
            what="the terminal's shell",
        )
        terminal.click()
        page.keyboard.type(command)
        page.keyboard.press("Enter")

        def started_or_replaced(shell: int = shell) -> list[int] | None:
            job.check_running()
            found = _both_sleeps(tag)
            if found is not None:
                return found
            return [] if _terminal_shell(job_pid) != shell else None

        strays = wait_for(
            started_or_replaced,
            timeout=_WORKBENCH_MS / 1000,
            what=f"the two sleeps typed in the terminal (shell {shell})",
        )
        if strays:
            return strays
        replaced.append(shell)
        print(f"the terminal's shell {shell} was replaced before the command ran: typing again")
    raise AssertionError(
        f"the terminal's shell was replaced {len(replaced)} times ({replaced}) before "
        "the typed command ran"
    )


@pytest.mark.parametrize("how", ["resume", "sigterm", "idle"])
def test_what_the_terminal_starts_is_gone_when_the_session_ends(
    e2e_env: dict[str, str], e2e_workspace: Path, page: Page, how: str
) -> None:
    """``nohup sleep &`` and ``setsid sleep &`` typed in the real IDE terminal are gone
    after a resume, a SIGTERM to the job, or an idle timeout."""
    tag = f"{os.getpid()}{('resume', 'sigterm', 'idle').index(how)}"  # this run's own
    script = e2e_workspace / "job.py"
    script.write_text(_JOB.format(idle=60 if how == "idle" else 600))
    job = Job(script, e2e_env).start()
    strays: list[int] = []
    try:
        status = wait_for_session(e2e_workspace, job)
        strays = _start_strays_in_the_terminal(page, str(status["url"]), tag, job)
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
