"""Strictly typed fakes of every Protocol in ``vscode_interactive._ports``.

Unit tests build the logic with these instead of patching our internals. Each fake
records what was asked of it so tests can assert on behaviour, and time only moves when
someone sleeps on (or jumps) the :class:`FakeClock`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import signal
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from vscode_interactive._errors import (
    ConfigError,
    DownloadError,
    ExtractionError,
    HashMismatchError,
)
from vscode_interactive._ports import (
    ArtifactStore,
    BytesCommandRunner,
    BytesResult,
    ByteStream,
    Clock,
    CommandResult,
    CommandRunner,
    EditorWindows,
    Environment,
    Fetcher,
    FileUploader,
    Health,
    HealthProbe,
    Interrupts,
    PortAllocator,
    Priorities,
    PriorityLevels,
    ProcessHandle,
    ProcessLauncher,
    Wakeup,
)
from vscode_interactive.cache._store import blob_name

__all__ = [
    "FakeArtifactStore",
    "FakeBytesRunner",
    "FakeClock",
    "FakeCommandRunner",
    "FakeEditorWindows",
    "FakeEnvironment",
    "FakeFetcher",
    "FakeHealthProbe",
    "FakeInterrupts",
    "FakeLauncher",
    "FakePortAllocator",
    "FakePostMortem",
    "FakePriorities",
    "FakeProcess",
    "FakeUploader",
    "FakeWakeup",
    "WaitedProcess",
]


class FakeClock:
    """Time that advances only through :meth:`sleep` and :meth:`jump`.

    ``on_sleep`` callbacks run after each sleep, which is how a test makes the world
    change "while" the code under test waits.
    """

    def __init__(self, start: float = 1_000.0, wall_start: float = 1_700_000_000.0) -> None:
        self._mono = start
        self._offset = wall_start - start
        self.sleeps: list[float] = []
        self.on_sleep: list[Callable[[FakeClock], None]] = []

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> float:
        return self._mono + self._offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.jump(max(seconds, 0.0))
        for callback in list(self.on_sleep):
            callback(self)

    def jump(self, seconds: float) -> None:
        """Move time forward without recording a sleep."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._mono += seconds


@dataclass(slots=True)
class _MemoryStream:
    data: io.BytesIO
    size: int | None

    def read(self, n: int, /) -> bytes:
        return self.data.read(n)


@dataclass
class FakeFetcher:
    """Serves bytes from a dict of URL -> content.

    ``failures[url]`` is a list of exceptions raised by successive opens before the
    content is served (to script transient errors). ``opened`` records every open.
    """

    content: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[OSError]] = field(default_factory=dict)
    opened: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    report_size: bool = True

    @contextlib.contextmanager
    def open(self, url: str, storage_options: Mapping[str, object]) -> Iterator[ByteStream]:
        self.opened.append((url, dict(storage_options)))
        pending = self.failures.get(url)
        if pending:
            raise pending.pop(0)
        if url not in self.content:
            raise FileNotFoundError(f"fake: no content for {url}")
        data = self.content[url]
        yield _MemoryStream(io.BytesIO(data), len(data) if self.report_size else None)


