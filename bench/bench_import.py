"""Import time of ``vscode_interactive`` against a bare interpreter start.

Each sample is a fresh ``python -c ...`` subprocess (this interpreter, same virtual
environment): the baseline ``python -c pass``, then ``import vscode_interactive`` and
``from vscode_interactive import vscode`` (what a job's module does at start-up), run
interleaved so all three see the same machine load. The difference of medians is the time
the package adds to every job start.

    python -m bench.bench_import [--repeat N]

Target: ``from vscode_interactive import vscode`` adds < 30 ms (medians). Decorating a
function also builds its ``SessionConfig`` (dataclasses, typing): printed as well, without a
target, so what a job's start-up really pays stays visible. Each run is timed
twice: wall clock, and the child's CPU time (user + system, from ``wait4``), which a loaded
machine inflates far less than wall time; the verdict uses the CPU time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench._timing import Measurement, machine_summary, report

_STATEMENTS = {
    "python -c pass": "pass",
    "import vscode_interactive": "import vscode_interactive",
    "from vscode_interactive import vscode": "from vscode_interactive import vscode",
    "import + decorate a function": (
        "from vscode_interactive import vscode\n"
        "@vscode(run_task_first=True)\n"
        "def task() -> int:\n    return 1"
    ),
}
_TARGETED = "from vscode_interactive import vscode"
_HEAVY = (
    "fsspec",
    "aiohttp",
    "urllib.request",
    "http.client",
    "ssl",
    "filelock",
    "inspect",
    "flytekit",
)


_TARGET_MS = 30.0


def _run(code: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``python -c code``."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"python -c {code!r} exited with {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def _imported(code: str) -> tuple[int, list[str]]:
    probe = (
        f"import sys; before = set(sys.modules); {code}\n"
        "new = set(sys.modules) - before\n"
        "print(len(new)); print(' '.join(sorted(new)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    new = out[1].split() if len(out) > 1 else []
    return int(out[0]), [name for name in _HEAVY if name in new]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)

    for code in _STATEMENTS.values():  # warm the .pyc caches and the page cache
        _run(code)
    wall: dict[str, list[float]] = {name: [] for name in _STATEMENTS}
    cpu: dict[str, list[float]] = {name: [] for name in _STATEMENTS}
    for _ in range(args.repeat):
        for name, code in _STATEMENTS.items():
            elapsed, used = _run(code)
            wall[name].append(elapsed)
            cpu[name].append(used)
    print(machine_summary())
    base_wall = Measurement("python -c pass", tuple(wall["python -c pass"]))
    base_cpu = Measurement("python -c pass (cpu)", tuple(cpu["python -c pass"]))
    for name in list(_STATEMENTS)[1:]:
        report(Measurement(name, tuple(wall[name])), base_wall)
        ours_cpu = Measurement(f"{name} (cpu)", tuple(cpu[name]))
        report(ours_cpu, base_cpu)
        added = (ours_cpu.median - base_cpu.median) * 1000
        count, heavy = _imported(_STATEMENTS[name])
        verdict = "met" if added < _TARGET_MS else "NOT met"
        target = f"target < {_TARGET_MS:.0f} ms: {verdict}" if name == _TARGETED else "no target"
        print(
            f"  adds {added:.1f} ms of CPU ({target}); "
            f"imports {count} modules; heavy ones: {', '.join(heavy) or 'none'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
