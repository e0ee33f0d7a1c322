"""Cold ``ensure_installed`` of the real code-server archive vs ``curl -s URL | tar xz``.

The archive (``scripts/build_code_server.sh``'s output, about 230 MB, 740 MB unpacked) is
served by ``python -m http.server`` in a child process on 127.0.0.1 (the helpers of
``bench/bench_cache.py``). Each repetition runs, interleaved so both see the same load:

* the baseline: ``curl -s -f URL | tar xz -C DIR`` (two processes, one pipe, no checks);
* ours: ``ensure_installed`` with ``VSCODE_INTERACTIVE_CODE_SERVER_URL`` and its sha256 pin,
  no extensions, a fresh cache and data dir: download, sha256, safe streaming extraction,
  publish by rename, find ``bin/code-server``, read the version.

    python -m bench.bench_cold_install --archive PATH [--repeat N]

(``--archive`` defaults to ``$VSCODE_INTERACTIVE_E2E_ARCHIVE``.) Target: <= 1.2x.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench._timing import Measurement, machine_summary, parse_archive_args, report
from bench.bench_cache import curl_tar, serve, timed
from tests.fakes import FakeEnvironment
from vscode_interactive import ensure_installed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    args = parse_archive_args(__doc__, argv, repeat=3)
    logging.getLogger("vscode_interactive").setLevel(logging.WARNING)

    archive: Path = args.archive.absolute()
    digest = _sha256(archive)
    print(machine_summary())
    print(f"archive: {archive.name}, {archive.stat().st_size / 1e6:.1f} MB, sha256 {digest[:12]}")
    server, port = serve(archive.parent)
    url = f"http://127.0.0.1:{port}/{archive.name}"
    work = Path(tempfile.mkdtemp(prefix="bench-cold-install-"))
    try:
        baseline: list[float] = []
        ours: list[float] = []
        for run in range(args.repeat):
            target = work / f"curl-{run}"
            baseline.append(timed(curl_tar, url, target))
            shutil.rmtree(target)
            home = work / f"home-{run}"
            env = FakeEnvironment(
                {
                    "HOME": str(home),
                    "PATH": "/usr/bin:/bin",
                    "VSCODE_INTERACTIVE_CACHE": str(work / f"cache-{run}"),
                    "VSCODE_INTERACTIVE_CODE_SERVER_URL": url,
                    "VSCODE_INTERACTIVE_CODE_SERVER_SHA256": digest,
                    "VSCODE_INTERACTIVE_EXTENSIONS": "",
                }
            )
            start = time.perf_counter()
            version = ensure_installed(env=env).version
            ours.append(time.perf_counter() - start)
            assert version != "unknown", version
            shutil.rmtree(work / f"cache-{run}")
            shutil.rmtree(home)
        ratio = report(
            Measurement("cold ensure_installed (real archive)", tuple(ours)),
            Measurement("curl -s | tar xz", tuple(baseline)),
            target="<= 1.2x",
        )
        print(
            f"cold install: {ratio:.2f}x curl|tar -> target {'met' if ratio <= 1.2 else 'NOT met'}"
        )
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
