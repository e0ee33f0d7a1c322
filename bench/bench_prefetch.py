"""Installing while the task runs (issue 16): what it buys after a failure, what it costs.

Every job is a real process running ``Session(SessionConfig(run_task_first=True)).run(task)``
on a cold cache (fresh cache, HOME and data dir each time), with the real code-server
archive (``$VSCODE_INTERACTIVE_E2E_ARCHIVE``) served by ``python -m http.server`` on
127.0.0.1, the small probe ``.vsix`` and the library's own extension. The same job runs with
``VSCODE_INTERACTIVE_PREFETCH=1`` and ``=0``, interleaved so both see the same load:

* ``fail``: the task works for ``--task-seconds`` (15) and raises; measured is the time from
  the raise (the job notes ``time.time()`` just before it) to ``/healthz`` answering (a
  poller asks every 5 ms), and to the banner on the job's stderr (what the user waits
  for). Baseline in the same run: code-server alone, started by hand with the session's
  command line and environment on the install the job just made, to ``/healthz``.
  Target: with prefetch <= 1.3x code-server alone. ``--task sleep`` waits (an I/O-bound
  task), ``--task cpu`` spins one core in pure Python.
* ``cpu``: a CPU-bound task (a pure-Python loop, calibrated to ``--cpu-seconds`` (20) here)
  that returns; measured is the wall time of ``Session.run`` inside the job. Target: with
  prefetch < 5 % slower.
* ``quick``: a task that returns after 10 ms; measured is ``Session.run`` and the process
  from start to exit. Target: no difference (the prefetch must not delay the return and the
  process exits at once).

    python -m bench.bench_prefetch [--archive PATH] [--repeat N] [--which fail,cpu,quick]

Each line also prints the 1-minute load average when the run started (the machines are
shared) and whether the background install finished before the task ended.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench._timing import (
    Measurement,
    answers,
    free_port,
    machine_summary,
    real_archive_env,
    report,
)
from bench.bench_cache import serve
from tests.fakes import FakeEnvironment
from vscode_interactive import ensure_installed
from vscode_interactive._layout import StateLayout
from vscode_interactive._supervision._server import ServerOptions, build_argv, build_env

_POLL = 0.005
BANNER = b"VS Code is ready in your browser"
REPO = Path(__file__).resolve().parent.parent

JOB = """
import json
import logging
import sys
import time
from pathlib import Path

from vscode_interactive import Session, SessionConfig

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
MODE, TASK, AMOUNT, OUT, WORKSPACE, PORT = sys.argv[1:7]


TASK_TIMES = {}


def spin(iterations):
    total = 0
    for i in range(iterations):
        total += i * i
    return total


def spin_for(seconds):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        spin(10_000)


def task():
    if MODE == "fail":
        (spin_for if TASK == "cpu" else time.sleep)(float(AMOUNT))
        Path(OUT).write_text(json.dumps({"raised": time.time()}))
        raise RuntimeError("the task failed on purpose")
    if MODE == "cpu":
        started, cpu = time.perf_counter(), time.thread_time()
        spin(int(AMOUNT))
        TASK_TIMES.update(wall=time.perf_counter() - started, cpu=time.thread_time() - cpu)
        return 0
    time.sleep(0.01)
    return 0


config = SessionConfig(
    run_task_first=True, port=int(PORT), auth="none", workspace_dir=WORKSPACE,
    max_idle_seconds=600, start_timeout=120,
)
start = time.perf_counter()
Session(config).run(task)
Path(OUT).write_text(json.dumps({"run": time.perf_counter() - start, "task": TASK_TIMES}))
"""


def _running(pid: int) -> bool:
    """Whether the child ``pid`` has not exited yet (without reaping it)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def _banner_seen(log: Path, going: Callable[[], bool]) -> float | None:
    """``time.time()`` when the job's stderr first holds the banner (None if ``going()``
    turned false first)."""
    while going():
        if BANNER in log.read_bytes():
            return time.time()
        time.sleep(_POLL)
    return None


def _poll(port: int, going: Callable[[], bool]) -> float | None:
    """``time.time()`` when ``/healthz`` on ``port`` first answers (None if ``going()``
    turned false first)."""
    url = f"http://127.0.0.1:{port}/healthz"
    while going():
        if answers(url):
            return time.time()
        time.sleep(_POLL)
    return None


@dataclass
class Run:
    """One job's numbers: seconds (and what its log said about the background install)."""

    seconds: float
    process: float
    prefetched: bool
    load: float
    cpu: float
    """CPU seconds (user + system) of the job process and the children it waited for."""
    banner: float = 0.0
    """For a failing job: seconds from the raise to the banner on the job's stderr."""
    task_cpu: float = 0.0
    """CPU seconds of the task's own thread (the CPU-bound task only)."""


