"""The cache against real URLs on 127.0.0.1, real files, and real child processes."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import queue as queue_module
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from tests.archives import tar_bytes
from tests.fakes import FakeClock
from tests.httpserver import LoopbackServer
from tests.waiting import wait_until
from vscode_interactive.cache import Cache, DownloadError

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
DATA = os.urandom(300_000)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_child(code: str, *args: str, umask: int | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    prefix = f"import os; os.umask({umask:#o})\n" if umask is not None else ""
    return subprocess.Popen(
        [sys.executable, "-c", prefix + code, *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_http_fast_path_sends_identity_and_storage_option_headers(
    tmp_path: Path, http_server: LoopbackServer
) -> None:
    """Plain http sends Accept-Encoding identity and the storage_options headers."""
    http_server.gzip = True
    url = http_server.add("/a/pkg.tar.gz", DATA)
    path = Cache(tmp_path).fetch(url, sha(DATA), storage_options={"headers": {"X-Token": "t1"}})
    assert path.read_bytes() == DATA
    headers = http_server.last_headers("/a/pkg.tar.gz")
    assert headers is not None
    assert headers["Accept-Encoding"] == "identity" and headers["X-Token"] == "t1"


def test_server_that_gzips_anyway_still_yields_the_file(
    tmp_path: Path, http_server: LoopbackServer
) -> None:
    """A server that gzips despite Accept-Encoding identity is decoded: the hash matches."""
    http_server.gzip_always = True
    url = http_server.add("/c/pkg.tar.gz", DATA)
    assert Cache(tmp_path).fetch(url, sha(DATA)).read_bytes() == DATA


def test_http_through_fsspec_when_options_need_it(
    tmp_path: Path, http_server: LoopbackServer
) -> None:
    """fsspec-only options route http through fsspec, still identity and headers."""
    http_server.gzip = True
    url = http_server.add("/b/pkg.tar.gz", DATA)
    options = {"headers": {"X-Token": "t2"}, "client_kwargs": {}}
    assert Cache(tmp_path).fetch(url, sha(DATA), storage_options=options).read_bytes() == DATA
    headers = http_server.last_headers("/b/pkg.tar.gz")
    assert headers is not None
    assert headers["Accept-Encoding"] == "identity" and headers["X-Token"] == "t2"


def test_local_paths_and_file_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain path (absolute or relative) and a file:// URL are fetched like any URL."""
    source = tmp_path / "src" / "tool.bin"
    source.parent.mkdir()
    source.write_bytes(DATA)
    cache = Cache(tmp_path / "cache")
    assert cache.fetch(str(source), sha(DATA)).read_bytes() == DATA
    assert cache.fetch(f"file://{source}", sha(DATA)).read_bytes() == DATA
    monkeypatch.chdir(source.parent)
    assert cache.fetch("tool.bin", sha(DATA)).read_bytes() == DATA
    assert cache.contains(str(source))


class _RecordingFS(MemoryFileSystem):
    """An fsspec filesystem for a made-up protocol, standing in for s3/gcs."""

    protocol = "vitest"

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return "/" + path.removeprefix("vitest://").lstrip("/")


def test_any_fsspec_protocol_gets_storage_options(tmp_path: Path) -> None:
    """memory:// and a registered protocol work; storage_options reach the filesystem."""
    fsspec.filesystem("memory").pipe("/bucket/m.bin", DATA)
    assert Cache(tmp_path).fetch("memory://bucket/m.bin", sha(DATA)).read_bytes() == DATA
    fsspec.register_implementation("vitest", _RecordingFS, clobber=True)
    options = {"token": "secret-token"}
    path = Cache(tmp_path).fetch("vitest://bucket/m.bin", storage_options=options)
    assert path.read_bytes() == DATA
    assert fsspec.filesystem("vitest", **options).storage_options == options


def test_http_503s_are_retried_then_reported(tmp_path: Path, http_server: LoopbackServer) -> None:
    """503s are retried on the clock; the final error names the URL and HTTP status."""
    url = http_server.add("/flaky.bin", DATA)
    http_server.fail_next("/flaky.bin", 2)
    clock = FakeClock()
    assert Cache(tmp_path, clock=clock).fetch(url).read_bytes() == DATA
    assert http_server.count("/flaky.bin") == 3 and clock.sleeps == [1.0, 2.0]
    url = http_server.add("/down.bin", DATA)
    http_server.fail_next("/down.bin", 10)
    with pytest.raises(DownloadError, match=r"after 3 attempt.*HTTP 503") as caught:
        Cache(tmp_path, clock=FakeClock(), retries=2).fetch(url)
    assert url in str(caught.value)
    with pytest.raises(DownloadError, match="404"):
        Cache(tmp_path, clock=clock).fetch(http_server.url("/missing.bin"))
    assert http_server.count("/missing.bin") == 1


