"""Cold ``Cache.fetch_archive`` vs ``curl -s URL | tar xz``, and the cache-hit time.

Run: ``python -m bench.bench_cache`` (options: ``--repeat``, ``--files``, ``--megabytes``).

A >= 100 MB ``.tar.gz`` with thousands of files (mostly incompressible bytes, a fifth
text-like, as in a real code-server release) is generated once into
``$TMPDIR/vscode-interactive-bench/`` and served by ``python -m http.server`` in a child
process on 127.0.0.1. Each repetition runs the baseline and a cold fetch into a fresh
cache root, interleaved so both see the same machine load, each after ``os.sync()``.
Targets: cold <= 1.2x the baseline; hit < 5 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench._timing import Measurement, machine_summary, measure, report
from vscode_interactive.cache import Cache

_WORDS = [b"const", b"function", b"return", b"=>", b"{", b"}", b"import", b"value", b"42", b"\n"]


def generate_archive(directory: Path, *, files: int, megabytes: int) -> Path:
    """A deterministic .tar.gz, reused when it already exists."""
    target = directory / f"bench-{files}-{megabytes}.tar.gz"
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20240601)  # noqa: S311 - benchmark data, not a secret
    average = megabytes * (1 << 20) // files
    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        for index in range(files):
            size = rng.randint(average // 4, average * 7 // 4)
            if index % 5 == 0:
                data = b" ".join(rng.choice(_WORDS) for _ in range(size // 5))[:size]
            else:
                data = rng.randbytes(size)
            info = tarfile.TarInfo(f"code-server-bench/lib/d{index % 50:02d}/f{index:05d}.bin")
            info.size = len(data)
            info.mode = 0o755 if index % 100 == 0 else 0o644
            tar.addfile(info, io.BytesIO(data))
    partial.replace(target)
    return target


def serve(directory: Path) -> tuple[subprocess.Popen[str], int]:
    """``python -m http.server`` on 127.0.0.1 in a child process; returns it and its port."""
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    match = re.search(r"port (\d+)", server.stdout.readline())
    if match is None:
        server.kill()
        raise RuntimeError("http.server did not report its port")
    return server, int(match.group(1))


def curl_tar(url: str, destination: Path) -> None:
    """The baseline: ``curl -s URL | tar xz -C destination``, two processes, one pipe."""
    destination.mkdir()
    curl = subprocess.Popen(["curl", "-s", "-f", url], stdout=subprocess.PIPE)
    assert curl.stdout is not None
    tar = subprocess.Popen(["tar", "xz", "-C", str(destination)], stdin=curl.stdout)
    curl.stdout.close()
    if tar.wait() != 0 or curl.wait() != 0:
        raise RuntimeError("curl | tar failed")


def timed(operation: Callable[..., object], *args: object) -> float:
    """Seconds ``operation(*args)`` takes, starting from a settled file system: the writeback
    and deletions of the previous run would otherwise be billed to whichever runs next."""
    os.sync()
    start = time.perf_counter()
    operation(*args)
    return time.perf_counter() - start


def fmt(samples: list[float]) -> str:
    return " ".join(f"{sample:.2f}" for sample in samples)


def cold_fetch(root: Path, url: str, digest: str) -> None:
    Cache(root).fetch_archive(url, digest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=120, help="uncompressed size")
    parser.add_argument("--hits", type=int, default=200)
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.gettempdir()) / "vscode-interactive-bench"
    archive = generate_archive(data_dir, files=args.files, megabytes=args.megabytes)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    print(machine_summary())
    size = archive.stat().st_size / 1e6
    print(f"archive: {size:.1f} MB, {args.files} files, sha256 {digest[:12]}...")

    server, port = serve(data_dir)
    url = f"http://127.0.0.1:{port}/{archive.name}"
    work = Path(tempfile.mkdtemp(prefix="vscode-interactive-bench-"))
    try:
        baseline: list[float] = []
        cold: list[float] = []
        for run in range(args.repeat):
            target = work / f"curl-{run}"
            baseline.append(timed(curl_tar, url, target))
            shutil.rmtree(target)
            root = work / f"cache-{run}"
            cold.append(timed(cold_fetch, root, url, digest))
            if run < args.repeat - 1:
                shutil.rmtree(root)
        ours = Measurement("cold fetch_archive", tuple(cold))
        base = Measurement("curl -s | tar xz", tuple(baseline))
        report(ours, base, target="<= 1.2x")
        print(
            f"best vs best: {ours.best / base.best:.2f}x; samples (s): ours {fmt(cold)}, "
            f"baseline {fmt(baseline)}"
        )

        cache = Cache(work / f"cache-{args.repeat - 1}")
        hit = measure("hit", lambda: cache.fetch_archive(url, digest), repeat=args.hits, warmup=3)
        fresh = measure(
            "hit, new Cache",
            lambda: Cache(cache.root).fetch_archive(url, digest),
            repeat=args.hits,
            warmup=3,
        )
        print(
            f"hit fetch_archive: median {hit.median * 1e3:.3f} ms (best {hit.best * 1e3:.3f} ms); "
            f"with a new Cache object: median {fresh.median * 1e3:.3f} ms (target < 5 ms)"
        )
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
