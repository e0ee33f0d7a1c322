"""The real adapters behind the Protocols in :mod:`vscode_interactive._ports`.

This is the one module that touches ``time``, ``subprocess``, ``os.environ``, ``signal``
and the network. Everything here is deliberately thin: no decisions, only effects.
Heavy imports (fsspec pulls in aiohttp) happen on first use, not at import time.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

from ._ports import ByteStream, CommandResult, Health

__all__ = [
    "FsspecFetcher",
    "OsEnvironment",
    "PipeWakeup",
    "PopenLauncher",
    "SignalInterrupts",
    "SocketPortAllocator",
    "SubprocessRunner",
    "SystemClock",
    "UrllibHealthProbe",
]

_PR_SET_PDEATHSIG = 1


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(slots=True)
class _FileStream:
    """Adapts a binary file object to :class:`ByteStream`."""

    raw: IO[bytes] | Any
    size: int | None

    def read(self, n: int, /) -> bytes:
        data = self.raw.read(n)
        return bytes(data) if data else b""


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


class FsspecFetcher:
    """Streams any URL fsspec understands: http(s), file://, plain paths, s3://, gs://...

    HTTP asks for ``Accept-Encoding: identity`` so a server that would gzip a ``.tar.gz``
    on the fly cannot change the bytes we hash, and streams with ``block_size=0`` (no
    range requests, no need for Content-Length).
    """

    @contextlib.contextmanager
    def open(self, url: str, storage_options: Mapping[str, object]) -> Iterator[ByteStream]:
        options: dict[str, Any] = dict(storage_options)
        if "://" not in url or url.startswith("file://"):
            path = Path(url.removeprefix("file://"))
            with path.open("rb") as handle:
                yield _FileStream(handle, path.stat().st_size)
            return
        import fsspec  # deferred: importing fsspec[http] costs tens of milliseconds

        if _is_http(url):
            headers = {"Accept-Encoding": "identity"}
            headers.update(dict(options.pop("headers", {}) or {}))
            options["headers"] = headers
            options.setdefault("block_size", 0)
        with fsspec.open(url, "rb", **options) as handle:
            size = getattr(handle, "size", None)
            yield _FileStream(handle, size if isinstance(size, int) else None)


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the forked child
    """In the child, before exec: ask Linux to SIGTERM us when our parent dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _PopenHandle:
    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self._pgid = popen.pid  # start_new_session: the child leads its own group

    @property
    def pid(self) -> int:
        return self._popen.pid

    def poll(self) -> int | None:
        return self._popen.poll()

    def wait(self, timeout: float) -> int | None:
        try:
            return self._popen.wait(timeout=max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            return None

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._pgid, signum)

    def group_alive(self) -> bool:
        self._popen.poll()  # reap the leader so a zombie does not count as alive
        try:
            os.killpg(self._pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return _group_has_live_member(self._pgid)


def _group_has_live_member(pgid: int) -> bool:
    """False when every process left in group ``pgid`` is a zombie.

    ``killpg(pgid, 0)`` also succeeds for zombies, and orphaned zombies are never reaped
    when PID 1 is a process that does not reap (a Python job running as PID 1 in a pod),
    so the signal test alone would report a dead group alive forever. Where ``/proc`` is
    missing this falls back to "alive".
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the ")" that closes the command name: state ppid pgrp ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


class PopenLauncher:
    """Starts children with :class:`subprocess.Popen` in a new session (own group)."""

    def launch(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        log_path: Path | None = None,
    ) -> _PopenHandle:
        log: IO[bytes] | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = log_path.open("ab")
        try:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log if log is not None else subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_set_parent_death_signal if sys.platform == "linux" else None,
            )
        finally:
            if log is not None:
                log.close()
        return _PopenHandle(popen)


class SubprocessRunner:
    """Runs short commands with :func:`subprocess.run`, output captured as text."""

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        done = subprocess.run(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
        return CommandResult(done.returncode, done.stdout, done.stderr)


class UrllibHealthProbe:
    """``GET {base_url}/healthz`` with the standard library (no fsspec import)."""

    def check(self, base_url: str, timeout: float) -> Health | None:
        url = base_url.rstrip("/") + "/healthz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                body = json.loads(response.read(64 * 1024) or b"{}")
        except (OSError, ValueError):
            return None
        if not isinstance(body, dict):
            return None
        heartbeat = body.get("lastHeartbeat", 0)
        return Health(
            status=str(body.get("status", "")),
            last_heartbeat_ms=int(heartbeat) if isinstance(heartbeat, (int, float)) else 0,
        )


class OsEnvironment:
    """``os.environ``, read-only."""

    def get(self, name: str) -> str | None:
        return os.environ.get(name)

    def snapshot(self) -> dict[str, str]:
        return dict(os.environ)


class SignalInterrupts:
    """SIGTERM/SIGINT handlers, installed only when called from the main thread."""

    _SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, frame: FrameType | None) -> None:
            callback(signum)

        previous = {signum: signal.signal(signum, handler) for signum in self._SIGNALS}

        def restore() -> None:
            for signum, old in previous.items():
                signal.signal(signum, old)

        return restore


class PipeWakeup:
    """A self-pipe: ``notify`` writes a byte, ``wait`` selects on the read end.

    Unlike :class:`threading.Event`, notifying takes no lock, so a signal handler may call
    it even while the waiting thread is inside ``wait``.
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def notify(self) -> None:
        if self._write < 0:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write, b"!")

    def wait(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._read], [], [], max(timeout, 0.0))
        if not ready:
            return False
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._read, 512):
                pass
        return True

    def close(self) -> None:
        """Close both ends; a later ``notify`` does nothing (never writes to a reused fd)."""
        fds, self._read, self._write = (self._read, self._write), -1, -1
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _tcp_socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    return socket.socket(family, socket.SOCK_STREAM)


class SocketPortAllocator:
    """Binds a throw-away socket to learn what the operating system would give us."""

    def free_port(self, host: str) -> int:
        with _tcp_socket(host) as sock:
            sock.bind((host.strip("[]"), 0))
            port: int = sock.getsockname()[1]
            return port

    def is_free(self, host: str, port: int) -> bool:
        with _tcp_socket(host) as sock:
            # Node (code-server) listens with SO_REUSEADDR, so a port in TIME_WAIT is usable.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host.strip("[]"), port))
            except OSError:
                return False
            return True
