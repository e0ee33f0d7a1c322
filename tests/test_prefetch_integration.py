"""The background install for real: job processes, the loopback server, a release archive.

Each job is a script run in its own interpreter: ``Session(run_task_first=True).run(task)``
where ``task`` waits until the test creates its ``go`` file, then returns 42 or raises. The
archive (``tests/artifacts.py``) wraps the fake code-server (``tests/fake_code_server.py``,
which serves ``/healthz`` and records extension installs) and logs every start; the
loopback server counts requests and can hold the archive after its first bytes until the
test opens the gate, which is how "before the prefetch ends" is made certain.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import vscode_interactive
from tests.artifacts import build_release_archive, build_vsix, read_invocations
from tests.fake_code_server import HERE as FAKE_CODE_SERVER
from tests.httpserver import LoopbackServer
from tests.waiting import kill_leftovers, wait_until, wait_until_gone
from vscode_interactive._install._arch import current_arch
from vscode_interactive._install._prefetch_request import child_argv
from vscode_interactive._layout import StateLayout
from vscode_interactive.cache import Cache
from vscode_interactive.cache._store import url_key

pytestmark = pytest.mark.integration

HOST = current_arch()
VERSION = "4.200.0"
ARCHIVE = f"/releases/code-server-{VERSION}-linux-{HOST.value}.tar.gz"
VSIX = "/vsx/pub.alpha-1.0.0.vsix"
BACKGROUND = re.compile(r"installing code-server in the background .*\(process (\d+),")

JOB = """
import logging
import sys
import time
from pathlib import Path

from vscode_interactive import Session, SessionConfig

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
MODE, GO, WORKSPACE = sys.argv[1], Path(sys.argv[2]), sys.argv[3]


def task():
    print("TASK STARTED", flush=True)
    deadline = time.monotonic() + 120
    while not GO.exists():
        if time.monotonic() > deadline:
            raise SystemExit("the test never released the task")
        time.sleep(0.02)
    if MODE == "fail":
        raise ValueError("the task failed on purpose")
    return 42


config = SessionConfig(
    run_task_first=True, port=0, auth="none", workspace_dir=WORKSPACE, check_interval=0.2,
    grace_seconds=2, start_timeout=30, max_idle_seconds=600,
)
print("RESULT", Session(config).run(task), flush=True)
"""

WRAPPER = """#!{python}
import json, runpy, sys
with open({log!r}, "a") as handle:
    handle.write(json.dumps(sys.argv[1:]) + "\\n")
sys.argv[0] = {fake!r}
runpy.run_path({fake!r}, run_name="__main__")
"""


@dataclass
class Job:
    """One job process; stdout/stderr in files; ``release()`` lets its task finish."""

    name: str
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def go(self) -> Path:
        return self.directory / "go"

    @property
    def workspace(self) -> Path:
        return self.directory / "ws"

    @property
    def stdout(self) -> str:
        return (self.directory / "stdout").read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return (self.directory / "stderr").read_text(errors="replace")

    def describe(self) -> str:
        return f"--- {self.name} stdout\n{self.stdout}\n--- stderr\n{self.stderr[-5000:]}"

    def release(self) -> None:
        self.go.touch()

    def logged(self, text: str, timeout: float = 60) -> None:
        def probe() -> bool | None:
            if text in self.stderr:
                return True
            assert self.process.poll() is None, f"the job ended early\n{self.describe()}"
            return None

        wait_until(probe, timeout=timeout, what=f"{text!r} in the log of {self.name}")

    def child_pid(self, timeout: float = 60) -> int:
        """The pid of the background install process, from the job's log."""

        def probe() -> int | None:
            match = BACKGROUND.search(self.stderr)
            return int(match.group(1)) if match else None

        return wait_until(probe, timeout=timeout, what=f"the background install of {self.name}")

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            message = f"{self.name} did not end in {timeout} s\n{self.describe()}"
            raise AssertionError(message) from None

    def ide_running(self, timeout: float = 60) -> dict[str, object]:
        layout = StateLayout.for_workspace(self.workspace)

        def probe() -> dict[str, object] | None:
            assert self.process.poll() is None, f"the job ended early\n{self.describe()}"
            try:
                info: dict[str, object] = json.loads(layout.session_info.read_text())
            except (OSError, ValueError):
                return None
            return info if info.get("state") == "running" else None

        return wait_until(probe, timeout=timeout, what=f"the IDE of {self.name}")


