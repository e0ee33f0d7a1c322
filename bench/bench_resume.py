"""Resume latency: from ``vscode-interactive resume --yes`` to the reloaded function starting.

A job subprocess runs ``Session(SessionConfig(run_task_first=True, port=0, auth="none"))
.run(compute, i)`` for rounds ``i = 0..N-1`` on the real code-server (archive from
``scripts/build_code_server.sh``, installed once, warm). ``compute(i)`` fails until the file
``fixed-i`` exists (the "fix"); once it runs it writes ``time.monotonic()`` (one clock for
every process on Linux) to ``started-i`` first thing. Per round, once the IDE is up:

* baseline: ``vscode-interactive status --json --workspace WS``, a CLI start plus one round
  trip to the same session;
* ours: create ``fixed-i``, note the time, run ``vscode-interactive resume --yes --workspace
  WS``; the latency ends when the reloaded ``compute`` starts (read from ``started-i``). It
  covers the CLI, the request, stopping code-server's whole process group (SIGTERM; Node
  shuts down), reloading the job's source and calling the function.

    python -m bench.bench_resume --archive PATH [--repeat N]

(``--archive`` defaults to ``$VSCODE_INTERACTIVE_E2E_ARCHIVE``.) Target: < 1 s (median).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._timing import Measurement, machine_summary, parse_archive_args, real_archive_env, report
from vscode_interactive._errors import ResumeError
from vscode_interactive._layout import StateLayout
from vscode_interactive._supervision._channel import request_status

CLI = str(Path(sys.executable).with_name("vscode-interactive"))

_JOB = """\
import sys
import time
from pathlib import Path

from vscode_interactive import Session, SessionConfig

HERE = Path(__file__).resolve().parent


def compute(round_no: int) -> int:
    started = time.monotonic()
    if not (HERE / f"fixed-{round_no}").exists():
        raise RuntimeError(f"round {round_no} is not fixed yet")
    (HERE / f"started-{round_no}").write_text(repr(started))
    return round_no


if __name__ == "__main__":
    for round_no in range(int(sys.argv[1])):
        config = SessionConfig(port=0, auth="none", run_task_first=True)
        print("done", Session(config).run(compute, round_no), flush=True)
"""


def _env(archive: Path, tmp: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("VSCODE_INTERACTIVE_") and key != "PASSWORD"
    }
    env.update(real_archive_env(archive, tmp))
    return env


def _wait_running(state_dir: Path, previous_server: object, job: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if job.poll() is not None:
            raise RuntimeError(f"the job exited with code {job.returncode}")
        try:
            status = request_status(state_dir, timeout=2)
        except ResumeError:
            status = {}
        if status.get("state") == "running" and status.get("server_pid") != previous_server:
            return
        time.sleep(0.05)
    raise RuntimeError("no running session within 300 s")


def _cli(*args: str) -> float:
    start = time.monotonic()
    subprocess.run([CLI, *args], check=True, capture_output=True, timeout=60)
    return start


def main(argv: list[str] | None = None) -> int:
    args = parse_archive_args(__doc__, argv, repeat=7)

    tmp = Path(tempfile.mkdtemp(prefix="bench-resume-"))
    workspace = tmp / "workspace"
    workspace.mkdir()
    (workspace / "job.py").write_text(_JOB)
    state_dir = StateLayout.for_workspace(workspace).root
    rounds = args.repeat + 1  # the first round warms the page cache and the imports
    with (tmp / "job.log").open("wb") as log:
        job = subprocess.Popen(
            [sys.executable, "job.py", str(rounds)],
            cwd=workspace,
            env=_env(args.archive.absolute(), tmp),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    status_times: list[float] = []
    resume_times: list[float] = []
    ack_times: list[float] = []
    try:
        server: object = None
        for round_no in range(rounds):
            _wait_running(state_dir, server, job)
            server = request_status(state_dir)["server_pid"]
            before = _cli("status", "--json", "--workspace", str(workspace))
            status_time = time.monotonic() - before
            (workspace / f"fixed-{round_no}").touch()
            start = _cli("resume", "--yes", "--workspace", str(workspace))
            acked = time.monotonic() - start
            started_file = workspace / f"started-{round_no}"
            deadline = time.monotonic() + 60
            while not started_file.exists() or not started_file.read_text():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"round {round_no}: the function never restarted")
                time.sleep(0.005)
            latency = float(started_file.read_text()) - start
            if round_no:
                status_times.append(status_time)
                resume_times.append(latency)
                ack_times.append(acked)
        if job.wait(60) != 0:
            raise RuntimeError(f"the job failed: {(tmp / 'job.log').read_text()[-3000:]}")
        print(machine_summary())
        ours = Measurement("resume --yes -> reloaded function starts", tuple(resume_times))
        base = Measurement("vscode-interactive status --json", tuple(status_times))
        report(ours, base, target="< 1 s")
        ack = Measurement("resume --yes (CLI until acknowledged)", tuple(ack_times))
        print(
            f"  resume latency median {ours.median * 1000:.0f} ms (max "
            f"{max(resume_times) * 1000:.0f} ms) -> target < 1 s "
            f"{'met' if ours.median < 1 else 'NOT met'}; the CLI itself returns after "
            f"{ack.median * 1000:.0f} ms"
        )
    finally:
        if job.poll() is None:
            job.terminate()
            job.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