class Bench:
    def __init__(self, archive: Path, work: Path, url: str) -> None:
        self.work = work
        self.url = url
        (work / "shared").mkdir()
        self.base_env = real_archive_env(archive, work / "shared")
        self.base_env["VSCODE_INTERACTIVE_CODE_SERVER_URL"] = url
        self.script = work / "job.py"
        self.script.write_text(textwrap.dedent(JOB))
        self.count = 0

    def env(self, run: Path, prefetch: bool) -> dict[str, str]:
        home = run / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VSCODE_INTERACTIVE_")}
        env.update(self.base_env)
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            VSCODE_INTERACTIVE_CACHE=str(run / "cache"),
            VSCODE_INTERACTIVE_PREFETCH="1" if prefetch else "0",
            PYTHONPATH=str(REPO),
        )
        env.pop("PASSWORD", None)
        return env

    def job(
        self,
        mode: str,
        task: str,
        amount: str,
        prefetch: bool,
        *,
        watch: bool = False,
        env: dict[str, str] | None = None,
    ) -> tuple[Run, dict[str, str], Path]:
        """Run one job to its end (a failing one: until the IDE answers, then SIGTERM);
        ``env`` reuses another run's cache and HOME (a warm install)."""
        self.count += 1
        run = self.work / f"run-{self.count}"
        (run / "ws").mkdir(parents=True)
        env = env if env is not None else self.env(run, prefetch)
        out = run / "out.json"
        port = free_port()
        load = os.getloadavg()[0]
        os.sync()
        answered: float | None = None
        bannered: float | None = None
        with (run / "stderr").open("wb") as err:
            start = time.perf_counter()
            job = subprocess.Popen(
                [sys.executable, str(self.script), mode, task, amount, str(out), str(run / "ws"),
                 str(port)],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
            if watch:
                answered = _poll(port, lambda: _running(job.pid))
                bannered = _banner_seen(run / "stderr", lambda: _running(job.pid))
                job.send_signal(signal.SIGTERM)
            _, status, usage = os.wait4(job.pid, 0)
            process = time.perf_counter() - start
            job.returncode = os.waitstatus_to_exitcode(status)
        log = (run / "stderr").read_text(errors="replace")
        task_cpu = 0.0
        installed = log.find("code-server was installed in the background")
        failed = log.find("failed; opening the IDE")
        prefetched = installed >= 0 and (failed < 0 or installed < failed)
        facts = json.loads(out.read_text())
        banner = 0.0
        if watch:
            assert answered is not None and bannered is not None, log[-3000:]
            seconds = answered - facts["raised"]
            banner = bannered - facts["raised"]
        else:
            assert job.returncode == 0, log[-3000:]
            seconds = facts["run"]
            task_cpu = float(facts.get("task", {}).get("cpu", 0.0))
        cpu = usage.ru_utime + usage.ru_stime
        return Run(seconds, process, prefetched, load, cpu, banner, task_cpu), env, run

    def by_hand(self, env: dict[str, str], run: Path) -> float:
        """code-server alone on the install ``run`` made: Popen -> /healthz, in seconds."""
        installation = ensure_installed(env=FakeEnvironment(env))
        port = free_port()
        workspace = run / "ws"
        options = ServerOptions(
            executable=installation.executable,
            layout=StateLayout.for_workspace(workspace),
            user_data_dir=installation.user_data_dir,
            extensions_dir=installation.extensions_dir,
            port=port,
            auth="none",
            extra_env=installation.env,
        )
        argv = build_argv(options, port)
        child_env = build_env(env, options)
        options.xdg_data_home.mkdir(parents=True, exist_ok=True)
        with (run / "by-hand.log").open("wb") as log:
            start = time.time()
            server = subprocess.Popen(
                argv, env=child_env, cwd=workspace, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                answered = _poll(port, lambda: server.poll() is None)
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
        assert answered is not None
        return answered - start

    def clean(self, run: Path) -> None:
        shutil.rmtree(run, ignore_errors=True)


def _line(name: str, runs: list[Run], *, install: bool = True) -> None:
    for run in runs:
        status = (
            f"background install {'finished' if run.prefetched else 'not finished'} while the "
            "task ran, "
            if install
            else ""
        )
        task_cpu = f", task thread CPU {run.task_cpu:.2f} s" if run.task_cpu else ""
        banner = f", banner at {run.banner:.2f} s" if run.banner else ""
        print(
            f"  {name}: {run.seconds:.2f} s{banner} (process {run.process:.2f} s, CPU "
            f"{run.cpu:.2f} s{task_cpu}, {status}load {run.load:.1f})"
        )


def bench_fail(bench: Bench, repeat: int, task: str, seconds: float) -> None:
    with_p: list[Run] = []
    without: list[Run] = []
    warm: list[Run] = []
    alone: list[float] = []
    for _ in range(repeat):
        run_with, env, run_dir = bench.job("fail", task, str(seconds), True, watch=True)
        with_p.append(run_with)
        alone.append(bench.by_hand(env, run_dir))
        # The same job again on the install it left: what the prefetch can at best achieve.
        warm.append(bench.job("fail", task, str(seconds), True, watch=True, env=env)[0])
        bench.clean(run_dir)
        run_without, _, run_dir = bench.job("fail", task, str(seconds), False, watch=True)
        without.append(run_without)
        bench.clean(run_dir)
    print(f"fail after {seconds:g} s ({task} task): exception -> /healthz")
    _line("with prefetch (cold cache)", with_p)
    _line("without prefetch (cold cache)", without)
    _line("installed before the job started (warm)", warm, install=False)
    print(f"  code-server alone: {', '.join(f'{a:.2f} s' for a in alone)}")
    base = Measurement("code-server alone -> /healthz", tuple(alone))
    report(Measurement("with prefetch", tuple(r.seconds for r in with_p)), base, target="<= 1.3x")
    report(Measurement("without prefetch", tuple(r.seconds for r in without)), base)
    report(Measurement("warm install", tuple(r.seconds for r in warm)), base)
    report(
        Measurement("with prefetch", tuple(r.seconds for r in with_p)),
        Measurement("warm install", tuple(r.seconds for r in warm)),
    )
    # What the user waits for: the banner (printed once /healthz answers and the
    # workspace, debugger and edit record prepared meanwhile are ready too).
    report(
        Measurement("with prefetch, exception -> banner", tuple(r.banner for r in with_p)),
        base,
    )


def calibrate(seconds: float) -> int:
    """Iterations of the job's loop that take about ``seconds`` here, now."""
    iterations = 2_000_000
    while True:
        start = time.process_time()
        total = 0
        for i in range(iterations):
            total += i * i
        spent = time.process_time() - start
        if spent > 0.5:
            return int(iterations * seconds / spent)
        iterations *= 4


def bench_cpu(bench: Bench, repeat: int, seconds: float) -> None:
    iterations = calibrate(seconds)
    with_p: list[Run] = []
    without: list[Run] = []
    for round_ in range(repeat):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for prefetch in order:
            run, _, run_dir = bench.job("cpu", "cpu", str(iterations), prefetch)
            (with_p if prefetch else without).append(run)
            bench.clean(run_dir)
    print(f"CPU-bound task of ~{seconds:g} s ({iterations} iterations): Session.run wall time")
    _line("with prefetch", with_p)
    _line("without prefetch", without)
    report(
        Measurement("with prefetch", tuple(r.seconds for r in with_p)),
        Measurement("without prefetch", tuple(r.seconds for r in without)),
        target="< 1.05x",
    )


def bench_quick(bench: Bench, repeat: int) -> None:
    with_p: list[Run] = []
    without: list[Run] = []
    for round_ in range(repeat):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for prefetch in order:
            run, _, run_dir = bench.job("quick", "-", "0", prefetch)
            (with_p if prefetch else without).append(run)
            bench.clean(run_dir)
    print("task of 10 ms: Session.run, and the process from start to exit")
    report(
        Measurement("Session.run with prefetch", tuple(r.seconds for r in with_p)),
        Measurement("Session.run without prefetch", tuple(r.seconds for r in without)),
    )
    report(
        Measurement("process with prefetch", tuple(r.process for r in with_p)),
        Measurement("process without prefetch", tuple(r.process for r in without)),
    )
    report(
        Measurement("process CPU with prefetch", tuple(r.cpu for r in with_p)),
        Measurement("process CPU without prefetch", tuple(r.cpu for r in without)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--archive", type=Path, default=os.environ.get("VSCODE_INTERACTIVE_E2E_ARCHIVE")
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--which", default="fail,cpu,quick")
    parser.add_argument("--task", choices=("sleep", "cpu"), default="sleep")
    parser.add_argument("--task-seconds", type=float, default=15.0)
    parser.add_argument("--cpu-seconds", type=float, default=20.0)
    parser.add_argument(
        "--server-nice",
        type=int,
        default=19,
        help="nice value of the loopback server (it stands for a remote host); 0 to compete",
    )
    args = parser.parse_args(argv)
    if args.archive is None or not args.archive.is_file():
        parser.error("--archive (or $VSCODE_INTERACTIVE_E2E_ARCHIVE) must name the archive")
    archive: Path = args.archive.absolute()
    print(machine_summary())
    print(f"archive: {archive.name}, {archive.stat().st_size / 1e6:.1f} MB")
    server, port = serve(archive.parent)
    if args.server_nice:
        # The server stands for a remote host: its CPU is not the job's node's to spend.
        os.setpriority(os.PRIO_PROCESS, server.pid, args.server_nice)
    work = Path(tempfile.mkdtemp(prefix="bench-prefetch-"))
    try:
        bench = Bench(archive, work, f"http://127.0.0.1:{port}/{archive.name}")
        which = set(args.which.split(","))
        if "quick" in which:
            bench_quick(bench, max(args.repeat, 5))
        if "cpu" in which:
            bench_cpu(bench, args.repeat, args.cpu_seconds)
        if "fail" in which:
            bench_fail(bench, args.repeat, args.task, args.task_seconds)
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
