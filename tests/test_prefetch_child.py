"""The background install's child dies with the job, whatever its main thread is doing.

The job's death reaches the child as a SIGTERM (its parent-death signal). Python runs a
signal's handler only in the main thread, and the child's main thread spends the install
blocked (joining the download threads, for as long as a stalled download lasts); a SIGTERM
that another thread takes, or that lands just before the main thread blocks, must still
kill the child's whole group at once. Here the main thread blocks SIGTERM, so the kernel
hands it to another thread every time: the case that once came one run in ten under load.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import kill_leftovers, wait_until, wait_until_gone

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal"),
]

CHILD = """
import os
import signal
import subprocess
import sys
import threading

from vscode_interactive._install._prefetch_child import _die_with_parent

_die_with_parent(os.getppid())
helper = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
reader, _writer = os.pipe()
threading.Thread(target=os.read, args=(reader, 1), daemon=True).start()  # a bystander
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # only this thread
print("READY", helper.pid, flush=True)
threading.Event().wait()  # blocked like the install's main thread, never woken
"""


def _main_thread_sleeping(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :][:1] == "S"


@pytest.fixture
def child(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as the real child has
    )
    yield process
    kill_leftovers([process.pid])
    process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


def test_sigterm_taken_by_another_thread_kills_the_group_at_once(
    child: subprocess.Popen[str],
) -> None:
    """A SIGTERM that a thread other than the (blocked) main thread receives kills the
    child and what it started, without waiting for the main thread to wake."""
    assert child.stdout is not None
    line = child.stdout.readline().split()
    assert line[:1] == ["READY"], line
    helper = int(line[1])
    try:
        wait_until(
            lambda: _main_thread_sleeping(child.pid),
            timeout=30,
            what="the child's main thread to block",
        )
        os.kill(child.pid, signal.SIGTERM)
        wait_until_gone([child.pid, helper], timeout=30)
    finally:
        kill_leftovers([helper])
    assert child.wait(10) == -signal.SIGKILL
