"""``vscode-interactive doctor``: each check on fakes, and the command as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import FakeEnvironment, FakePortAllocator
from vscode_interactive._cli.doctor import Check, check_home, check_port, check_source, run_checks
from vscode_interactive._install._config import VscodeConfig


def test_explicit_executable_is_reported_with_its_origin(tmp_path: Path) -> None:
    """VSCODE_INTERACTIVE_CODE_SERVER wins and is reported as coming from the env."""
    exe = tmp_path / "code-server"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    env = FakeEnvironment({"VSCODE_INTERACTIVE_CODE_SERVER": str(exe), "PATH": ""})
    check = check_source(env, VscodeConfig())
    assert check.ok and str(exe) in check.found and "env" in check.found


def test_missing_explicit_executable_fails_with_advice(tmp_path: Path) -> None:
    """A configured executable that does not exist fails the check."""
    env = FakeEnvironment({"PATH": ""})
    check = check_source(env, VscodeConfig(code_server_path=str(tmp_path / "nope")))
    assert not check.ok
    assert "nope" in check.found


def test_path_then_download_order(tmp_path: Path) -> None:
    """code-server on PATH is used; without it the (unpinned) download URL is named."""
    exe = tmp_path / "code-server"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    on_path = check_source(FakeEnvironment({"PATH": str(tmp_path)}), VscodeConfig())
    assert on_path.ok and "on PATH" in on_path.found
    download = check_source(
        FakeEnvironment({"PATH": "", "VSCODE_INTERACTIVE_CODE_SERVER_URL": "http://127.0.0.1/x"}),
        VscodeConfig(),
    )
    assert download.ok and "download http://127.0.0.1/x" in download.found
    assert "unpinned" in download.found


def test_port_check_uses_the_allocator() -> None:
    """A taken port fails with advice; port 0 always passes."""
    allocator = FakePortAllocator(taken=[8080])
    taken = check_port(allocator, "127.0.0.1", 8080)
    assert not taken.ok and "port=0" in taken.advice
    assert check_port(allocator, "127.0.0.1", 8081).ok
    assert check_port(allocator, "127.0.0.1", 0).ok


def test_unusable_home_is_reported_with_fallback(tmp_path: Path) -> None:
    """HOME under a regular file cannot hold data: doctor names the fallback."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = FakeEnvironment({"HOME": str(blocker / "home"), "TMPDIR": str(tmp_path)})
    check = check_home(env)
    assert "using" in check.found


def test_run_checks_order() -> None:
    """The report lists arch, code-server, cache, home, port in that order."""
    checks = run_checks(
        FakeEnvironment({"PATH": "", "HOME": "/nonexistent-home"}),
        FakePortAllocator(),
        cache_check=lambda env: Check("cache", True, "fake"),
    )
    assert [check.name for check in checks] == ["arch", "code-server", "cache", "home", "port"]


@pytest.mark.integration
def test_doctor_command_json_and_exit_code(tmp_path: Path) -> None:
    """As a process: JSON on stdout, exit 0 when all pass, 1 when the port is taken."""
    import socket

    env = {
        **os.environ,
        "VSCODE_INTERACTIVE_CACHE": str(tmp_path / "cache"),
        "VSCODE_INTERACTIVE_CODE_SERVER_URL": "http://127.0.0.1:9/none.tar.gz",
    }
    done = subprocess.run(
        [sys.executable, "-m", "vscode_interactive", "doctor", "--json", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert {item["name"] for item in json.loads(done.stdout)} >= {"arch", "cache", "port"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        busy = subprocess.run(
            [sys.executable, "-m", "vscode_interactive", "doctor", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    assert busy.returncode == 1
    assert f"127.0.0.1:{port} is in use" in busy.stdout
