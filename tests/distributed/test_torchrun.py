"""Two-rank jobs under ``torchrun --standalone`` with the gloo backend on CPU.

The job (``JOB`` below, written to a temporary workspace) initializes the process group
with a short collective timeout, then calls a decorated ``train`` that raises on the ranks
in ``FAIL_ON``: the other rank waits in its next ``all_reduce`` until gloo times out. The
IDE is the fake code-server; the test edits ``FAIL_ON`` like a user fixing the bug and runs
``vscode-interactive resume --yes``. Every wait is a condition with a deadline.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.session_harness import cli, job_environment, read_pids, read_session_info
from tests.waiting import kill_leftovers, wait_until, wait_until_gone
from vscode_interactive._layout import StateLayout

pytestmark = [pytest.mark.distributed, pytest.mark.integration]

DEADLINE = 120.0  # two ranks, torch imports and a gloo timeout on a loaded 2-core machine
GLOO_TIMEOUT = 8  # seconds: how long the healthy rank waits in its collective

JOB = """
import datetime
import logging
import os

import torch
import torch.distributed as dist

from vscode_interactive import SessionConfig, vscode

FAIL_ON = {fail_on}  # the bug: these ranks raise


@vscode(
    session_config=SessionConfig(check_interval=0.2, grace_seconds=2),
    run_task_first=True,
    port=0,
    auth="none",
    max_idle_seconds={idle},
    workspace_dir={workspace!r},
    start_timeout=60,
)
def train(rank):
    total = torch.ones(1) * (rank + 1)
    dist.all_reduce(total)  # 1 + 2 = 3 on both ranks
    if rank in FAIL_ON:
        raise ValueError(f"rank {{rank}}: bad learning rate")
    dist.all_reduce(total)  # a rank whose peer raised waits here until gloo times out
    return total.item()


if __name__ == "__main__":
    rank = int(os.environ["RANK"])
    logging.basicConfig(level=logging.INFO, format=f"[rank {{rank}}] %(message)s")
    print(f"PID rank={{rank}} pid={{os.getpid()}}", flush=True)
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds={gloo_timeout}))
    value = train(rank)
    print(f"RESULT rank={{rank}} value={{value}}", flush=True)
    dist.destroy_process_group()
"""


@dataclass
class TorchrunJob:
    """A ``torchrun`` process whose output is collected into a file as it runs."""

    workspace: Path
    script: Path
    output: Path
    pids_file: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    extra_pids: list[int] = field(default_factory=list)

    @property
    def layout(self) -> StateLayout:
        return StateLayout.for_workspace(self.workspace)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        def met() -> bool:
            if condition():
                return True
            if self.process.poll() is not None and not condition():
                raise AssertionError(f"torchrun exited before {what}:\n{self.text()}")
            return False

        try:
            wait_until(met, timeout=DEADLINE, what=what, interval=0.05)
        except AssertionError as error:
            raise AssertionError(f"{error}:\n{self.text()}") from None

    def wait_in_output(self, pattern: str) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def seen() -> bool:
            match = re.search(pattern, self.text())
            if match:
                found.append(match)
            return match is not None

        self.wait_for(seen, repr(pattern))
        return found[0]

    def session_info(self) -> dict[str, object]:
        return read_session_info(self.layout)

    def wait_running(self) -> dict[str, object]:
        self.wait_for(lambda: self.session_info().get("state") == "running", "the IDE")
        return self.session_info()

    def finish(self) -> int:
        try:
            self.process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"torchrun never exited:\n{self.text()}") from None
        return self.process.returncode

    def rank_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"PID rank=\d pid=(\d+)", self.text())]

    def server_pids(self) -> list[int]:
        return read_pids(self.pids_file, missing_ok=True)

    def fix(self) -> None:
        """What the user does in the IDE: remove the bug and save."""
        source = self.script.read_text()
        self.script.write_text(re.sub(r"FAIL_ON = \{[^}]*\}", "FAIL_ON = set()", source))

    def fix_and_resume(self) -> str:
        """Fix, ``resume --yes``: torchrun exits 0 with both ranks' fixed results; its output."""
        self.fix()
        resumed = self.cli("resume", "--yes")
        assert resumed.returncode == 0, resumed.stderr
        assert self.finish() == 0, self.text()
        text = self.text()
        assert "RESULT rank=0 value=6.0" in text and "RESULT rank=1 value=6.0" in text
        return text

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, "--workspace", str(self.workspace), env=self.env)


@pytest.fixture
def job_env(tmp_path: Path) -> dict[str, str]:
    """A job environment on the fake code-server that downloads nothing."""
    return job_environment(
        tmp_path,
        drop_prefixes=("TORCHELASTIC_",),
        drop_names=("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"),
        OMP_NUM_THREADS="1",
    )


