"""Landing on the failure: the landing URL, the open request, and the window greeter."""

from __future__ import annotations

import json
import logging
import urllib.parse
from pathlib import Path

import pytest

from tests.fakes import FakeClock, FakeEditorWindows, FakeWakeup
from vscode_interactive._supervision._landing import (
    GREET_INTERVAL,
    Greeting,
    WindowGreeter,
    fits_socket_address,
    landing_url,
    open_request,
    remote_authority,
)
from vscode_interactive._workspace import SourceLocation

FRONT = SourceLocation(Path("/ws/.vscode-interactive/DEBUGGING.md"), 1)
RAISED = SourceLocation(Path("/ws/my job/train.py"), 42)
REGISTRY = Path("/ws/.vscode-interactive/code-server-ipc.sock")


def query_of(url: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)


def test_landing_url_opens_the_file_at_its_line_in_the_folder() -> None:
    """The payload names the file as a vscode-remote URI on the server's authority, with
    ``:line`` and gotoLineMode; the folder is the workspace."""
    url = landing_url("http://127.0.0.1:8080", folder=Path("/ws"), reveal=RAISED)
    assert url.startswith("http://127.0.0.1:8080/?")
    assert not any(char in url for char in ' "[]')
    query = query_of(url)
    assert query["folder"] == ["/ws"]
    assert json.loads(query["payload"][0]) == [
        ["openFile", "vscode-remote://127.0.0.1:8080/ws/my%20job/train.py:42"],
        ["gotoLineMode", "true"],
    ]


def test_landing_url_opens_the_workspace_file_instead_of_the_folder() -> None:
    """With a .code-workspace file the query names it (``workspace=``), not the folder."""
    file = Path("/ws/.vscode-interactive/ws.code-workspace")
    url = landing_url("http://127.0.0.1:8080", folder=Path("/ws"), reveal=RAISED, workspace=file)
    query = query_of(url)
    assert query["workspace"] == [str(file)] and "folder" not in query
    assert json.loads(query["payload"][0])[0][0] == "openFile"


def test_landing_url_without_a_file_is_the_base_url() -> None:
    """Nothing to reveal: the plain server URL (code-server opens its folder)."""
    assert landing_url("http://127.0.0.1:8080", folder=Path("/ws"), reveal=None) == (
        "http://127.0.0.1:8080"
    )


def test_remote_authority_is_host_and_port() -> None:
    """The authority keeps IPv6 brackets and the port."""
    assert remote_authority("http://[::1]:9000") == "[::1]:9000"
    assert remote_authority("http://127.0.0.1:8080/") == "127.0.0.1:8080"


def test_open_request_leaves_the_first_file_in_front() -> None:
    """Files are sent last-first (the window activates the last one), as file URIs with
    their line, reusing the window."""
    request = open_request([FRONT, RAISED])
    assert request["fileURIs"] == [
        "file:///ws/my%20job/train.py:42",
        "file:///ws/.vscode-interactive/DEBUGGING.md:1",
    ]
    assert request["type"] == "open" and request["folderURIs"] == []
    assert request["gotoLineMode"] is True and request["forceReuseWindow"] is True


def greeter(windows: FakeEditorWindows, wakeup: FakeWakeup | None = None) -> WindowGreeter:
    return WindowGreeter(
        windows, REGISTRY, [FRONT, RAISED], wakeup=wakeup or FakeWakeup(FakeClock())
    )


def test_a_new_window_is_greeted_once() -> None:
    """The newest window gets the files; asking again does not open them twice."""
    windows = FakeEditorWindows(["/tmp/ipc-1.sock"])
    greet = greeter(windows)
    assert greet.poll_once() == "/tmp/ipc-1.sock"
    assert greet.poll_once() is None
    assert [window for window, _ in windows.requests] == ["/tmp/ipc-1.sock"]
    assert windows.requests[0][1] == open_request([FRONT, RAISED])
    assert windows.lookups[0] == (REGISTRY, FRONT.path)
    assert greet.greeted == ("/tmp/ipc-1.sock",)


def test_waits_for_a_window_then_greets_each_new_one() -> None:
    """No window yet: nothing is sent; a later window, then a reloaded one, are greeted."""
    windows = FakeEditorWindows([None, None, "/tmp/ipc-1.sock", "/tmp/ipc-2.sock"])
    greet = greeter(windows)
    assert [greet.poll_once() for _ in range(5)] == [
        None,
        None,
        "/tmp/ipc-1.sock",
        "/tmp/ipc-2.sock",
        None,
    ]
    assert [window for window, _ in windows.requests] == ["/tmp/ipc-1.sock", "/tmp/ipc-2.sock"]


def test_a_window_that_refuses_is_logged_and_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failed open is a warning naming the files; the same window is not asked again."""
    windows = FakeEditorWindows(["/tmp/ipc-1.sock"], refusing=["/tmp/ipc-1.sock"])
    greet = greeter(windows)
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        assert greet.poll_once() is None
        assert greet.poll_once() is None
    assert "DEBUGGING.md:1, train.py:42" in caplog.text and "connection refused" in caplog.text
    assert windows.requests == [] and len(windows.lookups) == 2


def test_serve_looks_every_interval_until_stopped() -> None:
    """serve() looks, waits GREET_INTERVAL on its wakeup, and returns once stopped."""
    clock = FakeClock()
    wakeup = FakeWakeup(clock)
    windows = FakeEditorWindows([None, None, "/tmp/ipc-1.sock"])
    greet = greeter(windows, wakeup)

    def stop_after_three_waits(clock: FakeClock) -> None:
        if len(wakeup.waits) == 3:
            greet.stop()

    clock.on_sleep.append(stop_after_three_waits)
    greet.serve()
    assert wakeup.waits == [GREET_INTERVAL] * 3
    assert len(windows.lookups) == 3 and len(windows.requests) == 1


def test_a_greeter_needs_files() -> None:
    """Greeting with nothing to open is a programming error."""
    with pytest.raises(ValueError, match="at least one file"):
        WindowGreeter(FakeEditorWindows(), REGISTRY, [], wakeup=FakeWakeup(FakeClock()))


def test_socket_addresses_hold_107_bytes() -> None:
    """107 bytes fit in sun_path (with its NUL), 108 do not."""
    assert fits_socket_address(Path("/" + "a" * 106))
    assert not fits_socket_address(Path("/" + "a" * 107))


def test_greeting_uses_the_state_dir_socket_when_it_fits(tmp_path: Path) -> None:
    """A short preferred path is used as is and removed on close."""
    preferred = tmp_path / "ipc.sock"
    greeting = Greeting(FakeEditorWindows(), [FRONT], preferred=preferred)
    assert greeting.registry == preferred
    preferred.write_text("left behind by code-server")
    greeting.close()
    assert not preferred.exists()


def test_greeting_moves_a_long_socket_path_to_a_private_temp_dir(tmp_path: Path) -> None:
    """Too long for a socket: a short path in a new temp dir, removed with it on close;
    start() greets in a thread that close() stops."""
    preferred = tmp_path / ("d" * 120) / "ipc.sock"
    windows = FakeEditorWindows(["/tmp/ipc-1.sock"])
    greeting = Greeting(windows, [FRONT, RAISED], preferred=preferred)
    registry = greeting.registry
    assert registry is not None and fits_socket_address(registry)
    assert registry.parent.is_dir() and registry.parent != preferred.parent
    greeting.start()
    assert windows.opened.wait(5)
    greeting.close()
    assert not registry.parent.exists()
    assert windows.lookups[0] == (registry, FRONT.path)