def test_importing_does_not_import_fsspec() -> None:
    """Importing the package and CLI, and an http fetch, import neither fsspec nor aiohttp."""
    with LoopbackServer() as server:
        url = server.add("/x.bin", b"x")
        code = (
            "import sys, tempfile\n"
            "import vscode_interactive, vscode_interactive.cli\n"
            "from vscode_interactive.cache import Cache\n"
            "Cache(tempfile.mkdtemp()).fetch(sys.argv[1])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fsspec', 'aiohttp')))\n"
        )
        child = run_child(code, url)
        out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.strip() == "[]"


# -- many processes -------------------------------------------------------------------------


class _SayWaiting(logging.Handler):
    """Puts this process's pid on ``queue`` when the cache logs that it waits for the lock."""

    def __init__(self, queue: Any) -> None:
        super().__init__(logging.INFO)
        self.queue = queue

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("waiting for another process fetching"):
            self.queue.put(os.getpid())


def _worker(root: str, url: str, lock: bool, barrier: Any, waiting: Any, results: Any) -> None:
    logger = logging.getLogger("vscode_interactive")
    logger.setLevel(logging.INFO)
    logger.addHandler(_SayWaiting(waiting))
    barrier.wait(timeout=120)  # all 8 start together; a worker that never came breaks it
    tree = Cache(root, lock=lock).fetch_archive(url)
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
    results.put((str(tree), len(files), digest))


def _drain(queue: Any, into: list[int]) -> list[int]:
    with contextlib.suppress(queue_module.Empty):
        while True:
            into.append(queue.get_nowait())
    return into


@pytest.mark.parametrize("lock", [True, False])
def test_many_processes_fetch_the_same_url(
    tmp_path: Path, http_server: LoopbackServer, lock: bool
) -> None:
    """8 barrier-released processes: one transfer with the lock; all get the same tree."""
    # The server holds the body mid-way until the 7 others wait on the lock (they log it)
    # or, without the lock, until all 8 have asked for it: the processes really overlap.
    files = {f"pkg/f{n:02d}": os.urandom(20_000) for n in range(40)}
    url = http_server.add("/many.tar.gz", tar_bytes(files))
    gate = http_server.stall("/many.tar.gz", after=100_000)
    expected = hashlib.sha256(b"".join(files[name] for name in sorted(files))).hexdigest()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(8)
    waiting, results = context.Queue(), context.Queue()
    workers = [
        context.Process(target=_worker, args=(str(tmp_path), url, lock, barrier, waiting, results))
        for _ in range(8)
    ]
    for worker in workers:
        worker.start()
    try:
        if lock:
            seen: list[int] = []
            wait_until(
                lambda: len(set(_drain(waiting, seen))) == 7 and http_server.count("/many.tar.gz"),
                timeout=120,
                what="one download and 7 processes waiting on its lock",
            )
        else:
            wait_until(
                lambda: http_server.count("/many.tar.gz") == 8,
                timeout=120,
                what="8 downloads at once",
            )
    finally:
        gate.set()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert {outcome for outcome in outcomes} == {(outcomes[0][0], len(files), expected)}
    assert http_server.count("/many.tar.gz") == (1 if lock else 8)
    assert Cache(tmp_path).verify() == []
    assert list((tmp_path / "tmp").iterdir()) == []
    assert [p.name for p in (tmp_path / "trees").iterdir()] == [Path(outcomes[0][0]).parent.name]


# -- killed at any point ----------------------------------------------------------------------