@dataclass
class World:
    tmp: Path
    server: LoopbackServer
    jobs: list[Job] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.starts = self.tmp / "code-server-starts.log"
        wrapper = WRAPPER.format(
            python=sys.executable, log=str(self.starts), fake=str(FAKE_CODE_SERVER)
        )
        # Padding makes the archive larger than the bytes sent before a stall.
        self.archive = build_release_archive(VERSION, wrapper, arch=HOST.value, padding=1 << 20)
        self.server.add(ARCHIVE, self.archive)
        self.server.add(VSIX, build_vsix("pub", "alpha", "1.0.0"))
        (self.tmp / "tmp").mkdir()

    def env(self, archive_url: str | None = None) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("VSCODE_INTERACTIVE_", "PYTEST_", "FAKE_CS_", "XDG_"))
        }
        env.update(
            HOME=str(self.tmp / "home"),
            TMPDIR=str(self.tmp / "tmp"),
            PATH="/usr/bin:/bin",
            PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
            VSCODE_INTERACTIVE_ENABLE="1",
            VSCODE_INTERACTIVE_CACHE=str(self.tmp / "cache"),
            VSCODE_INTERACTIVE_DATA_DIR=str(self.tmp / "data"),
            VSCODE_INTERACTIVE_CODE_SERVER_URL=archive_url or self.server.url(ARCHIVE),
            VSCODE_INTERACTIVE_EXTENSIONS=self.server.url(VSIX),
        )
        return env

    def start(
        self, name: str, mode: str, env: dict[str, str] | None = None, script: str = JOB
    ) -> Job:
        directory = self.tmp / name
        (directory / "ws").mkdir(parents=True)
        path = directory / "job.py"
        path.write_text(textwrap.dedent(script))
        with (directory / "stdout").open("wb") as out, (directory / "stderr").open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, str(path), mode, str(directory / "go"), str(directory / "ws")],
                cwd=directory,
                env=env or self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        job = Job(name, directory, process)
        self.jobs.append(job)
        return job

    def installs(self) -> list[list[str]]:
        """The file names of each ``--install-extension`` call code-server got."""
        return [
            [Path(a[i + 1]).name for i, arg in enumerate(a) if arg == "--install-extension"]
            for a in read_invocations(self.starts)
            if "--install-extension" in a
        ]

    def cache(self) -> Cache:
        return Cache(self.tmp / "cache")

    def archive_in_cache(self) -> bool:
        return any(entry.extracted for entry in self.cache().entries())

    def prefetch_logs(self) -> list[Path]:
        return sorted((self.tmp / "tmp").glob("vscode-interactive-prefetch-*.log"))


@pytest.fixture
def world(tmp_path: Path, http_server: LoopbackServer) -> Iterator[World]:
    world = World(tmp_path, http_server)
    yield world
    for job in world.jobs:
        if job.process.poll() is None:
            job.process.kill()
            job.process.wait(10)
    for job in world.jobs:
        match = BACKGROUND.search(job.stderr)
        if match:
            kill_leftovers([int(match.group(1))])


def test_success_before_the_prefetch_ends_returns_at_once_and_leaves_nothing(
    world: World,
) -> None:
    """The task returns while the archive is held mid-transfer: the job prints its value and
    exits at once (the gate still closed), the install process is gone, nothing is
    published in the cache and code-server was never started."""
    gate = world.server.stall(ARCHIVE, after=4096)
    job = world.start("job", "succeed")
    child = job.child_pid()
    wait_until(lambda: world.server.count(ARCHIVE) or None, timeout=60, what="the archive request")
    job.release()
    assert job.wait(30) == 0, job.describe()
    assert "RESULT 42" in job.stdout
    wait_until_gone([child], timeout=10)
    assert not world.archive_in_cache()
    assert read_invocations(world.starts) == []
    assert "failed" not in job.stderr
    gate.set()


def test_failure_before_the_prefetch_ends_waits_for_the_same_download(world: World) -> None:
    """The task fails while the archive is held: the session says it waits for the
    background install; once the gate opens the IDE comes up, and the archive and the
    extension were each requested once, installed by one code-server call."""
    gate = world.server.stall(ARCHIVE, after=4096)
    job = world.start("job", "fail")
    job.child_pid()
    wait_until(lambda: world.server.count(ARCHIVE) or None, timeout=60, what="the archive request")
    job.release()
    job.logged("waiting for the code-server install that started while the task ran")
    assert world.server.count(ARCHIVE) == 1
    gate.set()
    job.ide_running()
    assert world.server.count(ARCHIVE) == 1
    assert world.server.count(VSIX) == 1
    assert len(world.installs()) == 1
    assert "code-server was installed in the background" in job.stderr
    job.process.terminate()
    assert job.wait() == 128 + 15


def test_failure_after_the_prefetch_ended_starts_the_ide_without_installing(
    world: World,
) -> None:
    """The background install finishes while the task runs; when the task then fails, the
    session downloads nothing and installs nothing more: code-server's next start is the
    IDE itself."""
    job = world.start("job", "fail")
    job.logged("code-server was installed in the background")
    assert world.archive_in_cache()
    installs_before = world.installs()
    assert len(installs_before) == 1
    job.release()
    job.ide_running()
    assert world.server.count(ARCHIVE) == 1
    assert world.server.count(VSIX) == 1
    assert world.installs() == installs_before
    job.process.terminate()
    assert job.wait() == 128 + 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_failed_prefetch_is_logged_once_and_the_install_at_failure_time_works(
    world: World,
) -> None:
    """The archive's server is down while the task runs: the background install fails and
    says so once; the server comes back, the task fails, and the session installs as it
    always did and opens the IDE."""
    port = free_port()
    url = f"http://127.0.0.1:{port}{ARCHIVE}"
    job = world.start("job", "fail", env=world.env(archive_url=url))
    job.logged("installing code-server in the background failed", timeout=90)
    with LoopbackServer(port=port) as revived:
        revived.add(ARCHIVE, world.archive)
        job.release()
        job.ide_running()
        assert revived.count(ARCHIVE) == 1
        assert job.stderr.count("installing code-server in the background failed") == 1
        job.process.terminate()
        assert job.wait() == 128 + 15


