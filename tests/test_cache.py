"""Cache behaviour through the fake fetcher, clock and environment (no network, no sleep)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import filelock
import platformdirs
import pytest

from tests.fakes import FakeClock, FakeEnvironment, FakeFetcher
from tests.waiting import wait_until
from vscode_interactive import ConfigError
from vscode_interactive._ports import ByteStream
from vscode_interactive.cache import (
    Cache,
    CacheError,
    DownloadError,
    HashMismatchError,
    NotCachedError,
)
from vscode_interactive.cache._maintenance import has_exited

URL = "https://example.invalid/tools/pkg-1.0.bin"
DATA = b"payload " * 1000


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_cache(root: Path, fetcher: FakeFetcher, **options: object) -> Cache:
    clock = options.pop("clock", FakeClock())
    env = options.pop("env", FakeEnvironment())
    return Cache(root, fetcher=fetcher, clock=clock, env=env, **options)  # type: ignore[arg-type]  # test helper forwards keyword options


def leftovers(root: Path) -> list[Path]:
    """Temp files or dirs of unfinished work anywhere in the cache."""
    found = list((root / "tmp").glob("*")) if (root / "tmp").exists() else []
    found += list((root / "trees").glob(".*")) if (root / "trees").exists() else []
    return found


def test_fetch_stores_verified_file_under_its_hash(tmp_path: Path) -> None:
    """A pinned fetch streams once into blobs/<sha256>/<name> and leaves no temp file."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher)
    path = cache.fetch(URL, sha(DATA))
    assert path == tmp_path / "blobs" / sha(DATA) / "pkg-1.0.bin"
    assert path.read_bytes() == DATA
    assert [url for url, _ in fetcher.opened] == [URL]
    assert leftovers(tmp_path) == []
    assert cache.recorded_sha256(URL) == sha(DATA)


def test_pinned_mismatch_raises_and_publishes_nothing(tmp_path: Path) -> None:
    """A wrong pin raises HashMismatchError naming URL, expected and actual; nothing stays."""
    wrong = "0" * 64
    cache = make_cache(tmp_path, FakeFetcher({URL: DATA}))
    with pytest.raises(HashMismatchError) as caught:
        cache.fetch(URL, wrong)
    error = caught.value
    assert (error.url, error.expected, error.actual) == (URL, wrong, sha(DATA))
    assert URL in str(error) and wrong in str(error) and sha(DATA) in str(error)
    assert isinstance(error, ValueError)
    assert not (tmp_path / "blobs" / sha(DATA)).exists()
    assert cache.recorded_sha256(URL) is None
    assert leftovers(tmp_path) == []


def test_bad_pin_is_a_config_error(tmp_path: Path) -> None:
    """A pin that is not 64 hex digits is refused before any download."""
    fetcher = FakeFetcher({URL: DATA})
    with pytest.raises(ConfigError, match="64 hex digits"):
        make_cache(tmp_path, fetcher).fetch(URL, "abc")
    assert fetcher.opened == []


def test_unpinned_hash_is_trusted_on_first_use_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a pin the first hash is recorded for the URL and a warning says so."""
    cache = make_cache(tmp_path, FakeFetcher({URL: DATA}))
    with caplog.at_level(logging.WARNING, logger="vscode_interactive.cache"):
        cache.fetch(URL)
    assert cache.recorded_sha256(URL) == sha(DATA)
    assert "not pinned" in caplog.text and sha(DATA) in caplog.text


def test_unpinned_later_download_is_checked_against_first_hash(tmp_path: Path) -> None:
    """After the blob is gone, a changed file at the same URL raises; the same one passes."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher)
    cache.fetch(URL)
    assert cache.prune(max_bytes=0) != []
    fetcher.content[URL] = b"tampered" + DATA
    with pytest.raises(HashMismatchError, match="trust on first use") as caught:
        cache.fetch(URL)
    assert caught.value.expected == sha(DATA)
    assert leftovers(tmp_path) == []
    fetcher.content[URL] = DATA
    assert cache.fetch(URL).read_bytes() == DATA
    assert len(fetcher.opened) == 3


