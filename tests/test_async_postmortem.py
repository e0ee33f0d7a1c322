"""Post-mortem on a coroutine's failure under ``Session.arun``, seen through a DAP client.

The job (tests/async_postmortem_job.py) runs in a subprocess, as in tests/test_postmortem.py:
its coroutine raises, the IDE phase in the session's worker thread opens a post-mortem, and
a client attaches. The client must see the coroutine's own frame, and the job's event loop
must keep running while the client holds the failure.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dap import DapClient
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
JOB = ROOT / "tests" / "async_postmortem_job.py"
RAISING_LINE = next(
    i for i, text in enumerate(JOB.read_text().splitlines(), 1) if "# RAISING LINE" in text
)
TIMEOUT = 60.0


class AsyncJob:
    """The job subprocess: one command line in, one answer line out."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PYDEVD_DISABLE_FILE_VALIDATION", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.async_postmortem_job"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def expect(self, prefix: str) -> str:
        try:
            line = self._lines.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"the job said nothing for {TIMEOUT:g} s") from None
        assert line is not None, f"the job ended: {self.finish()}"
        assert line.startswith(prefix), line
        return line[len(prefix) :]

    def ask(self, command: str, answer: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.expect(answer)

    def ticks(self) -> int:
        return int(self.ask("ticks", "ticks "))

    def finish(self) -> str:
        if self.process.poll() is None:
            self.process.kill()
        _, err = self.process.communicate(timeout=TIMEOUT)
        return err


@pytest.fixture
def job() -> Iterator[AsyncJob]:
    process = AsyncJob()
    try:
        yield process
    finally:
        process.finish()


def test_the_coroutines_frame_is_shown_while_the_event_loop_keeps_running(
    job: AsyncJob,
) -> None:
    """Attached to the failure of an ``async def``: the client stops in the coroutine's
    raising frame with its live locals and evaluates there; meanwhile the job's ticker task
    keeps running (the loop's thread is not suspended); after a resume the session closes
    the post-mortem and goes on."""
    port = int(job.expect("port "))
    client = DapClient.connect(port)
    with client:
        client.attach()
        stopped = client.wait_event("stopped")
        frames = client.stack_trace(stopped["threadId"])
        top = frames[0]
        assert stopped["reason"] == "exception"
        assert (top["name"], Path(top["source"]["path"]), top["line"]) == (
            "divide",
            JOB,
            RAISING_LINE,
        )
        assert {"a": "1", "b": "0", "scale": "2"}.items() <= client.locals_of(top["id"]).items()
        assert client.evaluate("scale / 4", top["id"]) == "0.5"

        start = job.ticks()
        wait_until(  # the job answers from the (untraced) worker thread
            lambda: job.ticks() >= start + 50,
            timeout=TIMEOUT,
            what="50 ticks of the event loop while the failure is held",
        )
        assert client.stack_trace(stopped["threadId"])[0]["name"] == "divide"  # still held
        client.disconnect()
    assert job.ask("resume", "value ") == "raised again"
    assert job.process.wait(TIMEOUT) == 0