_KILL_CHILD = r"""
import sys, time
from vscode_interactive.cache import Cache
root, url, point = sys.argv[1:4]

def hook(event, args):
    if point == "open-in-extraction" and event == "open":
        name = str(args[0])
        if "/trees/.tmp." in name and "/files/" in name and not name.endswith("/files"):
            hook.opens = getattr(hook, "opens", 0) + 1
            if hook.opens == 5:
                freeze()
    if event == "os.rename" and point != "open-in-extraction":
        if f"/{point}/" in str(args[1]) and ".trash" not in str(args[1]):
            freeze()

def freeze():
    print("FROZEN", flush=True)
    time.sleep(120)  # frozen mid-operation until the test kills it: the behaviour, not a wait

sys.addaudithook(hook)
print("READY", flush=True)
Cache(root, retries=0).fetch_archive(url)
print("DONE", flush=True)
"""


@pytest.fixture
def big_archive(http_server: LoopbackServer) -> tuple[str, dict[str, bytes]]:
    files = {f"pkg/f{n:03d}": os.urandom(30_000) for n in range(60)}
    return http_server.add("/big.tar.gz", tar_bytes(files)), files


@pytest.mark.parametrize("point", ["mid-stream", "open-in-extraction", "blobs", "urls", "trees"])
def test_killed_fetch_leaves_nothing_accepted_and_next_call_succeeds(
    tmp_path: Path,
    http_server: LoopbackServer,
    big_archive: tuple[str, dict[str, bytes]],
    point: str,
) -> None:
    """After SIGKILL at any stage no partial entry is accepted, the next call works and
    reclaims what the killed process left."""
    url, files = big_archive
    root = tmp_path / "cache"
    if point == "mid-stream":
        gate = http_server.stall("/big.tar.gz", after=800_000)
    if point == "open-in-extraction":
        Cache(root).fetch(url)  # the blob is cached; the child extracts it from disk
    child = run_child(_KILL_CHILD, str(root), url, point)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "READY"
    if point == "mid-stream":

        def part_filled() -> bool:
            assert child.poll() is None, child.stderr
            return any(p.stat().st_size >= 700_000 for p in (root / "tmp").glob("*.part"))

        wait_until(part_filled, timeout=30, what="700 kB in the child's .part file")
        wait_until(
            lambda: list((root / "trees").glob(".tmp.*/files/pkg/*")),
            timeout=30,
            what="the streaming extraction to be under way",
        )
    else:
        assert child.stdout.readline().strip() == "FROZEN"
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    child.communicate()
    if point == "mid-stream":
        gate.set()

    cache = Cache(root)
    entries = cache.entries()
    assert all(entry.extracted is None for entry in entries)
    assert list(root.glob("trees/*/complete.json")) == []
    if point in ("mid-stream", "blobs", "urls"):
        assert entries == [] and not cache.contains(url)
    tree = cache.fetch_archive(url)
    assert {
        str(p.relative_to(tree)): p.read_bytes() for p in tree.rglob("*") if p.is_file()
    } == files
    assert cache.verify() == []
    # The killed process's .part file and temp tree went with that next call, not an hour later.
    assert list((root / "tmp").iterdir()) == []
    assert list((root / "trees").glob(".*")) == []