def test_sigkill_mid_prefetch_leaves_nothing_that_breaks_the_next_run(world: World) -> None:
    """SIGKILL to the job while the archive is held: the install process dies with it; the
    next job (same cache) reclaims what the dead one left, installs, opens the IDE, and
    the cache verifies clean."""
    gate = world.server.stall(ARCHIVE, after=4096)
    first = world.start("first", "fail")
    child = first.child_pid()
    part = f"{url_key(world.server.url(ARCHIVE))[:16]}.*.{child}.*.part"

    def archive_part_written() -> list[Path]:
        parts = list((world.tmp / "cache" / "tmp").glob(part))
        return [path for path in parts if path.stat().st_size >= 4096]

    # The transfer is under way: what the killed install leaves is a .part file with bytes.
    wait_until(archive_part_written, timeout=60, what="the first 4096 bytes of the archive")
    first.process.kill()
    first.wait()
    # Only the child's main thread is known to be done here (a zombie): its other threads
    # may still be exiting and holding the archive's lock while the next job starts.
    wait_until_gone([child], timeout=15)
    assert not world.archive_in_cache()
    assert archive_part_written()
    gate.set()  # later requests are answered in full
    second = world.start("second", "fail")
    second.release()
    second.ide_running()
    assert world.server.count(ARCHIVE) == 2
    assert world.cache().verify() == []
    leftovers = list((world.tmp / "cache").rglob("*.part"))
    assert leftovers == []
    second.process.terminate()
    assert second.wait() == 128 + 15


def test_two_jobs_prefetching_share_one_transfer(world: World) -> None:
    """Two jobs on one node start their background installs while the archive is held: the
    second waits on the cache's lock for the first; once the gate opens both finish, with
    one request for the archive and one for the extension, and both tasks return."""
    gate = world.server.stall(ARCHIVE, after=4096)
    first = world.start("first", "succeed")
    second = world.start("second", "succeed")
    first.child_pid()
    second.child_pid()

    # The archive's lock, not the extension's (both are fetched at once, and the first job
    # takes a lock before its request reaches the server): wait for both facts.
    waiting = f"waiting for another process fetching {world.server.url(ARCHIVE)} "

    def waiting_on_the_lock() -> bool:
        logs = [log.read_text(errors="replace") for log in world.prefetch_logs()]
        return any(waiting in text for text in logs) and world.server.count(ARCHIVE) == 1

    wait_until(
        waiting_on_the_lock,
        timeout=60,
        what="one request for the archive and the other install waiting on its lock",
    )
    gate.set()
    first.logged("code-server was installed in the background")
    second.logged("code-server was installed in the background")
    assert world.server.count(ARCHIVE) == 1
    assert world.server.count(VSIX) == 1
    first.release()
    second.release()
    assert first.wait() == 0 and second.wait() == 0
    assert "RESULT 42" in first.stdout and "RESULT 42" in second.stdout


EXITING = """
import logging
import sys
import time
from pathlib import Path

from vscode_interactive import SessionConfig
from vscode_interactive._install._prefetch import start_prefetch
from vscode_interactive._system._os import OsEnvironment

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
GO = Path(sys.argv[2])
prefetch = start_prefetch(SessionConfig(run_task_first=True), OsEnvironment())
assert prefetch is not None
deadline = time.monotonic() + 120
while not GO.exists() and time.monotonic() < deadline:
    time.sleep(0.02)
print("EXITING", flush=True)
"""


def test_interpreter_exit_kills_and_reaps_a_running_prefetch(world: World) -> None:
    """A process that ends while its background install is held mid-download (nobody
    cancelled it) exits at once: the exit hook kills the install's group and reaps it."""
    gate = world.server.stall(ARCHIVE, after=4096)
    job = world.start("exiting", "-", script=EXITING)
    child = job.child_pid()
    wait_until(lambda: world.server.count(ARCHIVE) or None, timeout=60, what="the archive request")
    job.release()
    assert job.wait(30) == 0, job.describe()
    assert "EXITING" in job.stdout
    # Killed and reaped before the interpreter ended: not even a zombie is left.
    assert not Path(f"/proc/{child}").exists()
    assert not world.archive_in_cache()
    gate.set()


def test_the_child_program_refuses_to_run_without_a_request(tmp_path: Path) -> None:
    """Started by hand, the child says what it is for and exits 2, installing nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VSCODE_INTERACTIVE_")}
    argv = child_argv(sys.executable, Path(vscode_interactive.__file__).parent.parent)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "started by a session's background install" in done.stdout
