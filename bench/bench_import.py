"""Import time of ``vscode_interactive`` against a bare interpreter start.

Each sample is a fresh ``python -c ...`` subprocess (this interpreter, same virtual
environment): the baseline ``python -c pass``, then ``import vscode_interactive`` and
``from vscode_interactive import vscode`` (what a job's module does at start-up), run
interleaved so all three see the same machine load. The difference of medians is the time
the package adds to every job start.

    python -m bench.bench_import [--repeat N]

Target: < 60 ms added (medians). ``--modules`` also lists what each statement imports.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench._timing import Measurement, machine_summary, report

_STATEMENTS = {
    "python -c pass": "pass",
    "import vscode_interactive": "import vscode_interactive",
    "from vscode_interactive import vscode": "from vscode_interactive import vscode",
}
_HEAVY = ("fsspec", "aiohttp", "urllib.request", "http.client", "ssl", "filelock", "inspect")


def _run(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


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
    samples: dict[str, list[float]] = {name: [] for name in _STATEMENTS}
    for _ in range(args.repeat):
        for name, code in _STATEMENTS.items():
            samples[name].append(_run(code))
    print(machine_summary())
    baseline = Measurement("python -c pass", tuple(samples["python -c pass"]))
    for name in list(_STATEMENTS)[1:]:
        ours = Measurement(name, tuple(samples[name]))
        report(ours, baseline)
        added = (ours.median - baseline.median) * 1000
        count, heavy = _imported(_STATEMENTS[name])
        verdict = "met" if added < 60 else "NOT met"
        print(
            f"  adds {added:.1f} ms (target < 60 ms: {verdict}); imports {count} modules; "
            f"heavy ones: {', '.join(heavy) or 'none'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
