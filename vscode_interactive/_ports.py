"""The seams: one small Protocol per kind of side effect.

Logic modules take these as constructor (or keyword) arguments and never reach for
``time``, ``subprocess``, ``os.environ``, ``signal`` or the network themselves. The real
implementations live in :mod:`vscode_interactive._system`; strictly typed fakes live in
``tests/fakes.py``. Adding a side effect means adding (or widening) a Protocol here,
implementing it in ``_system.py`` and faking it in ``tests/fakes.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "ArtifactStore",
    "ByteStream",
    "BytesCommandRunner",
    "BytesResult",
    "Clock",
    "CommandResult",
    "CommandRunner",
    "EditorWindows",
    "Environment",
    "Fetcher",
    "FileUploader",
    "Health",
    "HealthProbe",
    "Interrupts",
    "PortAllocator",
    "PostMortemHandle",
    "Priorities",
    "PriorityLevels",
    "ProcessHandle",
    "ProcessLauncher",
    "Wakeup",
]


class Clock(Protocol):
    """Time, and the only way logic is allowed to wait."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def now(self) -> float:
        """Wall-clock seconds since the Unix epoch (for heartbeats and deadlines shown)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` (a fake advances its time instead)."""
        ...


class ByteStream(Protocol):
    """An open remote file, read front to back once."""

    @property
    def size(self) -> int | None:
        """Total length in bytes when the source knows it (Content-Length, file size)."""
        ...

    def read(self, n: int, /) -> bytes:
        """Up to ``n`` bytes; ``b""`` at the end."""
        ...


class Fetcher(Protocol):
    """Opens any URL for streaming reads (the real one is fsspec)."""

    def open(
        self, url: str, storage_options: Mapping[str, object]
    ) -> AbstractContextManager[ByteStream]:
        """Open ``url``; raise ``OSError`` (or a subclass) for transport failures."""
        ...


class ProcessHandle(Protocol):
    """A started child that leads its own process group."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None:
        """Exit code if the leader exited (negative signal number if killed), else None."""
        ...

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the leader; its exit code, or None if running."""
        ...

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to every process in the group; no error if they are gone."""
        ...

    def group_alive(self) -> bool:
        """True while any process of the group (leader or descendant) still exists."""
        ...


class ProcessLauncher(Protocol):
    """Starts long-running children (code-server) in a new session."""

    def launch(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        log_path: Path | None = None,
    ) -> ProcessHandle:
        """Start ``argv`` (never through a shell) with stdout+stderr appended to
        ``log_path``; on Linux the child gets a parent-death SIGTERM."""
        ...


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a finished short command left behind."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together, for error messages."""
        return "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)


