"""A loopback HTTP server for integration tests (reusable: see the ``http_server`` fixture).

::

    server = LoopbackServer()            # or the ``http_server`` fixture from conftest.py
    LoopbackServer(port=port)            # on a chosen port (a server that comes back up)
    url = server.add("/a.tar.gz", data)  # serve bytes; returns the full URL
    server.serve_directory(path)         # ...or every file under a directory
    server.fail_next("/a.tar.gz", 2)     # the next 2 GETs answer 503
    server.gzip = True                   # gzip bodies for clients that accept it
    server.gzip_always = True            # ...or even for clients that asked for identity
    gate = server.stall("/a.tar.gz", after=1000)  # send 1000 bytes, then wait for gate.set()
    server.count("/a.tar.gz")            # GETs answered for that path (failures included)
    server.last_headers("/a.tar.gz")     # request headers of the latest GET
    server.close()

Runs on 127.0.0.1 in daemon threads of the test process (HTTP/1.1, Content-Length
always sent), so child processes of the test can use it too.
"""

from __future__ import annotations

import gzip
import http.server
import threading
from collections import Counter
from email.message import Message
from pathlib import Path

__all__ = ["LoopbackServer"]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self.server.owner._answer(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer


class LoopbackServer:
    """Serves bytes by path on ``127.0.0.1``, counting requests; see the module docstring."""

    def __init__(self, port: int = 0) -> None:
        self._files: dict[str, bytes] = {}
        self._directory: Path | None = None
        self._failures: dict[str, tuple[int, int]] = {}
        self._stalls: dict[str, tuple[int, threading.Event]] = {}
        self._counts: Counter[str] = Counter()
        self._headers: dict[str, Message] = {}
        self._lock = threading.Lock()
        self.gzip = False
        """Compress bodies with gzip when the request's Accept-Encoding allows it."""
        self.gzip_always = False
        """Compress bodies with gzip even when not asked to (a misbehaving server)."""
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, data: bytes) -> str:
        """Serve ``data`` at ``path`` (which starts with ``/``); returns its URL."""
        with self._lock:
            self._files[path] = data
        return self.url(path)

    def serve_directory(self, directory: Path) -> None:
        """Serve files below ``directory`` for paths not added with :meth:`add`."""
        self._directory = directory

    def fail_next(self, path: str, times: int, status: int = 503) -> None:
        """Answer the next ``times`` GETs of ``path`` with ``status`` and no body."""
        with self._lock:
            self._failures[path] = (times, status)

    def stall(self, path: str, *, after: int) -> threading.Event:
        """Send only the first ``after`` bytes of ``path``, then hold the connection until
        the returned event is set (then send the rest). Lets a test kill a client
        mid-stream. Applies to every later GET of ``path``."""
        gate = threading.Event()
        with self._lock:
            self._stalls[path] = (after, gate)
        return gate

    def count(self, path: str) -> int:
        """How many GETs of ``path`` were received."""
        with self._lock:
            return self._counts[path]

    def last_headers(self, path: str) -> Message | None:
        with self._lock:
            return self._headers.get(path)

    def close(self) -> None:
        with self._lock:
            stalls = list(self._stalls.values())
        for _, gate in stalls:
            gate.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _body(self, path: str) -> bytes | None:
        if path in self._files:
            return self._files[path]
        if self._directory is not None:
            candidate = (self._directory / path.lstrip("/")).resolve()
            if candidate.is_relative_to(self._directory.resolve()) and candidate.is_file():
                return candidate.read_bytes()
        return None

    def _answer(self, handler: _Handler) -> None:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self._counts[path] += 1
            self._headers[path] = handler.headers
            times, status = self._failures.get(path, (0, 0))
            if times:
                self._failures[path] = (times - 1, status)
            body = self._body(path)
            stall = self._stalls.get(path)
        if times:
            handler.send_response(status)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if body is None:
            handler.send_error(404)
            return
        encoding = "identity"
        accepted = handler.headers.get("Accept-Encoding", "")
        if self.gzip_always or (self.gzip and "gzip" in accepted):
            body, encoding = gzip.compress(body), "gzip"
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        if encoding != "identity":
            handler.send_header("Content-Encoding", encoding)
        handler.end_headers()
        try:
            if stall is not None:
                after, gate = stall
                handler.wfile.write(body[:after])
                handler.wfile.flush()
                gate.wait()
                body = body[after:]
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