@pytest.fixture
def torchrun(tmp_path: Path, job_env: dict[str, str]) -> Iterator[Callable[..., TorchrunJob]]:
    """Start ``torchrun --standalone --nproc-per-node=2`` on the job; clean up after."""
    started: list[TorchrunJob] = []

    def start(fail_on: set[int], idle: float = 300.0) -> TorchrunJob:
        workspace = tmp_path / "ws"
        workspace.mkdir()
        script = workspace / "train.py"
        script.write_text(
            textwrap.dedent(JOB).format(
                fail_on=fail_on or "set()",
                idle=idle,
                workspace=str(workspace),
                gloo_timeout=GLOO_TIMEOUT,
            )
        )
        output = tmp_path / "torchrun.log"
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "torch.distributed.run",
                    "--standalone",
                    "--nproc-per-node=2",
                    str(script),
                ],
                cwd=workspace,
                env=job_env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        job = TorchrunJob(workspace, script, output, tmp_path / "pids.json", process, job_env)
        started.append(job)
        return job

    yield start
    for job in started:
        if job.process.poll() is None:
            os.killpg(job.process.pid, signal.SIGKILL)
            job.process.wait()
        kill_leftovers(job.rank_pids() + job.server_pids())


def _one_ide(text: str) -> None:
    assert text.count("VS Code is ready in your browser") == 1, text
    assert text.count("started code-server") == 1, text
    assert "Address already in use" not in text


def test_rank_1_fails_rank_0_parks_and_both_resume(torchrun: Callable[..., TorchrunJob]) -> None:
    """Rank 1 raises and hosts the one IDE; rank 0 parks after its collective times out;
    fix + resume -> both ranks finish with the fixed code and torchrun exits 0."""
    job = torchrun({1})
    info = job.wait_running()
    job.wait_in_output(r"\[rank 0\] rank 0 on \S+ parked after RuntimeError: Timed out")
    job.wait_in_output(r"\[rank 0\] rank 0 is parked; the job's IDE \(rank 1 on \S+\) is at http")
    text = job.text()
    assert "ValueError: rank 1: bad learning rate (rank 1 of 2 on" in text
    assert "hosts the IDE for the whole job)" in text
    page = job.layout.front_page
    job.wait_for(lambda: "| 0 |" in page.read_text(), "rank 0 in the front page's table")
    assert "| **1** (this IDE) |" in page.read_text()
    assert str(info["url"]).startswith("http://127.0.0.1:")

    text = job.fix_and_resume()
    assert "rebuilt the default process group (gloo, rank 0 of 2" in text
    _one_ide(text)
    wait_until_gone(job.rank_pids() + job.server_pids())


def test_ranks_failing_at_once_get_one_ide_listing_both(
    torchrun: Callable[..., TorchrunJob],
) -> None:
    """Both ranks raise at once: one IDE (rank 0), its front page lists both failures;
    the fix resumes both."""
    job = torchrun({0, 1})
    job.wait_running()
    job.wait_in_output(r"\[rank 1\] rank 1 on \S+ parked after ValueError: rank 1")
    page = job.layout.front_page.read_text()
    assert "2 of 2 ranks stopped; rank 0 hosts this IDE" in page
    assert "`ValueError: rank 0: bad learning rate`" in page
    assert "`ValueError: rank 1: bad learning rate`" in page
    row = (
        r"\| 1 \| `[^`]+` \| `ValueError: rank 1: bad learning rate` "
        r"\| `\S*train\.py:\d+ in train` \|"
    )
    assert re.search(row, page), page

    text = job.fix_and_resume()
    _one_ide(text)
    wait_until_gone(job.rank_pids() + job.server_pids())


def test_idle_timeout_fails_both_ranks(torchrun: Callable[..., TorchrunJob]) -> None:
    """Nobody uses the IDE: both ranks raise IdleTimeoutError (each from its own failure),
    torchrun exits non-zero, and no process is left."""
    job = torchrun({1}, idle=GLOO_TIMEOUT + 6)
    job.wait_running()
    code = job.finish()
    text = job.text()
    assert code != 0
    # Each rank says why it stops before it raises (torchrun kills the other ranks as soon
    # as one exits, possibly before their tracebacks are printed).
    stops = r"\[rank {0}\] rank {0} of 2 \(torchrun\) stops with IdleTimeoutError: "
    assert re.search(stops.format(1) + "the IDE at", text)
    assert re.search(stops.format(0) + "rank 0 (was parked|stopped)", text)
    # ... and chains it to its own failure.
    assert re.search(r"\[rank\d\]: vscode_interactive\._errors\.IdleTimeoutError", text)
    assert "The above exception was the direct cause of the following exception" in text
    _one_ide(text)
    wait_until_gone(job.rank_pids() + job.server_pids())
