"""Every exception the library raises, under one root.

Each class also inherits the builtin exception that code written before this library
already catches, so ``except ValueError`` around a hash check or ``except TimeoutError``
around a job keeps working::

    VscodeInteractiveError                       (Exception)
    ├── ConfigError                              (+ ValueError)   bad option or env value
    ├── UnsupportedPlatformError                 (+ RuntimeError) no build for this arch
    ├── CacheError                               (+ OSError)      the artifact cache
    │   ├── DownloadError                                         transfer failed after retries
    │   ├── NotCachedError                       (+ FileNotFoundError) offline miss
    │   ├── HashMismatchError                    (+ ValueError)   sha256 differs from the pin
    │   └── ExtractionError                      (+ ValueError)   corrupt or unsafe archive
    ├── InstallError                             (+ RuntimeError) code-server or extensions
    ├── ServerError                              (+ RuntimeError) the code-server process
    │   ├── ServerStartError                                      never became ready
    │   └── ServerExitedError                                     died while in use
    ├── IdleTimeoutError                         (+ TimeoutError) nobody used the IDE
    ├── StateDirError                            (+ PermissionError) state dir not ours/private
    ├── DebuggerError                            (+ RuntimeError) post-mortem unavailable
    └── ResumeError                              (+ RuntimeError) resume request or reload
        └── ReloadError                          (+ ImportError)  edited source won't import

Every error pickles and unpickles to an equal message and the same attributes, because
errors cross process boundaries (multiprocessing workers, task runners that ship the
exception of a failed job back to a controller).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CacheError",
    "ConfigError",
    "DebuggerError",
    "DownloadError",
    "ExtractionError",
    "HashMismatchError",
    "IdleTimeoutError",
    "InstallError",
    "NotCachedError",
    "ReloadError",
    "ResumeError",
    "ServerError",
    "ServerExitedError",
    "ServerStartError",
    "StateDirError",
    "UnsupportedPlatformError",
    "VscodeInteractiveError",
]


def _rebuild(cls: type[VscodeInteractiveError], message: str, state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class VscodeInteractiveError(Exception):
    """Root of every error raised by vscode_interactive.

    The only positional argument is the human-readable message; context travels in
    keyword-only attributes so the message stays stable and the error stays picklable.
    """

    def __init__(self, message: str) -> None:
        # Call Exception.__init__ directly: OSError's constructor would reinterpret a
        # second positional argument as errno/strerror.
        Exception.__init__(self, message)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


class ConfigError(VscodeInteractiveError, ValueError):
    """An option, argument or environment variable has a value we cannot use."""


class UnsupportedPlatformError(VscodeInteractiveError, RuntimeError):
    """No code-server build (or no URL) exists for this operating system or CPU."""

    def __init__(self, message: str, *, machine: str = "", supported: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.machine = machine
        self.supported = supported


class CacheError(VscodeInteractiveError, OSError):
    """The artifact cache could not produce a verified file or directory."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class DownloadError(CacheError):
    """Fetching a URL failed, after the configured retries."""


class NotCachedError(CacheError, FileNotFoundError):
    """Offline mode is on and the URL is not in the cache."""


class HashMismatchError(CacheError, ValueError):
    """The sha256 of the downloaded bytes is not the expected one."""

    def __init__(
        self, message: str, *, url: str = "", expected: str = "", actual: str = ""
    ) -> None:
        super().__init__(message, url=url)
        self.expected = expected
        self.actual = actual


class ExtractionError(CacheError, ValueError):
    """An archive is corrupt, of an unknown format, or has a member we refuse to write."""

    def __init__(self, message: str, *, url: str = "", member: str = "") -> None:
        super().__init__(message, url=url)
        self.member = member


class InstallError(VscodeInteractiveError, RuntimeError):
    """code-server or an extension could not be installed."""

    def __init__(self, message: str, *, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class ServerError(VscodeInteractiveError, RuntimeError):
    """The code-server process misbehaved."""

    def __init__(
        self,
        message: str,
        *,
        port: int | None = None,
        exit_code: int | None = None,
        log_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.port = port
        self.exit_code = exit_code
        self.log_tail = log_tail


class ServerStartError(ServerError):
    """code-server exited, lost its port or timed out before ``/healthz`` answered."""


class ServerExitedError(ServerError):
    """code-server ended on its own while the session was waiting for a resume."""


class IdleTimeoutError(VscodeInteractiveError, TimeoutError):
    """Nobody used the IDE for ``max_idle_seconds``; the server was stopped.

    When ``run_task_first`` caught a failure, it is chained as ``__cause__`` so the job
    fails with its real cause.
    """

    def __init__(self, message: str, *, idle_seconds: float = 0.0) -> None:
        super().__init__(message)
        self.idle_seconds = idle_seconds


class DebuggerError(VscodeInteractiveError, RuntimeError):
    """The post-mortem debugger could not start (debugpy missing or too old, no traceback)."""


class StateDirError(VscodeInteractiveError, PermissionError):
    """The session's state directory is a symlink, not a directory, or not this user's:
    the session refuses to write there (another user could read or swap its files)."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        # Not ``filename``: OSError keeps it in a C slot that pickling would drop.
        self.path = path


class ResumeError(VscodeInteractiveError, RuntimeError):
    """A resume request could not be delivered, or the resumed call could not start."""


class ReloadError(ResumeError, ImportError):
    """The edited source file could not be imported again (for example a syntax error)."""

    def __init__(self, message: str, *, source_path: str = "", line: int | None = None) -> None:
        super().__init__(message)
        # Not ``path``: ImportError keeps ``path`` in a C slot that pickling would drop.
        self.source_path = source_path
        self.line = line