def test_a_fetch_that_waited_on_a_killed_download_removes_what_it_left(
    tmp_path: Path,
    http_server: LoopbackServer,
    big_archive: tuple[str, dict[str, bytes]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fetch waiting on the lock of another process's download, which is then killed,
    takes over: when it returns, the killed process's .part file and temp tree are gone
    too (they were still in use when the waiting fetch first looked, before the lock)."""
    url, files = big_archive
    root = tmp_path / "cache"
    gate = http_server.stall("/big.tar.gz", after=800_000)
    child = run_child(_KILL_CHILD, str(root), url, "mid-stream")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "READY"
    wait_until(
        lambda: list((root / "trees").glob(".tmp.*/files/pkg/*")),
        timeout=30,
        what="the child's download and extraction to be under way",
    )
    caplog.set_level(logging.INFO, logger="vscode_interactive.cache")

    def waiting() -> bool:
        assert child.poll() is None, child.stderr
        return any(r.getMessage().startswith("waiting for another") for r in caplog.records)

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            fetched = pool.submit(Cache(root, retries=0).fetch_archive, url)
            wait_until(waiting, timeout=30, what="this process's fetch waiting on the lock")
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.communicate()
            gate.set()
        tree = fetched.result(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert {
        str(p.relative_to(tree)): p.read_bytes() for p in tree.rglob("*") if p.is_file()
    } == files
    assert http_server.count("/big.tar.gz") == 2
    assert list((root / "tmp").iterdir()) == []
    assert list((root / "trees").glob(".*")) == []


# -- permissions --------------------------------------------------------------------------------

_PERMS_CHILD = r"""
import sys
from vscode_interactive.cache import Cache
print(Cache(sys.argv[1]).fetch_archive(sys.argv[2]))
"""


@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o002, 0o664, 0o775), (0o022, 0o644, 0o755)]
)
def test_created_files_follow_the_umask(
    tmp_path: Path, http_server: LoopbackServer, umask: int, file_mode: int, dir_mode: int
) -> None:
    """Created files and dirs follow the umask (group-readable) and keep x bits."""
    data = tar_bytes(
        {"pkg/bin/tool": b"#!/bin/sh\n", "pkg/a.txt": b"a"}, executables=("pkg/bin/tool",)
    )
    url = http_server.add("/perm.tar.gz", data)
    child = run_child(_PERMS_CHILD, str(tmp_path / "c"), url, umask=umask)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    tree = Path(out.strip())
    modes = {
        str(p.relative_to(tmp_path / "c")): stat.S_IMODE(p.lstat().st_mode)
        for p in (tmp_path / "c").rglob("*")
        if not p.name.endswith(".lock")
    }
    for name, mode in modes.items():
        executable = name.endswith(("bin/tool",)) or (tmp_path / "c" / name).is_dir()
        assert mode == (dir_mode if executable else file_mode), (name, oct(mode))
    assert os.access(tree / "pkg/bin/tool", os.X_OK)


_READONLY_CHILD = r"""
import os, sys
import filelock  # imported before dropping privileges: /root is not readable by nobody
from vscode_interactive.cache import Cache, CacheError
root, blob_url, archive_url, missing_url = sys.argv[1:5]
cache = Cache(root, retries=0)
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
print(cache.fetch(blob_url))
print(cache.fetch_archive(archive_url))
try:
    cache.fetch(missing_url)
except CacheError as error:
    print("MISS:", type(error).__name__, error)
"""


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return {
        str(p): (p.lstat().st_mtime_ns, p.lstat().st_ctime_ns, p.lstat().st_mode)
        for p in [root, *root.rglob("*")]
    }


def test_read_only_cache_serves_hits(http_server: LoopbackServer) -> None:
    """A read-only cache read by an unprivileged user serves hits with no writes."""
    # Tests run as root, for whom chmod does not stop writes: the child drops to uid 65534
    # so the kernel really refuses them, and the on-disk snapshot proves no write happened.
    base = Path(tempfile.mkdtemp(prefix="vi-readonly-", dir="/tmp"))
    try:
        base.chmod(0o755)
        root = base / "cache"
        blob_url = http_server.add("/ro.bin", DATA)
        archive_url = http_server.add("/ro.tar.gz", tar_bytes({"pkg/a": b"a"}))
        Cache(root).fetch(blob_url)
        Cache(root).fetch_archive(archive_url)
        for path in [root, *root.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o555 if path.is_dir() else 0o444)
        before = _snapshot(root)
        child = run_child(
            _READONLY_CHILD, str(root), blob_url, archive_url, http_server.url("/new")
        )
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        lines = out.splitlines()
        assert Path(lines[0]).read_bytes() == DATA
        assert (Path(lines[1]) / "pkg/a").read_bytes() == b"a"
        assert lines[2].startswith("MISS: CacheError") and "cannot be written" in lines[2]
        assert http_server.count("/ro.bin") == 1 and http_server.count("/ro.tar.gz") == 1
        assert http_server.count("/new") == 0
        assert _snapshot(root) == before
    finally:
        for path in [base, *base.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(base)


def test_threads_waiting_on_the_lock_share_one_download(
    tmp_path: Path, http_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A thread waiting for another's download of the same URL gets the same result."""
    url = http_server.add("/slow.bin", DATA)
    gate = http_server.stall("/slow.bin", after=1000)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(Cache(tmp_path).fetch(url)))
        for _ in range(3)
    ]
    caplog.set_level(logging.INFO, logger="vscode_interactive.cache")

    def two_waiting() -> bool:
        waits = [r for r in caplog.records if r.getMessage().startswith("waiting for another")]
        return len(waits) == 2 and http_server.count("/slow.bin") == 1

    for thread in threads:
        thread.start()
    try:
        wait_until(two_waiting, timeout=30, what="one download and two threads on its lock")
    finally:
        gate.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 3 and len(set(results)) == 1
    assert http_server.count("/slow.bin") == 1