class FakeProcess:
    """A process whose life is scripted against a :class:`FakeClock`.

    ``exits_at``: monotonic time at which it exits by itself with ``exit_code``.
    ``ignores_sigterm``: SIGTERM does nothing (so the caller must escalate to SIGKILL).
    ``grandchild``: a descendant that survives the leader until SIGKILL reaches the group.
    ``log_text``: what the process "prints"; :class:`FakeLauncher` appends it to the log.
    """

    def __init__(
        self,
        clock: FakeClock,
        *,
        pid: int = 4242,
        exits_at: float | None = None,
        exit_code: int = 0,
        ignores_sigterm: bool = False,
        grandchild: bool = False,
        log_text: str = "",
    ) -> None:
        self._clock = clock
        self.log_text = log_text
        self._pid = pid
        self.exits_at = exits_at
        self.exit_code = exit_code
        self.ignores_sigterm = ignores_sigterm
        self._returncode: int | None = None
        self._grandchild_alive = grandchild
        self.signals: list[int] = []

    @property
    def pid(self) -> int:
        return self._pid

    def _tick(self) -> None:
        if (
            self._returncode is None
            and self.exits_at is not None
            and self._clock.monotonic() >= self.exits_at
        ):
            self._returncode = self.exit_code

    def exit(self, code: int) -> None:
        """Make the leader exit now with ``code``."""
        if self._returncode is None:
            self._returncode = code

    def poll(self) -> int | None:
        self._tick()
        return self._returncode

    def wait(self, timeout: float) -> int | None:
        self._tick()
        if self._returncode is None and self.exits_at is not None:
            remaining = self.exits_at - self._clock.monotonic()
            if remaining <= timeout:
                self._clock.jump(max(remaining, 0.0))
                self._tick()
                return self._returncode
        if self._returncode is None:
            self._clock.jump(max(timeout, 0.0))
        return self._returncode

    def signal_group(self, signum: int) -> None:
        self.signals.append(signum)
        if signum == signal.SIGKILL:
            self._grandchild_alive = False
            self.exit(-signal.SIGKILL)
        elif signum in (signal.SIGTERM, signal.SIGINT) and not self.ignores_sigterm:
            self.exit(-signum)

    def group_alive(self) -> bool:
        return self.poll() is None or self._grandchild_alive


class WaitedProcess:
    """A process that another thread waits for: :meth:`wait` really blocks (up to its
    timeout) until :meth:`exit` or a SIGKILL/SIGTERM to the group ends it. ``log_text``:
    what it "prints" (see :class:`FakeLauncher`)."""

    def __init__(self, pid: int = 5151, *, log_text: str = "") -> None:
        self._pid = pid
        self.log_text = log_text
        self._ended = threading.Event()
        self._code: int | None = None
        self.signals: list[int] = []

    @property
    def pid(self) -> int:
        return self._pid

    def exit(self, code: int) -> None:
        if not self._ended.is_set():
            self._code = code
            self._ended.set()

    def poll(self) -> int | None:
        return self._code

    def wait(self, timeout: float) -> int | None:
        self._ended.wait(max(timeout, 0.0))
        return self._code

    def signal_group(self, signum: int) -> None:
        self.signals.append(signum)
        if signum in (signal.SIGKILL, signal.SIGTERM):
            self.exit(-signum)

    def group_alive(self) -> bool:
        return not self._ended.is_set()


_SESSION_LEVELS = PriorityLevels(nice=0, io=4)


class FakePriorities:
    """Records every change; ``lower_group`` answers ``levels`` (None: "not allowed")."""

    def __init__(self, levels: PriorityLevels | None = _SESSION_LEVELS) -> None:
        self.levels = levels
        self.calls: list[tuple[str, int, PriorityLevels | None]] = []
        self._lock = threading.Lock()

    def lower_group(self, pgid: int) -> PriorityLevels | None:
        with self._lock:
            self.calls.append(("lower_group", pgid, None))
        return self.levels

    def restore_group(self, pgid: int, levels: PriorityLevels) -> None:
        with self._lock:
            self.calls.append(("restore_group", pgid, levels))


@dataclass
class _Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path | None
    log_path: Path | None


class FakeLauncher:
    """Hands out scripted :class:`FakeProcess` objects and records each launch."""

    def __init__(self, *processes: FakeProcess | WaitedProcess) -> None:
        self._queue = list(processes)
        self.launches: list[_Launch] = []
        self.error: OSError | None = None

    def launch(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        log_path: Path | None = None,
    ) -> ProcessHandle:
        self.launches.append(_Launch(list(argv), dict(env), cwd, log_path))
        if self.error is not None:
            raise self.error
        if not self._queue:
            raise AssertionError("FakeLauncher: no scripted process left to launch")
        process = self._queue.pop(0)
        if log_path is not None and process.log_text:
            with log_path.open("a", encoding="utf-8") as log:
                log.write(process.log_text)
        return process


