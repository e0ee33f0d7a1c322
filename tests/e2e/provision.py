"""What the end-to-end tests need on the machine, got by the test run itself.

* A code-server release archive: ``$VSCODE_INTERACTIVE_E2E_ARCHIVE`` if set, else the one
  ``scripts/build_code_server.sh`` builds from the npm registry (cached by version in
  ``$VSCODE_INTERACTIVE_BUILD_CACHE``, default ``~/.cache/vscode-interactive-build``; a cache
  hit takes about a second, a cold build a few minutes; as root the script apt-installs its
  build dependencies).
* A Chromium for Playwright: ``$VSCODE_INTERACTIVE_E2E_CHROMIUM`` if set, else Debian's
  ``/usr/bin/chromium``, which is apt-installed when missing and the run is root.

Nothing here skips: what cannot be got raises :class:`ProvisionError` saying what to install
or set. :class:`Provisioner` does each piece at most once per test run and remembers the
outcome, failure included. Commands run through a :data:`Run` callable, so the decisions are
tested with a fake one (``tests/e2e/test_provision.py``).
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "APT_CHROMIUM",
    "ARCHIVE_ENV",
    "BUILD_SCRIPT",
    "CHROMIUM_ENV",
    "DEFAULT_CHROMIUM",
    "ProvisionError",
    "Provisioner",
    "Run",
    "build_code_server",
    "ensure_chromium",
    "given_archive",
    "run_logged",
]

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "build_code_server.sh"
ARCHIVE_ENV = "VSCODE_INTERACTIVE_E2E_ARCHIVE"
CHROMIUM_ENV = "VSCODE_INTERACTIVE_E2E_CHROMIUM"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
APT_CHROMIUM = (
    ("apt-get", "update"),
    ("apt-get", "install", "-y", "--no-install-recommends", "chromium"),
)
_BUILD_TIMEOUT = 3600.0
_APT_TIMEOUT = 1800.0
_DESELECT = 'deselect the end-to-end tests with -m "not e2e"'

Run = Callable[[Sequence[str], Mapping[str, str], Path, float], tuple[int, str]]
"""``run(argv, extra_env, log, timeout) -> (exit code, stdout)``; stderr goes to ``log``."""


class ProvisionError(RuntimeError):
    """Something the end-to-end tests need is missing and could not be got."""


def run_logged(
    argv: Sequence[str], extra_env: Mapping[str, str], log: Path, timeout: float
) -> tuple[int, str]:
    """The real :data:`Run`: stdout captured, stderr appended to ``log``."""
    with log.open("ab") as err:
        try:
            done = subprocess.run(
                list(argv),
                env={**os.environ, **extra_env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            return 127, ""
        except subprocess.TimeoutExpired:
            err.write(f"\n[timed out after {timeout:g} s]\n".encode())
            return 124, ""
    return done.returncode, done.stdout.decode(errors="replace")


def _tail(log: Path, lines: int = 12) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def given_archive(value: str) -> Path:
    """The archive named by ``$VSCODE_INTERACTIVE_E2E_ARCHIVE``."""
    path = Path(value).expanduser()
    if not path.is_file():
        raise ProvisionError(
            f"{ARCHIVE_ENV}={value} is not a file: point it at a "
            f"code-server-<version>-linux-amd64.tar.gz or unset it to build one with "
            f"{BUILD_SCRIPT.relative_to(REPO)}"
        )
    return path.absolute()


def build_code_server(script: Path, *, machine: tuple[str, str], run: Run, log: Path) -> Path:
    """The archive ``script`` builds (or finds in its cache); its last stdout line."""
    if machine != ("Linux", "x86_64"):
        raise ProvisionError(
            f"{script.name} builds code-server for Linux x86_64 only, this is "
            f"{machine[0]} {machine[1]}: set {ARCHIVE_ENV} to a code-server release "
            f"archive for this machine, or {_DESELECT}"
        )
    code, out = run(("bash", str(script)), {}, log, _BUILD_TIMEOUT)
    lines = out.strip().splitlines()
    if code != 0 or not lines or not Path(lines[-1]).is_file():
        raise ProvisionError(
            f"{script} could not build code-server (exit code {code}). It needs the npm "
            f"registry and, unless its build dependencies are installed, root for apt-get; "
            f"or set {ARCHIVE_ENV} to a built archive. Log {log}, last lines:\n{_tail(log)}"
        )
    return Path(lines[-1])


def ensure_chromium(
    executable: Path, *, installable: bool, is_root: bool, run: Run, log: Path
) -> Path:
    """``executable`` if it runs; else, when ``installable`` and root, Debian's chromium."""
    if _executable(executable):
        return executable
    if not installable:
        raise ProvisionError(
            f"{CHROMIUM_ENV}={executable} is not an executable file: point it at a Chromium "
            f"or unset it to use (or apt-install) Debian's {DEFAULT_CHROMIUM}"
        )
    if not is_root:
        raise ProvisionError(
            f"the end-to-end tests drive Chromium at {executable}, which is missing. "
            f"Install Debian's package (as root: apt-get install chromium), or set "
            f"{CHROMIUM_ENV} to a Chromium executable, or {_DESELECT}"
        )
    for argv in APT_CHROMIUM:
        code, _ = run(argv, APT_ENV, log, _APT_TIMEOUT)
        if code != 0:
            raise ProvisionError(
                f"`{' '.join(argv)}` failed (exit code {code}) while installing Chromium for "
                f"the end-to-end tests; install it yourself or set {CHROMIUM_ENV}. "
                f"Log {log}, last lines:\n{_tail(log)}"
            )
    if not _executable(executable):
        raise ProvisionError(
            f"apt-get installed chromium, but {executable} is still missing: set "
            f"{CHROMIUM_ENV} to the Chromium executable"
        )
    return executable