def test_forget_lets_a_changed_file_be_trusted_again(tmp_path: Path) -> None:
    """forget() drops the entry and its trusted hash."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher)
    cache.fetch(URL)
    assert cache.forget(URL) is True
    assert cache.forget(URL) is False
    fetcher.content[URL] = b"new"
    assert cache.fetch(URL).read_bytes() == b"new"
    assert cache.recorded_sha256(URL) == sha(b"new")


def test_a_pin_overrides_the_trusted_hash(tmp_path: Path) -> None:
    """An explicit pin that differs from the recorded hash downloads and re-records."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher)
    cache.fetch(URL)
    fetcher.content[URL] = b"v2"
    assert cache.fetch(URL, sha(b"v2")).read_bytes() == b"v2"
    assert cache.recorded_sha256(URL) == sha(b"v2")


def test_hit_uses_no_network_and_no_full_rehash(tmp_path: Path) -> None:
    """A hit only stats the blob (same-size corruption passes); verify() re-hashes and finds it."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher)
    path = cache.fetch(URL, sha(DATA))
    before = path.stat()
    path.write_bytes(b"X" * len(DATA))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert cache.fetch(URL, sha(DATA)) == path
    assert cache.contains(URL, sha(DATA))
    assert len(fetcher.opened) == 1
    problems = cache.verify()
    assert [problem.path for problem in problems] == [path]
    assert "content changed" in problems[0].message


def test_verify_remove_bad_makes_the_next_fetch_download_again(tmp_path: Path) -> None:
    """verify(remove_bad=True) deletes a corrupt blob; the next fetch repairs it."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher)
    path = cache.fetch(URL)
    stat = path.stat()
    path.write_bytes(b"Y" * len(DATA))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert len(cache.verify(remove_bad=True)) == 1
    assert cache.verify() == []
    assert cache.fetch(URL).read_bytes() == DATA
    assert len(fetcher.opened) == 2


def test_changed_mtime_triggers_one_rehash_not_a_download(tmp_path: Path) -> None:
    """A blob copied with a new mtime is re-hashed once and accepted; corrupt ones are not."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher)
    path = cache.fetch(URL)
    os.utime(path, ns=(1, 1))
    assert cache.fetch(URL) == path
    assert len(fetcher.opened) == 1
    record = (tmp_path / "urls").glob("*.json").__next__().read_text()
    assert '"mtime_ns": 1' in record
    path.write_bytes(b"Z" * len(DATA))
    os.utime(path, ns=(2, 2))
    assert cache.fetch(URL).read_bytes() == DATA
    assert len(fetcher.opened) == 2


def test_truncated_blob_is_downloaded_again(tmp_path: Path) -> None:
    """A blob whose size differs from the record is not a hit."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher)
    path = cache.fetch(URL)
    path.write_bytes(DATA[:10])
    assert not cache.contains(URL)
    assert cache.fetch(URL).read_bytes() == DATA
    assert len(fetcher.opened) == 2


def test_offline_serves_hits_and_refuses_misses(tmp_path: Path) -> None:
    """Offline (argument or env): hits need no fetch; a miss raises NotCachedError with the URL."""
    make_cache(tmp_path, FakeFetcher({URL: DATA})).fetch(URL)
    fetcher = FakeFetcher({URL: DATA, URL + "2": DATA})
    env = FakeEnvironment({"VSCODE_INTERACTIVE_OFFLINE": "1"})
    for cache in (
        make_cache(tmp_path, fetcher, offline=True),
        make_cache(tmp_path, fetcher, env=env),
    ):
        assert cache.offline
        assert cache.fetch(URL).read_bytes() == DATA
        with pytest.raises(NotCachedError) as caught:
            cache.fetch(URL + "2")
        assert caught.value.url == URL + "2" and URL + "2" in str(caught.value)
        assert isinstance(caught.value, FileNotFoundError)
    assert fetcher.opened == []


