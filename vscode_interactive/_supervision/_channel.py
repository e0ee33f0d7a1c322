"""The resume channel: a Unix socket in the state directory.

The supervisor listens on ``<state dir>/resume.sock`` in a daemon thread; the generated
resume script and ``vscode-interactive resume`` / ``status`` connect to it. One request per
connection, one JSON line each way::

    -> {"command": "resume"}          <- {"ok": true, "message": "..."}
    -> {"command": "abort"}           <- {"ok": true, "message": "..."}
    -> {"command": "status"}          <- {"ok": true, "message": "...", "status": {...}}
    -> {"command": "activity", "kind": "edit", "window": "..."}
                                      <- {"ok": true, "message": "...", "status": {...}}

``activity`` comes from the library's own IDE extension (see :mod:`._activity`); the
extension finds the socket in code-server's environment, ``VSCODE_INTERACTIVE_CHANNEL``
(:func:`channel_env_value`: the path, or ``@name`` for an abstract socket).

Why a socket and not a signal or a file: the decorated function may run in a non-main
thread (no Python signal handlers there), the requester needs an answer (an acknowledgement,
or "no session here"), and the supervisor must react within a fraction of a second without
polling the disk.

Addresses: ``sun_path`` holds at most 107 bytes. When the socket path is longer (deep
workspaces), the server binds a Linux *abstract* name ``\\0vscode-interactive-<32 random
hex>`` instead and records it in ``<state dir>/resume.address`` (0600, in the private state
directory), where clients read it. The name is random, not derived from the path: anyone
on the machine can bind any abstract name, so a predictable one could be taken first.
Abstract sockets vanish with their process, so they are never stale. Access: the socket
file is made 0600 before ``listen``, and on Linux every connection's peer uid is checked
(``SO_PEERCRED``) -- abstract names have no file permissions -- so only the same user (or
root) can resume or query a session.

This module touches sockets on purpose; it is the one exception to "only ``_system.py``
does I/O with the outside", kept small and tested against real sockets.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import secrets
import select
import socket
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from .._errors import ResumeError, ServerStartError
from .._layout import RESUME_ADDRESS_NAME, RESUME_SOCKET_NAME, fits_socket_address
from .._system._files import ensure_private_dir, write_atomic
from ._activity import ENV_CHANNEL

__all__ = [
    "ENV_CHANNEL",
    "ChannelServer",
    "Command",
    "Handler",
    "Reply",
    "channel_address",
    "channel_env_value",
    "command_handler",
    "request_abort",
    "request_resume",
    "request_status",
]

logger = logging.getLogger("vscode_interactive.channel")

_MAX_MESSAGE = 64 * 1024
_ABSTRACT_PREFIX = "vscode-interactive-"
_ABSTRACT_NAME = re.compile(re.escape(_ABSTRACT_PREFIX) + "[0-9a-f]{32}")
_BIND_ATTEMPTS = 5

Reply = dict[str, Any]
"""``{"ok": bool, "message": str, ...}``"""

Handler = Callable[[str, Mapping[str, Any]], Reply]
"""``handler(command, request) -> reply``; ``request`` is the whole JSON object received."""


Command = Literal["resume", "status", "abort"]
"""What a client can ask a session (anything else is answered ``ok: false``)."""


def _socket_path(state_dir: Path | str) -> Path:
    # both ends must agree, whatever spelling of the path they were given
    return Path(state_dir).resolve() / RESUME_SOCKET_NAME


def _address_file(state_dir: Path | str) -> Path:
    return Path(state_dir).resolve() / RESUME_ADDRESS_NAME


def _recorded_address(state_dir: Path | str) -> bytes | None:
    """The abstract name a live server recorded for ``state_dir``, if any."""
    try:
        name = _address_file(state_dir).read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None
    if not _ABSTRACT_NAME.fullmatch(name):
        return None
    return b"\0" + name.encode()


def channel_address(state_dir: Path | str) -> str | bytes:
    """Where the session of ``state_dir`` listens: the socket path, or (path too long) the
    abstract name its server recorded. Raises :class:`ResumeError` when none is recorded."""
    path = _socket_path(state_dir)
    if fits_socket_address(path):
        return str(path)
    recorded = _recorded_address(state_dir)
    if recorded is None:
        raise ResumeError(
            f"no vscode-interactive session is listening for {Path(state_dir)}: its path is "
            f"too long for a socket and no abstract socket name is recorded in "
            f"{_address_file(state_dir)}. Is the job still waiting in the IDE?"
        )
    return recorded


def channel_env_value(address: str | bytes) -> str:
    """:data:`ENV_CHANNEL`'s value for ``address``: the socket path, or ``@name`` for an
    abstract socket (an environment variable cannot hold the NUL that starts one)."""
    return address if isinstance(address, str) else "@" + address[1:].decode()


def _describe(address: str | bytes) -> str:
    return address if isinstance(address, str) else f"abstract socket {address[1:].decode()}"


def _peer_allowed(conn: socket.socket) -> bool:
    if sys.platform != "linux":
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid in (os.getuid(), 0)


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < _MAX_MESSAGE:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


class ChannelServer:
    """Listens on the state directory's socket and answers with ``handler(command, request)``.

    ``handler`` runs in the listener thread; it must be quick and thread-safe.
    """

    def __init__(self, state_dir: Path, handler: Handler) -> None:
        self.state_dir = Path(state_dir)
        path = _socket_path(self.state_dir)
        #: The socket path, or the abstract name (random, chosen by :meth:`start`).
        self.address: str | bytes = str(path) if fits_socket_address(path) else b""
        self._handler = handler
        self._sock: socket.socket | None = None
        self._stop: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None

    def _refuse_if_live(self, address: str | bytes) -> None:
        """Raise if a session answers at ``address`` (a socket file, or the abstract name
        recorded in the state dir); return if nobody listens there."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(address)
            except OSError:
                return
        raise ServerStartError(
            f"another vscode-interactive session already listens on {_describe(address)} "
            f"for {self.state_dir}; resume or stop it first (vscode-interactive status / "
            "resume), or use another workspace"
        )

    def _bind_path(self, sock: socket.socket, path: Path) -> None:
        ensure_private_dir(self.state_dir)
        if path.exists() or path.is_symlink():
            self._refuse_if_live(str(path))
            path.unlink(missing_ok=True)  # nobody listens: left by a killed session
        sock.bind(str(path))
        path.chmod(0o600)

    def _bind_abstract(self, sock: socket.socket) -> bytes:
        """Bind a fresh random abstract name and record it for clients."""
        ensure_private_dir(self.state_dir)
        recorded = _recorded_address(self.state_dir)
        if recorded is not None:
            self._refuse_if_live(recorded)
        for attempt in range(1, _BIND_ATTEMPTS + 1):
            name = _ABSTRACT_PREFIX + secrets.token_hex(16)
            try:
                sock.bind(b"\0" + name.encode())
                break
            except OSError as error:
                if error.errno != errno.EADDRINUSE or attempt == _BIND_ATTEMPTS:
                    raise ServerStartError(
                        f"cannot bind an abstract socket for {self.state_dir} (its path is "
                        f"too long for a socket file): {error}"
                    ) from error
        write_atomic(_address_file(self.state_dir), name + "\n", mode=0o600)
        return b"\0" + name.encode()

    def start(self) -> None:
        """Bind and listen, then serve in a daemon thread."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if isinstance(self.address, str):
                self._bind_path(sock, Path(self.address))
            else:
                self.address = self._bind_abstract(sock)
            sock.listen(8)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._stop = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve,
            args=(sock, self._stop[0]),
            name="vscode-interactive-channel",
            daemon=True,
        )
        self._thread.start()
        logger.debug("resume channel listening on %s", _describe(self.address))

    def _serve(self, sock: socket.socket, stop: socket.socket) -> None:
        while True:
            ready, _, _ = select.select([sock, stop], [], [])
            if stop in ready:
                return
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        try:
            if not _peer_allowed(conn):
                reply: Reply = {"ok": False, "message": "permission denied: not the same user"}
            else:
                reply = self._dispatch(_read_line(conn))
            conn.sendall(json.dumps(reply).encode() + b"\n")
        except OSError as error:
            logger.debug("resume channel: dropped a connection: %s", error)

    def _dispatch(self, line: bytes) -> Reply:
        try:
            request = json.loads(line)
            command = str(request["command"])
        except (ValueError, KeyError, TypeError):
            return {"ok": False, "message": 'bad request: expected {"command": ...}'}
        try:
            return self._handler(command, request)
        except Exception as error:  # the listener must outlive a handler bug
            logger.exception("resume channel handler failed on %r", command)
            return {"ok": False, "message": f"supervisor error: {error}"}

    def close(self) -> None:
        """Stop serving and remove the socket file. Idempotent."""
        if self._stop is not None:
            with contextlib.suppress(OSError):
                self._stop[1].send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            if isinstance(self.address, str):
                Path(self.address).unlink(missing_ok=True)
            elif _recorded_address(self.state_dir) == self.address:
                _address_file(self.state_dir).unlink(missing_ok=True)
        if self._stop is not None:
            for end in self._stop:
                end.close()
            self._stop = None


def command_handler(
    *,
    resume: Callable[[], str],
    status: Callable[[], Mapping[str, object]],
    activity: Callable[[Mapping[str, Any]], Reply] | None = None,
    abort: Callable[[], str] | None = None,
) -> Handler:
    """The :class:`ChannelServer` handler of a session: ``resume`` returns the
    acknowledgement or raises :class:`ResumeError` (sent back as a refusal); ``status``
    returns the session's status (its ``server_url`` is named in the message);
    ``activity`` answers the IDE extension's reports and ``abort`` ends the job with its
    failure, like ``resume`` (each an unknown command without it)."""

    def handle(command: str, request: Mapping[str, Any]) -> Reply:
        if command == "activity" and activity is not None:
            return activity(request)
        if command == "status":
            snapshot = dict(status())
            message = f"session at {snapshot.get('server_url', '')}"
            return {"ok": True, "message": message, "status": snapshot}
        act = {"resume": resume, "abort": abort}.get(command)
        if act is not None:
            try:
                return {"ok": True, "message": act()}
            except ResumeError as error:
                return {"ok": False, "message": str(error)}
        return {"ok": False, "message": f"unknown command {command!r}"}

    return handle


def _request(state_dir: Path | str, command: Command, timeout: float) -> Reply:
    address = channel_address(state_dir)
    where = _describe(address)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise ResumeError(
                f"no vscode-interactive session is listening on {where}: {error.strerror}. "
                "Is the job still waiting in the IDE? Check the state directory "
                "(--state-dir / --workspace) and `vscode-interactive status`."
            ) from error
        except OSError as error:
            raise ResumeError(f"cannot connect to the session on {where}: {error}") from error
        try:
            sock.sendall(json.dumps({"command": command}).encode() + b"\n")
            line = _read_line(sock)
        except TimeoutError as error:
            raise ResumeError(
                f"the session on {where} did not answer {command!r} within {timeout:g} s"
            ) from error
        except OSError as error:
            raise ResumeError(f"lost the connection to the session on {where}: {error}") from error
    try:
        reply = json.loads(line)
    except ValueError as error:
        raise ResumeError(
            f"the session on {where} sent no acknowledgement for {command!r}"
            + (f" (got {line[:80]!r})" if line else "")
        ) from error
    if not isinstance(reply, dict):
        raise ResumeError(f"the session on {where} sent a malformed answer: {reply!r}")
    if not reply.get("ok"):
        raise ResumeError(
            f"the session on {where} refused {command!r}: {reply.get('message', 'no reason')}"
        )
    return reply


def request_resume(state_dir: Path, *, timeout: float = 5.0) -> str:
    """Ask the session supervising ``state_dir`` to stop the IDE and resume the task.

    Returns the supervisor's acknowledgement. Raises :class:`ResumeError` when no session
    listens there, it refuses (already stopping), or no acknowledgement comes in time.
    """
    return str(_request(state_dir, "resume", timeout).get("message", ""))


def request_abort(state_dir: Path, *, timeout: float = 5.0) -> str:
    """Ask the session supervising ``state_dir`` to stop the IDE and end the job with its
    latest failure (chained to the first). :class:`ResumeError` as for :func:`request_resume`.
    """
    return str(_request(state_dir, "abort", timeout).get("message", ""))


def request_status(state_dir: Path, *, timeout: float = 5.0) -> Mapping[str, Any]:
    """The live session's status (URL, pids, idle seconds, ...); :class:`ResumeError` if none."""
    status = _request(state_dir, "status", timeout).get("status", {})
    return dict(status) if isinstance(status, dict) else {}
