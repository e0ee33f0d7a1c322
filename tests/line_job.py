"""A job subprocess driven over its stdin and stdout: one command line in, one answer line out.

The post-mortem tests run their jobs (``tests/postmortem_job.py``,
``tests/async_postmortem_job.py``) this way, since a debugger that suspends threads must not
share a process with pytest::

    job = LineJob("tests.postmortem_job")
    port = int(job.expect("port "))       # the rest of the next line, which must start so
    state = job.ask("state", "state ")    # send a command, expect its answer
    stderr = job.finish()                 # end it (asked to exit, killed if it will not)
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["ROOT", "LineJob"]

ROOT = Path(__file__).resolve().parents[1]


class LineJob:
    """``python -m <module>`` in the repository root, its stdout read line by line."""

    exit_command: str | None = "exit"
    """What :meth:`finish` sends before it closes stdin (``None``: it kills the job)."""

    def __init__(self, module: str, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PYDEVD_DISABLE_FILE_VALIDATION", None)  # the library sets it itself
        self.process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._stderr: str | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                self._lines.put(line.rstrip("\n"))
        except ValueError:  # closed by finish()
            pass
        self._lines.put(None)

    def expect(self, prefix: str, timeout: float | None = None) -> str:
        """The rest of the next stdout line, which must start with ``prefix``."""
        timeout = self.timeout if timeout is None else timeout
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the job said nothing for {timeout:g} s") from None
        if line is None:
            raise AssertionError(f"the job ended: {self.finish()}")
        assert line.startswith(prefix), line
        return line[len(prefix) :]

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def ask(self, command: str, answer: str) -> str:
        """Send ``command`` and return the rest of the answer line starting with ``answer``."""
        self.send(command)
        return self.expect(answer)

    def finish(self) -> str:
        """End the job; its stderr (the same on every call)."""
        if self._stderr is not None:
            return self._stderr
        if self.process.poll() is None:
            self._stop()
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):  # a pipe to a job that died may not flush
            self.process.stdin.close()
        assert self.process.stderr is not None and self.process.stdout is not None
        with self.process.stderr:
            stderr = self.process.stderr.read()
        self.process.stdout.close()
        self._stderr = stderr
        return stderr

    def _stop(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        if self.exit_command is not None and not stdin.closed:
            try:
                stdin.write(self.exit_command + "\n")
                stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=self.timeout)
                return
            except subprocess.TimeoutExpired:
                pass
        self.process.kill()
        self.process.wait()