def test_offline_flag_values(tmp_path: Path) -> None:
    """The offline variable accepts 1/0-style values and rejects others clearly."""
    for value, expected in (("1", True), ("true", True), ("0", False), ("", False)):
        env = FakeEnvironment({"VSCODE_INTERACTIVE_OFFLINE": value})
        assert make_cache(tmp_path, FakeFetcher(), env=env).offline is expected
    with pytest.raises(ConfigError, match="VSCODE_INTERACTIVE_OFFLINE"):
        make_cache(
            tmp_path, FakeFetcher(), env=FakeEnvironment({"VSCODE_INTERACTIVE_OFFLINE": "2"})
        )


def test_root_comes_from_argument_then_env_then_platform(tmp_path: Path) -> None:
    """root: argument > $VSCODE_INTERACTIVE_CACHE > platformdirs user cache dir."""
    env = FakeEnvironment({"VSCODE_INTERACTIVE_CACHE": str(tmp_path / "env")})
    clock = FakeClock()
    assert Cache(tmp_path / "arg", env=env, clock=clock).root == tmp_path / "arg"
    assert Cache(env=env, clock=clock).root == tmp_path / "env"
    default = Cache(env=FakeEnvironment(), clock=clock).root
    assert default == platformdirs.user_cache_path("vscode-interactive")


def test_transient_errors_are_retried_with_backoff_on_the_clock(tmp_path: Path) -> None:
    """Two connection errors, then success: waits 1 s and 2 s on the clock, never sleeps."""
    clock = FakeClock()
    fetcher = FakeFetcher({URL: DATA}, failures={URL: [ConnectionError("reset"), TimeoutError()]})
    cache = make_cache(tmp_path, fetcher, clock=clock, retries=3, backoff=1.0)
    assert cache.fetch(URL).read_bytes() == DATA
    assert clock.sleeps == [1.0, 2.0]
    assert len(fetcher.opened) == 3


def test_last_retry_failure_names_url_and_cause(tmp_path: Path) -> None:
    """After the last try, DownloadError carries the URL and the cause."""
    clock = FakeClock()
    failures: dict[str, list[OSError]] = {URL: [ConnectionError("boom")] * 4}
    fetcher = FakeFetcher({URL: DATA}, failures=failures)
    cache = make_cache(tmp_path, fetcher, clock=clock, retries=3, backoff=0.5)
    with pytest.raises(DownloadError) as caught:
        cache.fetch(URL)
    assert caught.value.url == URL
    assert (
        URL in str(caught.value)
        and "boom" in str(caught.value)
        and "4 attempt" in str(caught.value)
    )
    assert isinstance(caught.value.__cause__, ConnectionError)
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert leftovers(tmp_path) == []


def test_missing_url_is_not_retried(tmp_path: Path) -> None:
    """A 404 (FileNotFoundError) fails at once with a DownloadError."""
    clock = FakeClock()
    fetcher = FakeFetcher()
    with pytest.raises(DownloadError, match="could not download"):
        make_cache(tmp_path, fetcher, clock=clock).fetch(URL)
    assert clock.sleeps == []
    assert len(fetcher.opened) == 1


class _ScriptedStream:
    """Returns ``chunk``-sized pieces; optionally breaks after some bytes; moves the clock."""

    def __init__(
        self, data: bytes, clock: FakeClock, *, chunk: int, fail_after: int | None
    ) -> None:
        self._data = io.BytesIO(data)
        self._clock = clock
        self._chunk = chunk
        self._fail_after = fail_after
        self.size: int | None = len(data)

    def read(self, n: int, /) -> bytes:
        if self._fail_after is not None and self._data.tell() >= self._fail_after:
            raise ConnectionResetError("connection reset by peer")
        self._clock.jump(1.0)
        return self._data.read(min(n, self._chunk))


class _ScriptedFetcher:
    def __init__(
        self, data: bytes, clock: FakeClock, *, chunk: int, fail_first_after: int | None = None
    ) -> None:
        self.data = data
        self.clock = clock
        self.chunk = chunk
        self.fail_first_after = fail_first_after
        self.opens = 0

    @contextlib.contextmanager
    def open(self, url: str, storage_options: Mapping[str, object]) -> Iterator[ByteStream]:
        self.opens += 1
        fail = self.fail_first_after if self.opens == 1 else None
        yield _ScriptedStream(self.data, self.clock, chunk=self.chunk, fail_after=fail)


