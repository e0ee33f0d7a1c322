"""Warm ``ensure_installed`` (everything present) against what the reference paid per session.

The reference started ``code-server --list-extensions`` on every session to decide what to
install: about 0.7 s of Node start-up with a real code-server. No real code-server exists on
this machine, so the baseline measured in the same run is the stand-in code-server from
``tests/artifacts.py`` (a Python script) answering ``--list-extensions`` in a subprocess;
that is far cheaper than Node, so the ratio printed here understates the real gain.

Setup: a release-layout archive and two ``.vsix`` files the size of the defaults (about 2,400
and 340 files) served as local paths, installed once through a fresh artifact cache. Then:

    python -m bench.bench_install [--repeat N]

Target: warm ``ensure_installed`` median < 20 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import subprocess
import tempfile
from pathlib import Path

from bench._timing import machine_summary, measure, report
from tests.artifacts import build_release_archive, build_vsix, fake_code_server_script
from tests.fakes import FakeEnvironment
from vscode_interactive import Installation, VscodeConfig, current_arch, ensure_installed
from vscode_interactive._system import SubprocessRunner


def _files(count: int, size: int) -> dict[str, bytes]:
    return {
        f"out/module{i}.js": hashlib.shake_256(str(i).encode()).digest(size) for i in range(count)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    # The first call trusts the unpinned local files on first use and says so; not news here.
    logging.getLogger("vscode_interactive").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory(prefix="bench-install-") as scratch:
        tmp = Path(scratch)
        arch = current_arch()
        log = tmp / "starts.log"
        archive = tmp / f"code-server-9.9.9-linux-{arch.value}.tar.gz"
        archive.write_bytes(
            build_release_archive("9.9.9", fake_code_server_script(log, "9.9.9"), arch=arch.value)
        )
        python_vsix = tmp / "ms-python.python-2026.4.0.vsix"
        python_vsix.write_bytes(
            build_vsix("ms-python", "python", "2026.4.0", files=_files(2380, 800))
        )
        debugpy_vsix = tmp / "ms-python.debugpy-2026.6.0@linux-x64.vsix"
        debugpy_vsix.write_bytes(
            build_vsix("ms-python", "debugpy", "2026.6.0", files=_files(336, 800))
        )
        config = VscodeConfig(
            code_server_remote_paths={arch.value: str(archive)},
            code_server_dir_names={arch.value: f"code-server-9.9.9-linux-{arch.value}"},
            extension_remote_paths=[str(debugpy_vsix), str(python_vsix)],
        )
        env = FakeEnvironment(
            {
                "HOME": str(tmp / "home"),
                "PATH": str(tmp / "no-code-server-here"),
                "VSCODE_INTERACTIVE_CACHE": str(tmp / "cache"),
            }
        )
        runner = SubprocessRunner()

        def warm() -> Installation:
            # cache=None: a session builds its Cache each time, so that is measured too.
            return ensure_installed(config, env=env, runner=runner)

        first = warm()
        starts = log.read_text().count("\n")
        extensions_dir = str(first.extensions_dir)
        executable = str(first.executable)

        def list_extensions() -> object:
            return subprocess.run(
                [executable, "--list-extensions", "--extensions-dir", extensions_dir],
                env={"HOME": str(tmp / "home")},
                capture_output=True,
                check=True,
            )

        ours = measure("warm ensure_installed", warm, repeat=options.repeat, warmup=2)
        after = log.read_text().count("\n")
        baseline = measure(
            "stand-in `code-server --list-extensions`", list_extensions, repeat=10, warmup=1
        )
        print(machine_summary())
        report(ours, baseline, target="warm median < 20 ms")
        verdict = "met" if ours.median < 0.020 else "NOT met"
        print(
            f"warm ensure_installed: {ours.median * 1000:.2f} ms median -> 20 ms target {verdict}; "
            f"code-server starts during the warm runs: {after - starts}"
        )


if __name__ == "__main__":
    main()