class CommandRunner(Protocol):
    """Runs short commands to completion (``code-server --version``, extension installs)."""

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run ``argv`` and capture its output. A missing executable raises ``OSError``."""
        ...


@dataclass(frozen=True, slots=True)
class BytesResult:
    """A finished short command whose output is data, not text (file contents, ``-z``
    lists of paths): stdout exactly as written."""

    returncode: int
    stdout: bytes
    stderr: str


class BytesCommandRunner(Protocol):
    """Runs short commands whose output must not be decoded (``git cat-file``, ``git
    status -z``): :class:`CommandRunner` turns output into text, which changes line endings
    and bytes that are not UTF-8."""

    def run_bytes(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> BytesResult:
        """Run ``argv`` with ``stdin`` as its input (``env``: the whole environment, default
        this process's). A missing executable raises ``OSError``."""
        ...


class FileUploader(Protocol):
    """Copies local files to a URL (the real one is fsspec: ``s3://``, ``gs://``,
    ``file://``, ``memory://``...)."""

    def put_file(self, local: Path, url: str) -> None:
        """Copy ``local`` to ``url``, creating what the destination needs; raise on failure
        (any exception: backends raise their own)."""
        ...


@dataclass(frozen=True, slots=True)
class Health:
    """What code-server's ``GET /healthz`` answered.

    ``last_heartbeat_ms`` is milliseconds since the epoch; 0 means no activity yet.
    """

    status: str
    last_heartbeat_ms: int


class HealthProbe(Protocol):
    """Asks a code-server whether it is up (the request itself is not activity)."""

    def check(self, base_url: str, timeout: float) -> Health | None:
        """``/healthz`` of ``base_url``, or None when nothing answers (yet)."""
        ...


class Environment(Protocol):
    """Process environment variables, read-only."""

    def get(self, name: str) -> str | None: ...

    def snapshot(self) -> dict[str, str]:
        """A copy of every variable, to build a child's environment from."""
        ...


class Interrupts(Protocol):
    """Delivery of SIGTERM/SIGINT sent to this process."""

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(signum)`` on SIGTERM/SIGINT until the returned function is
        called, which restores the previous handlers. Outside the main thread this
        cannot observe signals and subscribes to nothing."""
        ...


class Wakeup(Protocol):
    """A wait that another thread, or a signal handler, can cut short."""

    def notify(self) -> None:
        """Wake the waiter now, or make its next wait return at once. Safe to call from any
        thread and from a signal handler."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds or until :meth:`notify`; True if notified. The
        notification is consumed (a fake advances its clock instead of blocking)."""
        ...


class PortAllocator(Protocol):
    """Finds TCP ports to bind a server to."""

    def free_port(self, host: str) -> int:
        """A port nothing is bound to on ``host`` right now (the operating system picks it)."""
        ...

    def is_free(self, host: str, port: int) -> bool:
        """True if ``host:port`` could be bound right now."""


@dataclass(frozen=True, slots=True)
class PriorityLevels:
    """A process's scheduling priorities: its nice value and its I/O priority (the raw
    ``ioprio`` value, class and level; None where it cannot be read)."""

    nice: int
    io: int | None


class Priorities(Protocol):
    """CPU and I/O priority of a process group this process started.

    Everything is best effort: where the OS does not allow a change (raising a priority
    without privilege, another platform) nothing happens and nothing is raised. Threads
    and processes the group starts later inherit what it has.
    """

    def lower_group(self, pgid: int) -> PriorityLevels | None:
        """Give every thread of every process in group ``pgid`` the lowest CPU and I/O
        priority; return what its leader had before, or None when nothing changed."""
        ...

    def restore_group(self, pgid: int, levels: PriorityLevels) -> None:
        """Give every thread of every process in group ``pgid`` ``levels``."""
        ...


class ArtifactStore(Protocol):
    """Verified local copies of remote files (the real one is :class:`~.cache.Cache`).

    ``sha256`` is a pin: a mismatch raises ``HashMismatchError``. Without a pin the store
    trusts the hash it saw first for that URL and reports it from :meth:`recorded_sha256`.
    """

    def fetch(self, url: str, sha256: str | None = None) -> Path:
        """Path of the verified file, downloading it on a miss."""
        ...

    def fetch_archive(self, url: str, sha256: str | None = None) -> Path:
        """Path of the extracted archive (complete or absent, never half-written)."""
        ...

    def recorded_sha256(self, url: str) -> str | None:
        """The sha256 trusted for ``url``, or None when it was never fetched."""
        ...

    def contains(self, url: str, sha256: str | None = None) -> bool:
        """True when ``url`` is present and complete, so fetching it needs no network."""
        ...


class EditorWindows(Protocol):
    """code-server's registry of connected IDE windows, and each window's remote CLI."""

    def newest(self, registry: Path, containing: Path, timeout: float) -> str | None:
        """The CLI socket of the most recently connected window whose folder holds
        ``containing``, asking the registry socket ``registry``; None when no window is
        connected or the registry does not answer."""
        ...

    def open(self, window: str, request: Mapping[str, object], timeout: float) -> None:
        """Send ``request`` (a remote-CLI ``open``) to the window's CLI socket ``window``;
        raise ``OSError`` when it is not accepted."""
        ...


class PostMortemHandle(Protocol):
    """A failure held in the job process for a debugger (see ``_debug._postmortem``)."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    def close(self) -> None:
        """Release the failure and end the listener (before the task runs again)."""
        ...