def test_failure_mid_stream_is_retried_from_scratch(tmp_path: Path) -> None:
    """A connection reset half-way restarts the transfer; the result is whole."""
    clock = FakeClock()
    fetcher = _ScriptedFetcher(DATA, clock, chunk=1000, fail_first_after=3000)
    cache = Cache(tmp_path, fetcher=fetcher, clock=clock, env=FakeEnvironment())
    assert cache.fetch(URL, sha(DATA)).read_bytes() == DATA
    assert fetcher.opens == 2
    assert leftovers(tmp_path) == []


def test_progress_logs_at_intervals_and_calls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One log line per interval with bytes, percent and rate; the callback sees each step."""
    clock = FakeClock()
    data = bytes(10 * 1024 * 1024)
    fetcher = _ScriptedFetcher(data, clock, chunk=1024 * 1024)
    seen: list[tuple[int, int | None]] = []
    cache = Cache(
        tmp_path,
        fetcher=fetcher,
        clock=clock,
        env=FakeEnvironment(),
        progress=lambda done, total: seen.append((done, total)),
        log_interval=3.0,
    )
    with caplog.at_level(logging.INFO, logger="vscode_interactive.cache"):
        cache.fetch(URL, sha(data))
    lines = [r.getMessage() for r in caplog.records if "MiB of" in r.getMessage()]
    assert lines == [
        f"downloading {URL}: 3.0 MiB of 10.0 MiB (30%) at 1.0 MiB/s",
        f"downloading {URL}: 6.0 MiB of 10.0 MiB (60%) at 1.0 MiB/s",
        f"downloading {URL}: 9.0 MiB of 10.0 MiB (90%) at 1.0 MiB/s",
    ]
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


class _FakeBar:
    instances: ClassVar[list[_FakeBar]] = []

    def __init__(self, **options: object) -> None:
        self.options = options
        self.updates: list[int] = []
        self.closed = False
        _FakeBar.instances.append(self)

    def update(self, n: int) -> None:
        self.updates.append(n)

    def close(self) -> None:
        self.closed = True


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize("tty", [True, False])
def test_tqdm_bar_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tty: bool
) -> None:
    """With tqdm importable, a bar is drawn only when stderr is a terminal."""
    fake_tqdm = types.ModuleType("tqdm")
    fake_tqdm.tqdm = _FakeBar  # type: ignore[attr-defined]  # a stand-in module built at runtime
    monkeypatch.setitem(sys.modules, "tqdm", fake_tqdm)
    monkeypatch.setattr(sys, "stderr", _Terminal(tty))
    _FakeBar.instances.clear()
    make_cache(tmp_path, FakeFetcher({URL: DATA})).fetch(URL)
    if tty:
        [bar] = _FakeBar.instances
        assert sum(bar.updates) == len(DATA) and bar.closed
        assert bar.options["total"] == len(DATA)
    else:
        assert _FakeBar.instances == []


def test_storage_options_are_merged_and_passed_through(tmp_path: Path) -> None:
    """Constructor options are defaults; per-call options win; both reach the fetcher."""
    fetcher = FakeFetcher({URL: DATA})
    cache = make_cache(tmp_path, fetcher, storage_options={"anon": True, "headers": {"a": "1"}})
    cache.fetch(URL, storage_options={"headers": {"b": "2"}})
    assert fetcher.opened == [(URL, {"anon": True, "headers": {"b": "2"}})]


def test_entries_list_each_download(tmp_path: Path) -> None:
    """entries() reports URL, hash, size, path, extracted dir and fetch time."""
    clock = FakeClock()
    cache = make_cache(tmp_path, FakeFetcher({URL: DATA, URL + "x": b"x"}), clock=clock)
    cache.fetch(URL, sha(DATA))
    clock.jump(10)
    cache.fetch(URL + "x")
    first, second = cache.entries()
    assert (first.url, first.sha256, first.size, first.pinned) == (URL, sha(DATA), len(DATA), True)
    assert first.path.read_bytes() == DATA and first.extracted is None
    assert second.fetched - first.fetched == 10 and not second.pinned


def test_prune_by_age_and_size(tmp_path: Path) -> None:
    """prune(older_than) drops old entries; prune(max_bytes) drops the oldest first."""
    clock = FakeClock()
    urls = [f"https://example.invalid/{n}.bin" for n in range(3)]
    cache = make_cache(tmp_path, FakeFetcher({u: u.encode() * 100 for u in urls}), clock=clock)
    for url in urls:
        cache.fetch(url)
        clock.jump(100)
    assert [e.url for e in cache.prune(older_than=250, dry_run=True)] == urls[:1]
    assert len(cache.entries()) == 3
    assert [e.url for e in cache.prune(older_than=250)] == urls[:1]
    size = cache.entries()[-1].total_size
    assert [e.url for e in cache.prune(max_bytes=size)] == urls[1:2]
    assert [e.url for e in cache.entries()] == urls[2:]
    assert cache.recorded_sha256(urls[0]) is not None  # trust survives pruning


def test_prune_skips_entries_whose_lock_is_held(tmp_path: Path) -> None:
    """An entry being fetched (its lock held) is never pruned."""
    cache = make_cache(tmp_path, FakeFetcher({URL: DATA}))
    path = cache.fetch(URL)
    held = filelock.FileLock(
        str(tmp_path / "locks" / f"{hashlib.sha256(URL.encode()).hexdigest()}.lock")
    )
    with held:
        assert cache.prune(max_bytes=0) == []
    assert path.exists()
    assert [e.url for e in cache.prune(max_bytes=0)] == [URL]
    assert not path.exists()


def test_hits_write_nothing(tmp_path: Path) -> None:
    """Hits (fetch, fetch_archive, contains, entries) change no file or directory."""
    from tests.archives import tar_bytes

    archive = tar_bytes({"pkg/a.txt": b"a"})
    cache = make_cache(tmp_path, FakeFetcher({URL: DATA, URL + ".tgz": archive}))
    cache.fetch(URL)
    cache.fetch_archive(URL + ".tgz")

    def snapshot() -> dict[str, tuple[int, int, int]]:
        return {
            str(path): (path.lstat().st_mtime_ns, path.lstat().st_ctime_ns, path.lstat().st_size)
            for path in [tmp_path, *tmp_path.rglob("*")]
        }

    before = snapshot()
    cache.fetch(URL)
    cache.fetch_archive(URL + ".tgz")
    assert cache.contains(URL) and len(cache.entries()) == 2
    assert snapshot() == before


def test_miss_in_unwritable_cache_says_so(tmp_path: Path) -> None:
    """A miss where the cache root cannot be created raises CacheError naming the root."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = make_cache(blocker / "cache", FakeFetcher({URL: DATA}))
    with pytest.raises(CacheError, match="cannot be written"):
        cache.fetch(URL)


