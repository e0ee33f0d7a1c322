"""Post-mortem cost: failure -> listener ready, and the job's added memory.

Each sample is a fresh job process (``python -m bench.bench_postmortem --child MODE``) that
imports the library, lets a function raise, and then, in mode ``listener``, opens the
post-mortem (``open_post_mortem``: import debugpy, listen on loopback, start the stop
thread); in mode ``baseline`` it only keeps the failure, like a job without the listener.
The parent then attaches a DAP client (tests/dap.py) to the listener, waits for the stop on
the failure and reads the raising frame's locals, so the memory of a debugger in use is
counted too. RSS (``VmRSS``) is read by the job itself at the same points in both modes.

Targets (issue 14): failure -> listener ready < 300 ms; added RSS < 30 MB.

    python -m bench.bench_postmortem [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._timing import machine_summary

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300.0
TARGET_MB = 30.0


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _train(batch: list[int], scale: int) -> float:
    total = sum(batch)
    weight = scale - 3
    return total / weight


def child(mode: str) -> int:
    """One job: fail, (maybe) open the post-mortem, report, wait for the parent."""
    import vscode_interactive  # noqa: F401  (the job has imported the library)
    from vscode_interactive._session import Session  # what @vscode loads at decoration

    del Session
    try:
        _train(list(range(1000)), 3)
    except ZeroDivisionError as error:
        failure = error
    before = _rss_kib()
    started = time.perf_counter()
    cpu_started = time.process_time()
    port = 0
    post_mortem = None
    if mode == "listener":
        from vscode_interactive._debug._postmortem import open_post_mortem

        post_mortem = open_post_mortem(failure)
        port = post_mortem.port
    ready_ms = (time.perf_counter() - started) * 1000
    cpu_ms = (time.process_time() - cpu_started) * 1000
    report = {
        "before": before,
        "listening": _rss_kib(),
        "ready_ms": ready_ms,
        "cpu_ms": cpu_ms,
        "port": port,
    }
    print(json.dumps(report), flush=True)
    sys.stdin.readline()  # the parent attached (or not): measure with a debugger in use
    print(json.dumps({"stopped": _rss_kib()}), flush=True)
    sys.stdin.readline()
    if post_mortem is not None:
        post_mortem.close()
    return 0


def sample(mode: str) -> dict[str, Any]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_postmortem", "--child", mode],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    report: dict[str, Any] = json.loads(process.stdout.readline())
    client = None
    if mode == "listener":
        sys.path.insert(0, str(ROOT))
        from tests.dap import DapClient

        client = DapClient.connect(int(report["port"]))
        client.attach()
        stopped = client.wait_event("stopped")
        top = client.stack_trace(stopped["threadId"])[0]
        assert top["name"] == "_train", top
        assert client.locals_of(top["id"])["weight"] == "0"
    process.stdin.write("attached\n")
    process.stdin.flush()
    report.update(json.loads(process.stdout.readline()))
    if client is not None:
        client.disconnect()
        client.close()
    process.stdin.write("done\n")
    process.stdin.close()
    process.wait(timeout=60)
    process.stdout.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", choices=["listener", "baseline"])
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    print(machine_summary())
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    rows: dict[str, list[dict[str, Any]]] = {"listener": [], "baseline": []}
    for _ in range(args.repeat):
        for mode in ("baseline", "listener"):  # interleaved: same load for both
            rows[mode].append(sample(mode))

    def median(mode: str, key: str) -> float:
        return float(statistics.median(row[key] for row in rows[mode]))

    ready = median("listener", "ready_ms")
    cpu = median("listener", "cpu_ms")
    added_listening = (median("listener", "listening") - median("baseline", "listening")) / 1024
    added_stopped = (median("listener", "stopped") - median("baseline", "stopped")) / 1024
    print(f"python {sys.version.split()[0]}, {args.repeat} jobs per mode (medians)")
    print(
        f"failure -> listener ready: {ready:.0f} ms "
        f"(samples {[round(r['ready_ms']) for r in rows['listener']]}; target < {TARGET_MS:g}); "
        f"CPU time of the job for it: {cpu:.0f} ms"
    )
    print(
        f"baseline job RSS: {median('baseline', 'listening') / 1024:.1f} MiB; added by the "
        f"listener: {added_listening:.1f} MiB; with a client stopped on the failure: "
        f"{added_stopped:.1f} MiB (target < {TARGET_MB:g})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
