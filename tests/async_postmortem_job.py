"""A job process for the async post-mortem test, driven line by line over stdin/stdout.

``divide`` is an ``async def`` that raises; ``Session.arun`` runs it next to a ticker task.
The IDE phase (fake steps, in the session's worker thread) opens a post-mortem on the
failure, as a session does, and prints ``port <n>``; then it answers one command per line::

    ticks  -> ticks <n>     (how often the event loop's ticker ran so far)
    close  -> (release the failure; the session resumes, the call fails again) value <...>
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.fakes import FakeEnvironment
from tests.test_session import FakeSteps, result
from vscode_interactive import Session, SessionConfig
from vscode_interactive._debug._postmortem import open_post_mortem
from vscode_interactive._supervision._policy import Outcome

TICKS = [0]


async def divide(a: float, b: float) -> float:
    scale = a * 2
    await asyncio.sleep(0)
    return scale / b  # RAISING LINE


class PostMortemSteps(FakeSteps):
    """Install and prepare as the fakes do; supervise = a post-mortem driven over stdin."""

    def supervise(self, options: Any, *, failure_summary: Any, interrupts: Any = None) -> Any:
        failure = self.failures_shown[-1]
        assert failure is not None
        post_mortem = open_post_mortem(failure)
        print(f"port {post_mortem.port}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "ticks":
                print(f"ticks {TICKS[0]}", flush=True)
            elif command == "close":
                post_mortem.close()
                break
        return result(Outcome.RESUMED)


async def ticker() -> None:
    while True:
        TICKS[0] += 1
        await asyncio.sleep(0.005)


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="vi-async-postmortem-"))
    session = Session(
        SessionConfig(workspace_dir=tmp / "ws", run_task_first=True),
        _env=FakeEnvironment({}),
        _steps=PostMortemSteps(tmp, []),
    )
    ticking = asyncio.create_task(ticker())
    try:
        value: object = await session.arun(divide, 1, 0)
    except ZeroDivisionError:
        value = "raised again"
    finally:
        ticking.cancel()
    print(f"value {value}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
