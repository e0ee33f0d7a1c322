"""Shared helpers for the benchmarks: repeat, take the median, print a ratio line.

Machines here are shared and noisy, so every benchmark measures its baseline in the same
run and reports ``ours / baseline``; absolute seconds are printed only for context.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import socket
import statistics
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Measurement",
    "machine_summary",
    "measure",
    "parse_archive_args",
    "real_archive_env",
    "report",
]


@dataclass(frozen=True, slots=True)
class Measurement:
    """Wall-clock samples (seconds) of one operation."""

    name: str
    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)


def measure(
    name: str, operation: Callable[[], object], *, repeat: int = 5, warmup: int = 0
) -> Measurement:
    """Run ``operation`` ``warmup + repeat`` times and keep the last ``repeat`` timings."""
    for _ in range(warmup):
        operation()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - start)
    return Measurement(name, tuple(samples))


def machine_summary() -> str:
    """One line naming the machine the numbers came from."""
    return (
        f"{platform.machine()} {platform.system()} {platform.release()}, "
        f"{os.cpu_count()} cpus, Python {platform.python_version()}"
    )


def report(ours: Measurement, baseline: Measurement, *, target: str = "") -> float:
    """Print medians and the ratio ours/baseline; return the ratio."""
    ratio = ours.median / baseline.median if baseline.median > 0 else float("inf")
    print(
        f"{ours.name}: median {ours.median * 1000:.1f} ms (best {ours.best * 1000:.1f} ms) | "
        f"{baseline.name}: median {baseline.median * 1000:.1f} ms | "
        f"ratio {ratio:.2f}x{f' (target {target})' if target else ''}"
    )
    return ratio


def parse_archive_args(
    doc: str | None, argv: list[str] | None, *, repeat: int
) -> argparse.Namespace:
    """``--archive`` (default ``$VSCODE_INTERACTIVE_E2E_ARCHIVE``, must exist) and
    ``--repeat``: the options of every benchmark on the real code-server archive."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument(
        "--archive", type=Path, default=os.environ.get("VSCODE_INTERACTIVE_E2E_ARCHIVE")
    )
    parser.add_argument("--repeat", type=int, default=repeat)
    args = parser.parse_args(argv)
    if args.archive is None or not args.archive.is_file():
        parser.error("--archive (or $VSCODE_INTERACTIVE_E2E_ARCHIVE) must name the archive")
    return args


def real_archive_env(archive: Path, tmp: Path) -> dict[str, str]:
    """Variables that make a session install code-server from ``archive`` (pinned) plus a
    small probe extension, with HOME and the cache inside ``tmp``."""
    from tests.artifacts import build_vsix

    vsix = tmp / "probe.vsix"
    vsix.write_bytes(build_vsix("vscode-interactive", "bench-probe", "0.0.1"))
    home = tmp / "home"
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "VSCODE_INTERACTIVE_CACHE": str(tmp / "cache"),
        "VSCODE_INTERACTIVE_CODE_SERVER_URL": str(archive),
        "VSCODE_INTERACTIVE_CODE_SERVER_SHA256": hashlib.sha256(archive.read_bytes()).hexdigest(),
        "VSCODE_INTERACTIVE_EXTENSIONS": str(vsix),
        "VSCODE_INTERACTIVE_ENABLE": "1",
    }


def free_port() -> int:
    """A port free on 127.0.0.1 right now (for a server the benchmark starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 within a second (a refused connection: False)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
