"""Post-mortem on a coroutine's failure under ``Session.arun``, seen through a DAP client.

The job (tests/async_postmortem_job.py) runs in a subprocess, as in tests/test_postmortem.py:
its coroutine raises, the IDE phase in the session's worker thread opens a post-mortem, and
a client attaches. The client must see the coroutine's own frame, and the job's event loop
must keep running while the client holds the failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dap import DapClient
from tests.line_job import ROOT, LineJob
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

JOB = ROOT / "tests" / "async_postmortem_job.py"
RAISING_LINE = next(
    i for i, text in enumerate(JOB.read_text().splitlines(), 1) if "# RAISING LINE" in text
)
TIMEOUT = 60.0


class AsyncJob(LineJob):
    """The job subprocess: one command line in, one answer line out."""

    exit_command = None  # it knows no "exit": finish() kills it

    def __init__(self) -> None:
        super().__init__("tests.async_postmortem_job", timeout=TIMEOUT)

    def ticks(self) -> int:
        return int(self.ask("ticks", "ticks "))


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