def _this_machine() -> tuple[str, str]:
    return platform.system(), platform.machine()


def _new_log(what: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=f"vscode-interactive-e2e-{what}-", suffix=".log")
    os.close(handle)
    return Path(name)


@dataclass
class Provisioner:
    """Gets each piece once per test run; a failure is remembered and raised again."""

    env: Mapping[str, str]
    run: Run = run_logged
    is_root: bool = field(default_factory=lambda: os.geteuid() == 0)
    machine: tuple[str, str] = field(default_factory=_this_machine)
    script: Path = BUILD_SCRIPT
    new_log: Callable[[str], Path] = _new_log
    _done: dict[str, Path | ProvisionError] = field(default_factory=dict)

    def archive(self) -> Path:
        """The code-server release archive (given, cached or built)."""
        return self._once("build", self._archive)

    def chromium(self) -> Path:
        """A Chromium executable (given, present or apt-installed)."""
        return self._once("chromium", self._chromium)

    def _archive(self, log: Path) -> Path:
        given = self.env.get(ARCHIVE_ENV)
        if given:
            return given_archive(given)
        return build_code_server(self.script, machine=self.machine, run=self.run, log=log)

    def _chromium(self, log: Path) -> Path:
        given = self.env.get(CHROMIUM_ENV)
        return ensure_chromium(
            Path(given) if given else DEFAULT_CHROMIUM,
            installable=not given,
            is_root=self.is_root,
            run=self.run,
            log=log,
        )

    def _once(self, what: str, get: Callable[[Path], Path]) -> Path:
        if what not in self._done:
            log = self.new_log(what)
            try:
                self._done[what] = get(log)
            except ProvisionError as error:
                self._done[what] = error
            # The log is kept only when a command failed (its error names the log).
            with contextlib.suppress(OSError):
                if not isinstance(self._done[what], ProvisionError) or not log.stat().st_size:
                    log.unlink()
        done = self._done[what]
        if isinstance(done, ProvisionError):
            raise done
        return done
