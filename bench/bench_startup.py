"""Time from ``Session.run`` to code-server answering ``/healthz``, vs starting it by hand.

Setup: the real archive (``scripts/build_code_server.sh``) and a tiny ``.vsix`` are
installed once (so every session's install step is the warm path a baked image has). Then
per repetition, interleaved:

* ours: ``Session(SessionConfig(port=P, auth="none", ...)).run(job)``; a thread polls
  ``http://127.0.0.1:P/healthz`` every 5 ms from the moment ``run`` is called and notes
  when it first answers; the supervisor's banner (the moment the user is told the URL) is
  noted too, and a resume request then ends the session;
* the baseline: the same code-server command line and environment (``build_argv`` /
  ``build_env``, same user-data and extensions dirs) started with ``subprocess.Popen``,
  polled the same way, then stopped.

    python -m bench.bench_startup --archive PATH [--repeat N]

(``--archive`` defaults to ``$VSCODE_INTERACTIVE_E2E_ARCHIVE``.) Target: ours <= baseline
+ 150 ms (medians).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench._timing import (
    Measurement,
    answers,
    free_port,
    machine_summary,
    parse_archive_args,
    real_archive_env,
    report,
)
from vscode_interactive import Installation, Session, SessionConfig, ensure_installed
from vscode_interactive._layout import StateLayout
from vscode_interactive._ports import Interrupts
from vscode_interactive._session import RealSteps
from vscode_interactive._supervision._seams import SupervisionResult, WhileStarting
from vscode_interactive._supervision._server import ServerOptions, build_argv, build_env
from vscode_interactive._supervision._supervisor import Supervisor

_POLL = 0.005


def job() -> str:
    """The session's task: it only has to come back after the resume."""
    return "ok"


def _poll_until_healthy(port: int, start: float, seen: list[float], stop: threading.Event) -> None:
    """Append the seconds since ``start`` when /healthz first answers, then set ``stop``."""
    url = f"http://127.0.0.1:{port}/healthz"
    while not stop.is_set():
        if answers(url):
            seen.append(time.perf_counter() - start)
            stop.set()
            return
        time.sleep(_POLL)


class _TimedSteps(RealSteps):
    """The real steps; the banner callback notes the time and resumes at once."""

    def __init__(self, start: float, ready: list[float], healthy: threading.Event) -> None:
        super().__init__()
        self.start = start
        self.ready = ready
        self.healthy = healthy

    def supervise(
        self,
        options: ServerOptions,
        *,
        failure_summary: str | None,
        interrupts: Interrupts | None = None,
        while_starting: WhileStarting | None = None,
    ) -> SupervisionResult:
        holder: list[Supervisor] = []

        def announce(banner: str) -> None:
            self.ready.append(time.perf_counter() - self.start)
            self.healthy.wait(10)  # let the poller see it before the server stops
            holder[0].request_resume()

        holder.append(Supervisor(options, failure_summary=failure_summary, announce=announce))
        return holder[0].run(_while_starting=while_starting)


def ours(workspace: Path) -> tuple[float, float]:
    """(seconds to /healthz answering, seconds to the banner) for one session."""
    port = free_port()
    config = SessionConfig(port=port, auth="none", workspace_dir=workspace, grace_seconds=2)
    health: list[float] = []
    ready: list[float] = []
    stop = threading.Event()
    start = time.perf_counter()
    poller = threading.Thread(target=_poll_until_healthy, args=(port, start, health, stop))
    poller.start()
    try:
        result = Session(config, _steps=_TimedSteps(start, ready, stop)).run(job)
    finally:
        stop.set()
        poller.join()
    assert result == "ok" and health and ready, (result, health, ready)
    return health[0], ready[0]


def by_hand(installation: Installation, workspace: Path) -> float:
    """Seconds from Popen to /healthz answering, same command line and environment."""
    port = free_port()
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
    env = build_env(os.environ, options)
    options.xdg_data_home.mkdir(parents=True, exist_ok=True)
    health: list[float] = []
    with (workspace / "by-hand.log").open("wb") as log:
        start = time.perf_counter()
        server = subprocess.Popen(
            argv,
            env=env,
            cwd=workspace,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _poll_until_healthy(port, start, health, threading.Event())
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    return health[0]


def _setup(archive: Path, tmp: Path) -> Installation:
    os.environ.update(real_archive_env(archive, tmp))
    os.environ.pop("PASSWORD", None)
    return ensure_installed()


def main(argv: list[str] | None = None) -> int:
    args = parse_archive_args(__doc__, argv, repeat=7)
    logging.getLogger("vscode_interactive").setLevel(logging.WARNING)

    tmp = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        installation = _setup(args.archive.absolute(), tmp)
        healthy: list[float] = []
        announced: list[float] = []
        baseline: list[float] = []
        for run in range(args.repeat + 1):  # the first round warms the page cache
            hand = by_hand(installation, _workspace(tmp, f"hand-{run}"))
            health, ready = ours(_workspace(tmp, f"ours-{run}"))
            if run:
                baseline.append(hand)
                healthy.append(health)
                announced.append(ready)
        print(machine_summary())
        base = Measurement("code-server by hand -> /healthz", tuple(baseline))
        for name, samples in (
            ("Session.run -> /healthz", healthy),
            ("Session.run -> banner", announced),
        ):
            ours_m = Measurement(name, tuple(samples))
            report(ours_m, base)
            added = (ours_m.median - base.median) * 1000
            verdict = "met" if added <= 150 else "NOT met"
            print(f"  adds {added:.0f} ms (target <= +150 ms: {verdict})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _workspace(tmp: Path, name: str) -> Path:
    workspace = tmp / name
    workspace.mkdir()
    return workspace


if __name__ == "__main__":
    sys.exit(main())
