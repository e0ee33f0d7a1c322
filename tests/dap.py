"""A small Debug Adapter Protocol client for tests: JSON messages with Content-Length framing.

It speaks to a debug adapter over TCP (``DapClient.connect(port)``) or over a subprocess's
pipes (``DapClient.spawn(argv)``, e.g. ``python -m debugpy.adapter``). A reader thread
files every message it receives: responses by request ``seq``, events in arrival order.
Every wait has a deadline and fails with what arrived so far, so a test never sleeps.

Typical attach to a listener::

    with DapClient.connect(port) as client:
        client.attach()                      # initialize, attach, configurationDone
        stopped = client.wait_event("stopped")
        frames = client.stack_trace(stopped["threadId"])
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, BinaryIO

__all__ = ["DapClient", "DapError", "Message"]

Message = dict[str, Any]

DEFAULT_TIMEOUT = 30.0


class DapError(AssertionError):
    """The adapter answered ``success: false``, or nothing came before the deadline."""


def encode(message: Mapping[str, Any]) -> bytes:
    """One framed message: ``Content-Length: N\\r\\n\\r\\n`` then N bytes of UTF-8 JSON."""
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream: BinaryIO) -> Message | None:
    """The next framed message from ``stream``, or ``None`` at end of stream."""
    length: int | None = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise DapError("a DAP message header without Content-Length")
    body = stream.read(length)
    if len(body) < length:
        return None
    message: Message = json.loads(body)
    return message


class DapClient:
    """One DAP connection. Thread-safe for one test thread plus its reader thread."""

    def __init__(
        self, reader: BinaryIO, write: Callable[[bytes], None], closer: Callable[[], None]
    ) -> None:
        self._reader = reader
        self._write = write
        self._closer = closer
        self._seq = 0
        self._lock = threading.Condition()
        self._responses: dict[int, Message] = {}
        self.events: list[Message] = []
        self._consumed = 0
        self.closed = False
        self._thread = threading.Thread(target=self._read_loop, name="dap-reader", daemon=True)
        # A debugger in this same process must never suspend the client's own reader.
        self._thread.pydev_do_not_trace = True  # type: ignore[attr-defined]
        self._thread.start()

    @classmethod
    def connect(
        cls, port: int, host: str = "127.0.0.1", timeout: float = DEFAULT_TIMEOUT
    ) -> DapClient:
        """A client over a TCP connection to ``host:port``."""
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.settimeout(None)
        stream = sock.makefile("rb")

        def close() -> None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

        return cls(stream, sock.sendall, close)

    @classmethod
    def spawn(cls, argv: Sequence[str], env: Mapping[str, str] | None = None) -> DapClient:
        """A client over the stdin/stdout of a new process (an adapter in stdio mode)."""
        process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert process.stdin is not None and process.stdout is not None
        stdin = process.stdin

        def write(data: bytes) -> None:
            stdin.write(data)
            stdin.flush()

        def close() -> None:
            with contextlib.suppress(OSError):
                stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

        return cls(process.stdout, write, close)  # type: ignore[arg-type]

    def __enter__(self) -> DapClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closer()
        self._thread.join(timeout=10)

    def _read_loop(self) -> None:
        try:
            while True:
                message = read_message(self._reader)
                if message is None:
                    break
                with self._lock:
                    if message.get("type") == "response":
                        self._responses[int(message["request_seq"])] = message
                    elif message.get("type") == "event":
                        self.events.append(message)
                    elif message.get("type") == "request":
                        self._answer_reverse_request(message)
                    self._lock.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self.closed = True
                self._lock.notify_all()

    def _answer_reverse_request(self, message: Message) -> None:
        # runInTerminal and friends: this client supports none of them.
        self._send(
            {
                "type": "response",
                "request_seq": message["seq"],
                "command": message["command"],
                "success": False,
                "message": "not supported by the test client",
            }
        )

    def _send(self, message: Message) -> int:
        with self._lock:
            self._seq += 1
            seq = self._seq
        self._write(encode({"seq": seq, **message}))
        return seq

    def send_request(self, command: str, arguments: Mapping[str, Any] | None = None) -> int:
        """Send a request without waiting; returns its ``seq`` for :meth:`wait_response`."""
        message: Message = {"type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = dict(arguments)
        return self._send(message)

    def _wait(self, ready: Callable[[], Any], what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = ready()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    names = [event.get("event") for event in self.events]
                    state = "connection closed" if self.closed else f"{timeout:g} s passed"
                    raise DapError(f"no {what} ({state}); events so far: {names}")
                self._lock.wait(left)

    def wait_response(self, seq: int, timeout: float = DEFAULT_TIMEOUT) -> Message:
        """The response to request ``seq``; :class:`DapError` unless it succeeded."""
        response: Message = self._wait(
            lambda: self._responses.get(seq), f"response to request {seq}", timeout
        )
        if not response.get("success"):
            raise DapError(
                f"{response.get('command')} failed: {response.get('message')} "
                f"{response.get('body', '')}"
            )
        return response

    def request(
        self,
        command: str,
        arguments: Mapping[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Send a request and return the body of its successful response."""
        body: dict[str, Any] = self.wait_response(
            self.send_request(command, arguments), timeout
        ).get("body", {})
        return body

    def wait_event(
        self,
        name: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """The body of the next not-yet-consumed event ``name`` (matching ``predicate``)."""

        def find() -> dict[str, Any] | None:
            for index in range(self._consumed, len(self.events)):
                event = self.events[index]
                body: dict[str, Any] = event.get("body", {})
                if event.get("event") == name and (predicate is None or predicate(body)):
                    self._consumed = index + 1
                    return body
            return None

        found: dict[str, Any] = self._wait(find, f"{name!r} event", timeout)
        return found

    def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Until the adapter closes the connection."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DapError(f"the adapter kept the connection open for {timeout:g} s")
                self._lock.wait(left)

    # -- the usual conversation --------------------------------------------------------

    def initialize(self) -> dict[str, Any]:
        return self.request(
            "initialize",
            {
                "clientID": "vscode-interactive-tests",
                "adapterID": "debugpy",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsVariableType": True,
                "supportsRunInTerminalRequest": False,
            },
        )

    def attach(
        self, arguments: Mapping[str, Any] | None = None, *, exception_filters: Sequence[str] = ()
    ) -> dict[str, Any]:
        """initialize -> attach -> (initialized) -> setExceptionBreakpoints ->
        configurationDone -> the attach response. ``exception_filters`` is what the
        user ticked in the Breakpoints view (none by default)."""
        self.initialize()
        seq = self.send_request("attach", {"justMyCode": False, **(arguments or {})})
        self.wait_event("initialized")
        self.request("setExceptionBreakpoints", {"filters": list(exception_filters)})
        self.request("configurationDone")
        body: dict[str, Any] = self.wait_response(seq).get("body", {})
        return body

    def launch(self, arguments: Mapping[str, Any]) -> int:
        """initialize -> launch -> (initialized) -> configurationDone; returns the launch
        request's seq (debugpy answers it once the program runs)."""
        self.initialize()
        seq = self.send_request("launch", arguments)
        self.wait_event("initialized")
        return seq

    def stack_trace(self, thread_id: int) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = self.request("stackTrace", {"threadId": thread_id})[
            "stackFrames"
        ]
        return frames

    def locals_of(self, frame_id: int) -> dict[str, str]:
        """``{name: value}`` of the first scope (Locals) of a frame."""
        scopes = self.request("scopes", {"frameId": frame_id})["scopes"]
        reference = scopes[0]["variablesReference"]
        variables = self.request("variables", {"variablesReference": reference})["variables"]
        return {item["name"]: item["value"] for item in variables}

    def evaluate(self, expression: str, frame_id: int) -> str:
        body = self.request(
            "evaluate", {"expression": expression, "frameId": frame_id, "context": "repl"}
        )
        return str(body["result"])

    def disconnect(self, *, terminate: bool = False) -> None:
        """Detach (``terminateDebuggee`` false by default) and wait for the answer."""
        self.request("disconnect", {"terminateDebuggee": terminate, "restart": False})