class FakeCommandRunner:
    """Answers commands through a responder function; records each argv."""

    def __init__(self, responder: Callable[[list[str]], CommandResult] | None = None) -> None:
        self._responder = responder or (lambda argv: CommandResult(0, "", ""))
        self.calls: list[list[str]] = []
        self.envs: list[dict[str, str] | None] = []

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        self.calls.append(list(argv))
        self.envs.append(dict(env) if env is not None else None)
        return self._responder(list(argv))


class FakeBytesRunner:
    """Answers byte commands through a responder; records each argv, directory and input.
    The default answers like a machine without the program (``OSError``)."""

    def __init__(self, responder: Callable[[list[str], bytes | None], BytesResult] | None = None):
        self._responder = responder
        self.calls: list[tuple[list[str], Path | None, bytes | None]] = []

    def run_bytes(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> BytesResult:
        self.calls.append((list(argv), cwd, stdin))
        if self._responder is None:
            raise FileNotFoundError(f"[Errno 2] No such file or directory: {argv[0]!r}")
        return self._responder(list(argv), stdin)


class FakeUploader:
    """A dict of uploads by URL; ``fail`` (an exception) makes every upload raise it, and
    ``block`` (an event) makes uploads wait for it first."""

    def __init__(self, fail: Exception | None = None, block: threading.Event | None = None) -> None:
        self.fail = fail
        self.block = block
        self.files: dict[str, bytes] = {}

    def put_file(self, local: Path, url: str) -> None:
        if self.block is not None:
            self.block.wait()
        if self.fail is not None:
            raise self.fail
        self.files[url] = local.read_bytes()


class FakeHealthProbe:
    """``/healthz`` answers computed from the fake clock: ``answer(now) -> Health | None``."""

    def __init__(self, clock: FakeClock, answer: Callable[[float], Health | None]) -> None:
        self._clock = clock
        self._answer = answer
        self.checks: list[str] = []

    def check(self, base_url: str, timeout: float) -> Health | None:
        self.checks.append(base_url)
        return self._answer(self._clock.monotonic())


class FakeEnvironment:
    """A dict posing as ``os.environ``."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def snapshot(self) -> dict[str, str]:
        return dict(self.values)


class FakeInterrupts:
    """Lets a test deliver SIGTERM/SIGINT with :meth:`fire`."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[int], None]] = []

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        self.callbacks.append(callback)

        def unsubscribe() -> None:
            self.callbacks.remove(callback)

        return unsubscribe

    def fire(self, signum: int = signal.SIGTERM) -> None:
        for callback in list(self.callbacks):
            callback(signum)


class FakeWakeup:
    """A :class:`Wakeup` on a :class:`FakeClock`: waiting sleeps the clock (so its
    ``on_sleep`` callbacks run) unless a notification is pending, which returns at once."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._pending = False
        self.waits: list[float] = []

    def notify(self) -> None:
        self._pending = True

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        if not self._pending:
            self._clock.sleep(timeout)
        notified, self._pending = self._pending, False
        return notified


class FakeEditorWindows:
    """code-server's window registry: ``windows`` are the answers of successive
    :meth:`newest` calls (the last one repeats; empty means no window ever connects).
    :meth:`open` records each request (``opened`` is set after the first), or raises
    ``OSError`` for a window in ``refusing``."""

    def __init__(self, windows: Sequence[str | None] = (), refusing: Sequence[str] = ()) -> None:
        self._answers = list(windows)
        self.refusing = set(refusing)
        self.lookups: list[tuple[Path, Path]] = []
        self.requests: list[tuple[str, dict[str, object]]] = []
        self.opened = threading.Event()

    def newest(self, registry: Path, containing: Path, timeout: float) -> str | None:
        self.lookups.append((registry, containing))
        if not self._answers:
            return None
        return self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]

    def open(self, window: str, request: Mapping[str, object], timeout: float) -> None:
        if window in self.refusing:
            raise OSError(f"{window}: connection refused")
        self.requests.append((window, dict(request)))
        self.opened.set()


class FakePortAllocator:
    """Hands out ``free`` ports in turn (the last one repeats); ``taken`` ports are busy."""

    def __init__(self, free: Sequence[int] = (41000,), taken: Sequence[int] = ()) -> None:
        self._free = list(free)
        self.taken = set(taken)
        self.handed_out: list[int] = []

    def free_port(self, host: str) -> int:
        port = self._free.pop(0) if len(self._free) > 1 else self._free[0]
        self.handed_out.append(port)
        return port

    def is_free(self, host: str, port: int) -> bool:
        return port not in self.taken


class FakeArtifactStore:
    """An in-memory :class:`ArtifactStore` keeping the real cache's contract (pins,
    trust on first use, hits without the network, archives complete or absent):
    ``tests/test_artifact_store_contract.py`` runs the same tests on it and on ``Cache``.

    ``content`` is what the network serves (URL -> bytes); :meth:`seed` stores a URL as if
    an earlier run had fetched it. ``requests`` records every fetch and ``downloads`` the
    ones that transferred bytes (the misses); ``on_request(url)`` runs at the start of each
    fetch (for barriers). Files and extracted trees are written under ``root``.
    """

    def __init__(self, root: Path, content: Mapping[str, bytes] | None = None) -> None:
        self.root = root
        self.content: dict[str, bytes] = dict(content or {})
        self.requests: list[str] = []
        self.downloads: list[str] = []
        self.on_request: Callable[[str], None] | None = None
        self._stored: dict[str, bytes] = {}
        self._trusted: dict[str, str] = {}

    def seed(self, url: str) -> None:
        """Store ``content[url]`` now, as an earlier run would have (not a download)."""
        data = self.content[url]
        self._stored[url] = data
        self._trusted[url] = hashlib.sha256(data).hexdigest()

    def _get(self, url: str, sha256: str | None) -> tuple[bytes, str]:
        self.requests.append(url)
        if self.on_request is not None:
            self.on_request(url)
        pin = _pin(url, sha256)
        if url in self._stored and pin in (None, self._trusted[url]):
            return self._stored[url], self._trusted[url]
        if url not in self.content:
            raise DownloadError(f"fake store: could not download {url}: nothing there", url=url)
        data = self.content[url]
        actual = hashlib.sha256(data).hexdigest()
        expected = pin or self._trusted.get(url)
        if expected is not None and expected != actual:
            raise HashMismatchError(
                f"sha256 of {url} is {actual}, expected {expected}",
                url=url,
                expected=expected,
                actual=actual,
            )
        self.downloads.append(url)
        self._stored[url] = data
        self._trusted[url] = actual
        return data, actual

    def fetch(self, url: str, sha256: str | None = None) -> Path:
        data, digest = self._get(url, sha256)
        path = self.root / "files" / digest / blob_name(url)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return path

    def fetch_archive(self, url: str, sha256: str | None = None) -> Path:
        data, digest = self._get(url, sha256)
        target = self.root / "trees" / digest
        if target.exists():
            return target
        staging = Path(tempfile.mkdtemp(prefix=f".{digest}.", dir=self._trees()))
        try:
            _extract(data, staging, url)
        except BaseException:
            shutil.rmtree(staging)
            raise
        staging.rename(target)
        return target

    def _trees(self) -> Path:
        trees = self.root / "trees"
        trees.mkdir(parents=True, exist_ok=True)
        return trees

    def recorded_sha256(self, url: str) -> str | None:
        return self._trusted.get(url)

    def contains(self, url: str, sha256: str | None = None) -> bool:
        pin = _pin(url, sha256)
        return url in self._stored and pin in (None, self._trusted[url])


def _pin(url: str, sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    pin = sha256.strip().lower()
    if len(pin) != 64 or pin.strip("0123456789abcdef"):
        raise ConfigError(f"fake store: sha256 for {url} must be 64 hex digits, got {sha256!r}")
    return pin


def _extract(data: bytes, into: Path, url: str) -> None:
    """tar (any compression) or zip, refusing members that would land outside ``into``."""
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    if name.startswith("/") or ".." in PurePosixPath(name).parts:
                        raise ExtractionError(f"fake store: {url}: {name} leaves the tree")
                archive.extractall(into)  # noqa: S202  # every name was checked above
            return
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile) as error:
        raise ExtractionError(f"fake store: {url} is not a safe archive: {error}") from error


# Static proof that each fake satisfies its Protocol (mypy checks these assignments).
def _conformance(clock: FakeClock) -> None:
    _c: Clock = clock
    _f: Fetcher = FakeFetcher()
    _p: ProcessHandle = FakeProcess(clock)
    _l: ProcessLauncher = FakeLauncher()
    _r: CommandRunner = FakeCommandRunner()
    _h: HealthProbe = FakeHealthProbe(clock, lambda now: None)
    _e: Environment = FakeEnvironment()
    _i: Interrupts = FakeInterrupts()
    _w: Wakeup = FakeWakeup(clock)
    _a: PortAllocator = FakePortAllocator()
    _ew: EditorWindows = FakeEditorWindows()
    _s: ArtifactStore = FakeArtifactStore(Path())
    _b: BytesCommandRunner = FakeBytesRunner()
    _u: FileUploader = FakeUploader()
    _pr: Priorities = FakePriorities()
    _wp: ProcessHandle = WaitedProcess()


class FakeStore:
    """An in-memory coordination store with ``torch.distributed.Store`` semantics.

    Threads standing in for ranks share one instance (waits block on a condition, as
    long as ``timeout`` at most). With a ``clock``, the store serves a single thread
    instead: a wait for a missing key sleeps on the clock (so ``on_sleep`` callbacks can
    act as the other ranks) and never blocks. ``log`` records ``(operation, key)``.
    """

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.data: dict[str, bytes] = {}
        self.log: list[tuple[str, str]] = []
        self._clock = clock
        self._changed = threading.Condition()

    def set(self, key: str, value: bytes) -> None:
        with self._changed:
            self.log.append(("set", key))
            self.data[key] = bytes(value)
            self._changed.notify_all()

    def get(self, key: str) -> bytes:
        with self._changed:
            self.log.append(("get", key))
            if key not in self.data:
                # torch would block until its timeout: the protocol must check first.
                raise AssertionError(f"get of missing key {key!r} would block")
            return self.data[key]

    def add(self, key: str, amount: int) -> int:
        with self._changed:
            self.log.append(("add", key))
            value = int(self.data.get(key, b"0")) + amount
            self.data[key] = str(value).encode()
            self._changed.notify_all()
            return value

    def compare_set(self, key: str, expected: bytes, desired: bytes) -> bytes:
        with self._changed:
            self.log.append(("compare_set", key))
            current = self.data.get(key)
            if current == expected or (current is None and expected == b""):
                self.data[key] = bytes(desired)
                self._changed.notify_all()
                return bytes(desired)
            return expected if current is None else current

    def check(self, keys: Sequence[str]) -> bool:
        with self._changed:
            return all(key in self.data for key in keys)

    def wait(self, keys: Sequence[str], timeout: float) -> bool:
        if self._clock is not None:
            if not self.check(keys):
                self._clock.sleep(timeout)
            return self.check(keys)
        with self._changed:
            return self._changed.wait_for(
                lambda: all(key in self.data for key in keys), timeout=max(timeout, 0.0)
            )


def _store_conformance() -> None:
    from vscode_interactive._distributed._store import CoordinationStore

    _s: CoordinationStore = FakeStore()


@dataclass
class FakePostMortem:
    """A held failure: records whether (and when, by ``log``) it was closed."""

    failure: BaseException
    host: str = "127.0.0.1"
    port: int = 5678
    closed: bool = False
    log: list[str] | None = None

    def close(self) -> None:
        self.closed = True
        if self.log is not None:
            self.log.append("close post-mortem")
