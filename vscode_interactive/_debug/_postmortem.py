"""Post-mortem at the failing frame, in the job process, over the Debug Adapter Protocol.

When the task raises, the job process still holds the exception, its traceback and every
frame's locals. :func:`open_post_mortem` keeps them alive and starts debugpy's in-process
DAP server on ``127.0.0.1`` (a free port, never another interface); a daemon thread
``post-mortem of <failed thread>`` then waits for a client and stops it on the saved
exception, as if it were unhandled right now::

    failure ──open_post_mortem──> listener 127.0.0.1:<port>
                                     │ client attaches (configurationDone)
                                     v
              stop on the failure: stack = its traceback, innermost frame first,
              live locals, evaluate in any frame  <── detach / attach again, any number
                                     │ close() (resume, abort, end of session)
                                     v
              stop released, tracing removed, port closed

Facts this relies on (debugpy 1.8.22, checked by tests/test_postmortem.py):

* ``debugpy.listen(..., in_process_debug_adapter=True)`` serves DAP from this process (no
  adapter subprocess, ~0.1 s instead of ~0.4 s) and accepts a new client whenever the
  previous one left; ``trigger_exception_handler(exc, as_uncaught=False)`` stops whatever
  exception breakpoints the client ticked.
* A stop suspends every traced thread. The library's own threads (the supervisor, which
  runs in the thread that failed, and every ``vscode-interactive-*`` thread) must keep
  running, so they carry pydevd's documented ``pydev_do_not_trace`` flag while a listener
  is open; the helper threads also carry its ``is_pydev_daemon_thread`` mark, which keeps
  them out of the debugger's thread list. (The supervising thread stays listed: with it
  hidden too, VS Code no longer selects the raising frame when the stop arrives.)
* Before Python 3.12 pydevd traces with ``sys.settrace``: a job with a listener runs
  several times slower. So the listener lives only while the IDE is open: ``close()``
  calls ``pydevd.stoptrace()`` before the task is resumed, and the next failure opens a
  new one. debugpy refuses a second ``listen()`` in a process because two listeners at
  once hang; after ``stoptrace`` there is none left, so the flag is cleared.
* ``PYDEVD_DISABLE_FILE_VALIDATION=1`` (set before debugpy is imported) keeps pydevd's
  frozen-modules warning out of the job's stderr.

This module touches the debugger and sockets on purpose, like the resume channel; it is
imported only once a failure is shown.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

from .._errors import DebuggerError

__all__ = [
    "DISABLE_FILE_VALIDATION",
    "LOOPBACK",
    "THREAD_NAME",
    "PostMortem",
    "open_post_mortem",
]

logger = logging.getLogger("vscode_interactive.debug")

LOOPBACK = "127.0.0.1"
THREAD_NAME = "post-mortem of {failed}"
OUR_THREADS = "vscode-interactive"
DISABLE_FILE_VALIDATION = "PYDEVD_DISABLE_FILE_VALIDATION"
_DO_NOT_TRACE = "pydev_do_not_trace"
# pydevd's mark for its own threads: also left out of the debugger's thread list, so the
# Call Stack shows the failure, not the library's threads.
_HIDDEN = "is_pydev_daemon_thread"
_RELEASE_SECONDS = 5.0

_open_lock = threading.Lock()
_current: PostMortem | None = None

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


@dataclass(frozen=True)
class Endpoint:
    """Where the listener accepts DAP clients (always loopback)."""

    host: str
    port: int


def _import_debugpy() -> ModuleType:
    os.environ.setdefault(DISABLE_FILE_VALIDATION, "1")
    try:
        import debugpy
    except ImportError as error:
        raise DebuggerError(
            f"post-mortem debugging needs debugpy, which is not importable ({error}); "
            "install it in the job's environment: pip install 'debugpy>=1.8.22'"
        ) from error
    if not hasattr(debugpy, "trigger_exception_handler"):
        raise DebuggerError(
            f"post-mortem debugging needs debugpy >= 1.8.22, found {debugpy.__version__}; "
            "upgrade it in the job's environment: pip install -U debugpy"
        )
    return debugpy


def _pydevd() -> Any:
    """pydevd, vendored by debugpy (importable once debugpy's server is loaded)."""
    import pydevd  # type: ignore[import-not-found]

    return pydevd


def _excinfo(failure: BaseException) -> ExcInfo:
    traceback = failure.__traceback__
    if traceback is None:
        raise DebuggerError(
            f"{type(failure).__name__} has no traceback (it was never raised), so there is "
            "no failing frame to inspect; use the Interactive Debugging configuration"
        )
    return type(failure), failure, traceback


class PostMortem:
    """One failure shown to DAP clients on ``endpoint`` until :meth:`close`.

    Use :func:`open_post_mortem`; at most one is open per process.
    """

    def __init__(self, debugpy: ModuleType, excinfo: ExcInfo, endpoint: Endpoint) -> None:
        self._debugpy = debugpy
        self._excinfo: ExcInfo | None = excinfo
        self.endpoint = endpoint
        self._condition = threading.Condition()
        self._stopped = False
        self._closed = False
        self._untraced: list[threading.Thread] = []
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self.endpoint.host

    @property
    def port(self) -> int:
        return self.endpoint.port

    @property
    def failure(self) -> BaseException | None:
        """The exception shown, or ``None`` once closed."""
        excinfo = self._excinfo
        return None if excinfo is None else excinfo[1]

    def _start(self, supervising: threading.Thread) -> None:
        # Named after the thread that failed: the Call Stack says whose failure it shows.
        self._thread = threading.Thread(
            target=self._serve, name=THREAD_NAME.format(failed=supervising.name), daemon=True
        )
        # pydevd ends a debug session when no user thread is left: this (daemon) thread
        # counts as one, whatever the supervising thread is.
        setattr(self._thread, "__pydevd_main_thread", True)
        self._untrace(supervising, hide=False)
        self._untrace_ours()
        self._thread.start()

    def _untrace(self, thread: threading.Thread, *, hide: bool = True) -> None:
        if not getattr(thread, _DO_NOT_TRACE, False):
            setattr(thread, _DO_NOT_TRACE, True)
            if hide:
                setattr(thread, _HIDDEN, True)
            self._untraced.append(thread)

    def _untrace_ours(self) -> None:
        for thread in threading.enumerate():
            if thread.name.startswith(OUR_THREADS) and thread is not self._thread:
                self._untrace(thread)

    def _serve(self) -> None:
        """Wait for a client, stop it on the failure; again after each detach."""
        while True:
            self._debugpy.wait_for_client()
            with self._condition:
                excinfo = self._excinfo
                if self._closed or excinfo is None:
                    return
                self._untrace_ours()  # threads the supervisor started since
                self._stopped = True
            try:
                # Returns when the client continues or detaches (or close() resumes us).
                self._debugpy.trigger_exception_handler(excinfo, as_uncaught=False)
            except Exception:  # the debugger must never take the job down
                logger.exception("post-mortem: the debugger failed to stop on the failure")
                return
            finally:
                with self._condition:
                    self._stopped = False
                    self._condition.notify_all()

    @property
    def is_stopped(self) -> bool:
        """Whether a client is (or was last) stopped on the failure right now."""
        return self._stopped

    def close(self) -> None:
        """Release a stopped client, end the listener and remove tracing. Idempotent."""
        global _current
        with self._condition:
            if self._closed:
                return
            self._closed = True
            self._excinfo = None
        self._release()
        pydevd = _pydevd()
        sockets = _client_sockets(pydevd)
        server = _server_socket(pydevd)
        pydevd.stoptrace()
        _poke(self.endpoint)  # wake pydevd's accept() so its thread sees the kill
        for sock in [*sockets, server]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        # debugpy refuses listen() twice because two listeners at once hang; none is left.
        _listen_flag_clear(self._debugpy)
        if self._thread is not None:
            self._thread.join(timeout=_RELEASE_SECONDS)
        for thread in self._untraced:
            for mark in (_DO_NOT_TRACE, _HIDDEN):
                with contextlib.suppress(AttributeError):
                    delattr(thread, mark)
        self._untraced.clear()
        with _open_lock:
            if _current is self:
                _current = None
        logger.debug("post-mortem listener on %s:%d closed", self.host, self.port)

    def _on_message(self, message: dict[str, Any]) -> None:
        """A new client's ``initialize`` while the failure is held: the previous client
        vanished without detaching (the IDE died), and pydevd tells no newcomer about a
        stop that began before it came. Resume, so the loop stops again for this client."""
        if (
            self._stopped
            and not self._closed
            and message.get("type") == "request"
            and message.get("command") == "initialize"
        ):
            _resume_all()

    def _release(self) -> None:
        cancel = getattr(self._debugpy.wait_for_client, "cancel", None)
        deadline = time.monotonic() + _RELEASE_SECONDS
        with self._condition:
            while True:
                if cancel is not None:
                    with contextlib.suppress(RuntimeError):
                        cancel()
                if not self._stopped:
                    return
                _resume_all()
                left = deadline - time.monotonic()
                if left <= 0:
                    logger.warning("post-mortem: the debugger did not release the failure")
                    return
                # The stop may not have begun when we resumed; try again shortly.
                self._condition.wait(min(left, 0.05))

    def __enter__(self) -> PostMortem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _MessageListener:
    """pydevd's ``IDAPMessagesListener`` shape: called for every DAP message."""

    def __init__(self, post_mortem: PostMortem) -> None:
        self._post_mortem = post_mortem

    def before_send(self, message: dict[str, Any]) -> None:
        pass

    def after_receive(self, message: dict[str, Any]) -> None:
        self._post_mortem._on_message(message)


def _resume_all() -> None:
    from _pydevd_bundle.pydevd_thread_lifecycle import (  # type: ignore[import-not-found]
        resume_threads,
    )

    resume_threads("*")


def _server_socket(pydevd: Any) -> socket.socket | None:
    py_db = pydevd.get_global_debugger()
    waiter = getattr(py_db, "_waiting_for_connection_thread", None)
    server = getattr(waiter, "_server_socket", None)
    return server if isinstance(server, socket.socket) else None


def _client_sockets(pydevd: Any) -> list[socket.socket]:
    """The connection to the attached client, if any (pydevd's reader and writer share it)."""
    py_db = pydevd.get_global_debugger()
    found: list[socket.socket] = []
    for worker in (getattr(py_db, "reader", None), getattr(py_db, "writer", None)):
        sock = getattr(worker, "sock", None)
        if isinstance(sock, socket.socket) and sock not in found:
            found.append(sock)
    return found


def _listen_now(pydevd: Any) -> None:
    """pydevd binds, reports the port, then listens: listen at once so a client that
    connects as soon as the port is known is not refused."""
    server = _server_socket(pydevd)
    if server is not None:
        with contextlib.suppress(OSError):
            server.listen(1)


def _poke(endpoint: Endpoint) -> None:
    with (
        contextlib.suppress(OSError),
        socket.create_connection((endpoint.host, endpoint.port), timeout=1.0),
    ):
        pass


def _skip_unlogged_environment_report() -> None:
    """The first ``listen()`` describes the environment for debugpy's log, reading the
    metadata of every installed distribution (0.1-0.5 s here, more in a large image),
    even when no log keeps it. When none does (no ``DEBUGPY_LOG_DIR``, no log file or
    stderr taking ``info``), mark debugpy's logging as started: it would have written
    nothing. Anything unexpected leaves debugpy to do as usual."""
    try:
        from debugpy.common import log
        from debugpy.server import api
    except ImportError:
        return
    levels = getattr(log, "_levels", None)
    kept = log.log_dir is not None or not isinstance(levels, (set, frozenset)) or "info" in levels
    ensure = getattr(api, "ensure_logging", None)
    if not kept and getattr(ensure, "ensured", None) is False:
        ensure.ensured = True  # type: ignore[union-attr]


def _listen_flag_clear(debugpy: ModuleType) -> None:
    from debugpy.server import api

    api.listen.called = False


def open_post_mortem(failure: BaseException) -> PostMortem:
    """Keep ``failure`` alive and show it to DAP clients on ``127.0.0.1:<free port>``.

    Call from the thread that will supervise the IDE: it, and every ``vscode-interactive-*``
    thread, keeps running while a client is stopped. Raises :class:`DebuggerError` when
    debugpy is missing or cannot listen, or the failure has no traceback; another open
    post-mortem in this process is closed first.
    """
    global _current
    excinfo = _excinfo(failure)
    debugpy = _import_debugpy()
    with _open_lock:
        previous = _current
    if previous is not None:
        previous.close()
    started = time.perf_counter()
    _skip_unlogged_environment_report()
    try:
        address = debugpy.listen((LOOPBACK, 0), in_process_debug_adapter=True)
    except Exception as error:
        raise DebuggerError(
            f"could not start the post-mortem debugger on {LOOPBACK}: {error}"
        ) from error
    pydevd = _pydevd()
    _listen_now(pydevd)
    host, port = address
    post_mortem = PostMortem(debugpy, excinfo, Endpoint(str(host), int(port)))
    pydevd.add_dap_messages_listener(_MessageListener(post_mortem))
    post_mortem._start(threading.current_thread())
    with _open_lock:
        _current = post_mortem
    logger.debug(
        "post-mortem listener on %s:%d in %.0f ms",
        host,
        port,
        (time.perf_counter() - started) * 1000,
    )
    return post_mortem
