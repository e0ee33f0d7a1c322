"""A job process for the async post-mortem test, driven line by line over stdin/stdout.

``divide`` is an ``async def`` that raises; ``Session.arun`` runs it next to a ticker task.
The session opens the real post-mortem on the failure (in its worker thread); the fake
supervision prints ``port <n>`` and answers one command per line::

    ticks   -> ticks <n>    (how often the event loop's ticker ran so far)
    resume  -> the session closes the post-mortem and resumes; the call fails again, the
               next round is aborted: value raised again
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
    await asyncio.sleep(0)  # the coroutine really suspends before it raises: not a wait
    return scale / b  # RAISING LINE


class PostMortemSteps(FakeSteps):
    """The real post-mortem; install and prepare as the fakes do; the first supervision is
    driven over stdin, the second is aborted."""

    def post_mortem(self, failure: BaseException) -> Any:
        return open_post_mortem(failure)

    def supervise(
        self,
        options: Any,
        *,
        failure_summary: Any,
        interrupts: Any = None,
        while_starting: Any = None,
    ) -> Any:
        if while_starting is not None:
            while_starting()
        if self.results:
            return self.results.pop(0)
        port = self.endpoints[-1][1] if self.endpoints[-1] else None
        print(f"port {port}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "ticks":
                print(f"ticks {TICKS[0]}", flush=True)
            elif command == "resume":
                break
        self.results.append(result(Outcome.ABORTED))
        return result(Outcome.RESUMED)


async def ticker() -> None:
    while True:
        TICKS[0] += 1
        await asyncio.sleep(0.005)  # the ticker's pace (its count proves the loop runs): not a wait


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
