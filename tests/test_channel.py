"""The resume channel over real Unix sockets: acknowledgements, refusals, addresses."""

from __future__ import annotations

import socket
import stat
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from vscode_interactive import ResumeError, ServerStartError
from vscode_interactive._supervision._channel import (
    ChannelServer,
    Reply,
    channel_address,
    command_handler,
    request_resume,
    request_status,
)

pytestmark = pytest.mark.integration


class Recorder:
    """A handler that records commands and answers like a supervisor would."""

    def __init__(self, refuse: bool = False) -> None:
        self.commands: list[str] = []
        self.threads: list[str] = []
        self.refuse = refuse

    def __call__(self, command: str, request: Mapping[str, Any]) -> Reply:
        self.commands.append(command)
        self.threads.append(threading.current_thread().name)
        if command == "boom":
            raise RuntimeError("handler bug")
        if self.refuse:
            return {"ok": False, "message": "already ending (idle)"}
        if command == "status":
            return {"ok": True, "message": "", "status": {"url": "http://127.0.0.1:1"}}
        return {"ok": True, "message": f"ack {command}"}


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / ".vscode-interactive"


@pytest.fixture
def served(state_dir: Path) -> Iterator[tuple[ChannelServer, Recorder]]:
    recorder = Recorder()
    server = ChannelServer(state_dir, recorder)
    server.start()
    try:
        yield server, recorder
    finally:
        server.close()


def test_resume_gets_the_acknowledgement(
    state_dir: Path, served: tuple[ChannelServer, Recorder]
) -> None:
    """request_resume returns the supervisor's text; the handler runs in the channel thread."""
    _, recorder = served
    assert request_resume(state_dir) == "ack resume"
    assert recorder.commands == ["resume"]
    assert recorder.threads == ["vscode-interactive-channel"]


def test_status_returns_the_status_mapping(
    state_dir: Path, served: tuple[ChannelServer, Recorder]
) -> None:
    """request_status hands back the supervisor's status dict."""
    assert request_status(state_dir) == {"url": "http://127.0.0.1:1"}


def test_socket_file_is_private(state_dir: Path, served: tuple[ChannelServer, Recorder]) -> None:
    """The socket lives in the state directory with mode 0600 and is removed on close."""
    server, _ = served
    path = state_dir / "resume.sock"
    assert server.address == str(path.resolve())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    server.close()
    assert not path.exists()


def test_no_session_is_a_clear_resume_error(state_dir: Path) -> None:
    """Nobody listening: ResumeError naming the socket and what to check."""
    with pytest.raises(ResumeError, match="no vscode-interactive session is listening on") as info:
        request_resume(state_dir)
    assert "resume.sock" in str(info.value)


def test_refusal_is_a_resume_error_with_the_reason(state_dir: Path) -> None:
    """A supervisor that refuses (already stopping) makes the client raise with its reason."""
    server = ChannelServer(state_dir, Recorder(refuse=True))
    server.start()
    try:
        with pytest.raises(ResumeError, match=r"refused 'resume': already ending \(idle\)"):
            request_resume(state_dir)
    finally:
        server.close()


def test_no_acknowledgement_in_time_is_a_resume_error(state_dir: Path) -> None:
    """A listener that never answers: ResumeError after the timeout, not a hang."""
    state_dir.mkdir(parents=True)
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mute.bind(str(state_dir / "resume.sock"))
    mute.listen(1)
    try:
        with pytest.raises(ResumeError, match=r"did not answer 'resume' within 0\.2 s"):
            request_resume(state_dir, timeout=0.2)
    finally:
        mute.close()


def test_handler_failure_is_reported_and_the_listener_survives(
    state_dir: Path, served: tuple[ChannelServer, Recorder]
) -> None:
    """A bug in the handler answers an error; the next request is still served."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(state_dir / "resume.sock"))
        sock.sendall(b'{"command": "boom"}\n')
        answer = sock.recv(4096)
    assert b"supervisor error: handler bug" in answer
    assert request_resume(state_dir) == "ack resume"


def test_malformed_request_is_answered_not_crashed(
    state_dir: Path, served: tuple[ChannelServer, Recorder]
) -> None:
    """Garbage on the socket gets a 'bad request' answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(state_dir / "resume.sock"))
        sock.sendall(b"hello\n")
        assert b"bad request" in sock.recv(4096)


def test_stale_socket_file_is_replaced(state_dir: Path) -> None:
    """A socket file left by a killed session (nobody listening) does not block a new one."""
    state_dir.mkdir(parents=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(state_dir / "resume.sock"))
    dead.close()  # the file stays, nobody listens
    server = ChannelServer(state_dir, Recorder())
    server.start()
    try:
        assert request_resume(state_dir) == "ack resume"
    finally:
        server.close()


def test_live_session_is_not_displaced(
    state_dir: Path, served: tuple[ChannelServer, Recorder]
) -> None:
    """A second listener on a live state dir fails instead of stealing the socket."""
    with pytest.raises(ServerStartError, match="already listens on"):
        ChannelServer(state_dir, Recorder()).start()
    assert request_resume(state_dir) == "ack resume"


