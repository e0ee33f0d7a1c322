"""The real adapters behind the Protocols in :mod:`vscode_interactive._ports`.

This is the one module that touches ``time``, ``subprocess``, ``os.environ``, ``signal``
and the network. Everything here is deliberately thin: no decisions, only effects.
Heavy imports (fsspec pulls in aiohttp) happen on first use, not at import time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
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
    "PopenLauncher",
    "SignalInterrupts",
    "SubprocessRunner",
    "SystemClock",
    "UrllibHealthProbe",
    "prepend_to_path",
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
        return True


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


def prepend_to_path(directory: Path) -> None:
    """Put ``directory`` first on this process's ``PATH`` (once), so children find it by name."""
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if entries and entries[0] == str(directory):
        return
    os.environ["PATH"] = os.pathsep.join([str(directory), *[e for e in entries if e]])