# -- leftovers of killed downloads (issue 18, point 11) ----------------------------------------


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _leftover(root: Path, url: str, *, pid: int, host: str | None = None) -> tuple[Path, Path]:
    """A ``.part`` file and an extraction temp dir as a process ``pid`` on ``host`` (default:
    this one) leaves them when it is killed mid-download."""
    import socket

    host = host or socket.gethostname()
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    part = root / "tmp" / f"{key}.{host}.{pid}.0123456789ab.part"
    tree = root / "trees" / f".tmp.{key}.{host}.{pid}.0123456789ab"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"x" * 100_000)
    (tree / "files" / "pkg").mkdir(parents=True)
    (tree / "files" / "pkg" / "bin").write_bytes(b"y" * 100_000)
    return part, tree


def test_a_miss_reclaims_leftovers_of_dead_downloads_right_away(tmp_path: Path) -> None:
    """The next download removes the .part file and temp tree of a killed process at once,
    not an hour later, and leaves those of live processes and other hosts alone."""
    other = "https://example.invalid/other.bin"
    dead = _leftover(tmp_path, other, pid=_dead_pid())
    live = _leftover(tmp_path, other + "2", pid=os.getpid())
    elsewhere = _leftover(tmp_path, other + "3", pid=_dead_pid(), host="another-host")
    cache = make_cache(tmp_path, FakeFetcher({URL: DATA}))
    cache.fetch(URL)
    assert not any(path.exists() for path in dead)
    assert all(path.exists() for path in (*live, *elsewhere))