@pytest.mark.skipif(sys.platform != "linux", reason="abstract sockets are Linux-only")
def test_long_state_dir_uses_an_abstract_socket(tmp_path: Path) -> None:
    """A state dir too deep for sun_path is served on a random abstract name, recorded in
    the (private) state dir where clients read it; a second listener is refused while the
    first is alive, with a message that is true."""
    deep = tmp_path.joinpath(*["d" * 30] * 4) / ".vscode-interactive"
    server = ChannelServer(deep, Recorder())
    server.start()
    try:
        address = channel_address(deep)
        assert address == server.address
        assert isinstance(address, bytes) and address.startswith(b"\0vscode-interactive-")
        assert channel_address(deep / ".." / deep.name) == address  # any spelling of the path
        assert request_resume(deep) == "ack resume"
        assert not (deep / "resume.sock").exists()
        with pytest.raises(ServerStartError, match="already listens on abstract socket"):
            ChannelServer(deep, Recorder()).start()
    finally:
        server.close()
    with pytest.raises(ResumeError, match="no vscode-interactive session"):
        request_resume(deep)


def _old_predictable_name(state_dir: Path) -> bytes:
    """The abstract name earlier versions derived from the state dir's path alone."""
    import hashlib
    import os

    digest = hashlib.sha256(os.fsencode(str(state_dir.resolve()))).hexdigest()[:32]
    return b"\0vscode-interactive-" + digest.encode()


@pytest.mark.skipif(sys.platform != "linux", reason="abstract sockets are Linux-only")
def test_a_squatted_abstract_name_cannot_block_a_deep_workspace(tmp_path: Path) -> None:
    """Anyone may bind an abstract name; the session's is random, so binding the name the
    path suggests blocks nothing, and each session gets a new one."""
    deep = tmp_path.joinpath(*["d" * 30] * 4) / ".vscode-interactive"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as squatter:
        squatter.bind(_old_predictable_name(deep))
        squatter.listen(1)
        server = ChannelServer(deep, Recorder())
        server.start()
        try:
            assert request_resume(deep) == "ack resume"
            first = server.address
        finally:
            server.close()
    again = ChannelServer(deep, Recorder())
    again.start()
    try:
        assert isinstance(first, bytes) and again.address != first
        assert request_status(deep)["url"] == "http://127.0.0.1:1"
    finally:
        again.close()


def _open_fds() -> set[str]:
    return {entry.name for entry in Path("/proc/self/fd").iterdir()}


@pytest.mark.skipif(sys.platform != "linux", reason="counts descriptors in /proc/self/fd")
def test_close_is_idempotent(state_dir: Path) -> None:
    """Closing twice, or without starting, is harmless: the second close raises nothing,
    the first already released the socket file, the listener thread and every descriptor,
    so the next server starts on the same state directory."""
    never_started = ChannelServer(state_dir, Recorder())
    never_started.close()
    never_started.close()
    assert not state_dir.exists()  # closing creates nothing

    fds, threads = _open_fds(), set(threading.enumerate())
    started = ChannelServer(state_dir, Recorder())
    started.start()
    assert request_resume(state_dir) == "ack resume"
    started.close()
    started.close()
    assert not (state_dir / "resume.sock").exists()
    assert set(threading.enumerate()) <= threads
    assert _open_fds() <= fds
    with pytest.raises(ResumeError, match="no vscode-interactive session is listening"):
        request_resume(state_dir)

    successor = ChannelServer(state_dir, Recorder())
    successor.start()
    try:
        assert request_resume(state_dir) == "ack resume"
    finally:
        successor.close()


def test_session_handler_answers_status_resume_and_unknown_commands() -> None:
    """A session's handler: status with its URL, resume acknowledged or refused with the
    supervisor's reason, anything else refused by name."""
    refusals: list[str] = []

    def resume() -> str:
        if refusals:
            raise ResumeError(refusals[0])
        return "resume accepted"

    handle = command_handler(resume=resume, status=lambda: {"server_url": "http://h:1"})
    assert handle("status", {"command": "status"}) == {
        "ok": True,
        "message": "session at http://h:1",
        "status": {"server_url": "http://h:1"},
    }
    assert handle("resume", {"command": "resume"}) == {"ok": True, "message": "resume accepted"}
    refusals.append("already ending (idle)")
    assert handle("resume", {"command": "resume"}) == {
        "ok": False,
        "message": "already ending (idle)",
    }
    assert handle("reboot", {"command": "reboot"}) == {
        "ok": False,
        "message": "unknown command 'reboot'",
    }


def test_abort_is_answered_like_resume_and_unknown_without_a_handler() -> None:
    """'abort' reaches its callback (a refusal is sent back); without one it is unknown."""

    def abort() -> str:
        raise ResumeError("already ending (idle)")

    with_abort = command_handler(resume=lambda: "r", status=dict, abort=lambda: "aborting")
    assert with_abort("abort", {"command": "abort"}) == {"ok": True, "message": "aborting"}
    refusing = command_handler(resume=lambda: "r", status=dict, abort=abort)
    assert refusing("abort", {"command": "abort"}) == {
        "ok": False,
        "message": "already ending (idle)",
    }
    without = command_handler(resume=lambda: "r", status=dict)
    assert without("abort", {"command": "abort"})["ok"] is False
