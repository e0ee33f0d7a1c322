"""Warm ``ensure_installed`` (everything present) against what the reference paid per session.

The reference started ``code-server --list-extensions`` on every session to decide what to
install. With ``--real-archive PATH`` (a release archive from ``scripts/build_code_server.sh``)
both sides use that real code-server, so the baseline is Node starting code-server to list
extensions. Without it, the stand-in code-server from ``tests/artifacts.py`` (a Python
script) answers ``--list-extensions`` instead: far cheaper than Node, so that ratio
understates the gain.

Setup: the archive and two ``.vsix`` files the size of the defaults (about 2,400 and 340
files), as local paths, installed once through a fresh artifact cache (the real code-server
installs both extensions and the library's own one, packed from the package, in one call).
A warm call also hashes the own extension's files to know its identity: that is measured.
Then, interleaved with nothing else:

    python -m bench.bench_install [--repeat N] [--real-archive PATH]

Target: warm ``ensure_installed`` median < 20 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench._timing import machine_summary, measure, report
from tests.artifacts import build_release_archive, build_vsix, fake_code_server_script
from tests.fakes import FakeEnvironment
from vscode_interactive import Installation, VscodeConfig, current_arch, ensure_installed
from vscode_interactive._system._processes import SubprocessRunner


def _files(count: int, size: int) -> dict[str, bytes]:
    return {
        f"out/module{i}.js": hashlib.shake_256(str(i).encode()).digest(size) for i in range(count)
    }


_SYSTEM_PATH = "/usr/bin:/bin"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--real-archive", type=Path, help="a real code-server release archive")
    options = parser.parse_args()
    if shutil.which("code-server", path=_SYSTEM_PATH):
        parser.error(f"a code-server on {_SYSTEM_PATH} would be used instead of the archive")
    # The first call trusts the unpinned local files on first use and says so; not news here.
    logging.getLogger("vscode_interactive").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory(prefix="bench-install-") as scratch:
        tmp = Path(scratch)
        arch = current_arch()
        log = tmp / "starts.log"
        log.touch()
        if options.real_archive is not None:
            archive = options.real_archive.absolute()
            top_dir = archive.name.removesuffix(".tar.gz")
            label = "real `code-server --list-extensions`"
        else:
            archive = tmp / f"code-server-9.9.9-linux-{arch.value}.tar.gz"
            archive.write_bytes(
                build_release_archive(
                    "9.9.9", fake_code_server_script(log, "9.9.9"), arch=arch.value
                )
            )
            top_dir = f"code-server-9.9.9-linux-{arch.value}"
            label = "stand-in `code-server --list-extensions`"
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
            code_server_dir_names={arch.value: top_dir},
            extension_remote_paths=[str(debugpy_vsix), str(python_vsix)],
        )
        env = FakeEnvironment(
            {
                "HOME": str(tmp / "home"),
                # The real launcher needs uname/dirname/readlink; code-server itself must not
                # be found on PATH (the cache is what is measured).
                "PATH": _SYSTEM_PATH,
                "VSCODE_INTERACTIVE_CACHE": str(tmp / "cache"),
            }
        )
        runner = SubprocessRunner()

        def warm() -> Installation:
            # cache=None: a session builds its Cache each time, so that is measured too.
            return ensure_installed(config, env=env, runner=runner)

        first = warm()
        if "vscode-interactive.session" not in first.installed_extensions:
            parser.error(f"the library's own extension was not installed: {first}")
        starts = log.read_text().count("\n")
        extensions_dir = str(first.extensions_dir)
        executable = str(first.executable)

        def list_extensions() -> object:
            return subprocess.run(
                [executable, "--list-extensions", "--extensions-dir", extensions_dir],
                env={"HOME": str(tmp / "home"), "PATH": _SYSTEM_PATH},
                capture_output=True,
                check=True,
            )

        ours = measure("warm ensure_installed", warm, repeat=options.repeat, warmup=2)
        after = log.read_text().count("\n")
        baseline = measure(label, list_extensions, repeat=10, warmup=1)
        print(machine_summary())
        report(ours, baseline, target="warm median < 20 ms")
        verdict = "met" if ours.median < 0.020 else "NOT met"
        print(
            f"warm ensure_installed: {ours.median * 1000:.2f} ms median -> 20 ms target {verdict}; "
            f"{baseline.median / ours.median:.0f}x faster than the baseline; "
            f"installed: {', '.join(first.installed_extensions)}; code-server starts during "
            f"the warm runs (stand-in only): {after - starts}"
        )


if __name__ == "__main__":
    main()