def test_a_miss_reclaims_the_leftovers_of_a_zombie(tmp_path: Path) -> None:
    """A killed download whose process is a zombie nobody reaped yet (an orphan waiting on
    PID 1) counts as dead: its .part file and temp tree go at the next miss."""
    import subprocess

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_until(
            lambda: (
                Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
            ),
            timeout=30,
            what="the child to exit (a zombie, not reaped)",
        )
        leftovers = _leftover(tmp_path, "https://example.invalid/other.bin", pid=zombie.pid)
        make_cache(tmp_path, FakeFetcher({URL: DATA})).fetch(URL)
        assert not any(path.exists() for path in leftovers)
    finally:
        zombie.wait()


def test_leftovers_whose_download_lock_is_held_are_kept(tmp_path: Path) -> None:
    """A leftover named after a dead pid is kept while its URL's lock is held (another pid
    namespace on the same host may still be writing it)."""
    other = "https://example.invalid/other.bin"
    dead = _leftover(tmp_path, other, pid=_dead_pid())
    cache = make_cache(tmp_path, FakeFetcher({URL: DATA}))
    (tmp_path / "locks").mkdir(exist_ok=True)
    key = hashlib.sha256(other.encode()).hexdigest()
    with filelock.FileLock(str(tmp_path / "locks" / f"{key}.lock")):
        cache.fetch(URL)
        assert all(path.exists() for path in dead)
    cache.prune()
    assert not any(path.exists() for path in dead)


def test_a_fetch_that_waited_on_its_lock_removes_the_leftovers_of_its_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Leftovers of a dead process named for the URL being fetched, whose lock someone held
    when the fetch started (a killed download's last thread not done exiting, say), are
    removed once the fetch has the lock: when it returns, not at some later miss."""
    from concurrent.futures import ThreadPoolExecutor

    dead = _leftover(tmp_path, URL, pid=_dead_pid())
    cache = make_cache(tmp_path, FakeFetcher({URL: DATA}))
    (tmp_path / "locks").mkdir(exist_ok=True)
    key = hashlib.sha256(URL.encode()).hexdigest()
    lock = filelock.FileLock(str(tmp_path / "locks" / f"{key}.lock"))
    caplog.set_level(logging.INFO, logger="vscode_interactive.cache")

    def waiting() -> bool:
        return any(r.getMessage().startswith("waiting for another") for r in caplog.records)

    with ThreadPoolExecutor(max_workers=1) as pool:
        with lock:
            fetched = pool.submit(cache.fetch, URL)
            wait_until(waiting, timeout=30, what="the fetch waiting on the URL's lock")
            assert all(path.exists() for path in dead)
        assert fetched.result(timeout=30).read_bytes() == DATA
    assert not any(path.exists() for path in dead)


@pytest.mark.parametrize(
    ("state", "flags", "exited"),
    [
        ("S", 0x400000, False),
        ("R", 0x400000, False),
        ("D", 0x404044, True),
        ("R", 0x4, True),
        ("Z", 0x400000, True),
        ("X", 0, True),
    ],
)
def test_a_process_has_exited_once_its_main_thread_is_a_zombie_or_exiting(
    state: str, flags: int, exited: bool
) -> None:
    """/proc stat text: a zombie (dead) main thread, or one with the exiting flag, means the
    process writes nothing more; a running or sleeping one does not (a name may hold ')')."""
    stat = f"4242 (py) thon) {state} 1 4242 4242 0 -1 {flags} 120 0 0 0 3 1 0 0 20 0 2 0"
    assert has_exited(stat) is exited
