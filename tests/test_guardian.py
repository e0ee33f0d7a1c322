"""The guardian program, run for real: exit codes, group clearing, parent death."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.waiting import kill_leftovers, process_alive, wait_until, wait_until_gone
from vscode_interactive._supervision import _guardian

pytestmark = pytest.mark.integration

GUARDIAN = str(Path(_guardian.__file__))


def start(
    command: list[str], *, parent: int | None = None, grace: float = 0.5
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-I",
            "-S",
            GUARDIAN,
            "--grace",
            str(grace),
            "--parent",
            str(parent or os.getpid()),
            "--",
            *command,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def read_pids(path: Path, count: int) -> list[int]:
    def pids() -> list[int]:
        text = path.read_text() if path.exists() else ""
        found: list[int] = json.loads(text) if text.strip() else []
        return found if len(found) >= count else []

    return wait_until(pids, timeout=10, what=f"{count} pid(s) in {path}")


# A child that ignores SIGTERM and starts a grandchild (same group) that ignores it too.
STUBBORN_FAMILY = """
import json, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grand = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
open(sys.argv[1], "w").write(json.dumps([__import__("os").getpid(), grand.pid]))
time.sleep(60)
"""


def test_exit_code_passes_through() -> None:
    """The guardian exits with the code code-server exited with (0 stays 0, 3 stays 3)."""
    for code in (0, 3):
        guardian = start(python(f"import sys; sys.exit({code})"))
        assert guardian.wait(10) == code
        assert guardian.stdout is not None
        guardian.stdout.close()


def test_death_by_signal_passes_through() -> None:
    """A child killed by a signal makes the guardian end by the same signal."""
    guardian = start(python("import os, signal; os.kill(os.getpid(), signal.SIGUSR1)"))
    assert guardian.wait(10) == -signal.SIGUSR1
    assert guardian.stdout is not None
    guardian.stdout.close()


def test_sigterm_to_the_guardian_alone_clears_the_whole_group(tmp_path: Path) -> None:
    """Like the parent-death signal: only the guardian is told, yet no group member survives."""
    pids_file = tmp_path / "pids"
    guardian = start([*python(STUBBORN_FAMILY), str(pids_file)])
    pids = read_pids(pids_file, 2)
    try:
        os.kill(guardian.pid, signal.SIGTERM)
        guardian.wait(10)
        wait_until_gone([guardian.pid, *pids], timeout=10)
    finally:
        kill_leftovers(pids)
        assert guardian.stdout is not None
        guardian.stdout.close()


def test_parent_gone_stops_the_child() -> None:
    """When its parent is not the one it was told about, the guardian stops everything."""
    guardian = start(python("import time; time.sleep(60)"), parent=1)
    assert guardian.wait(10) == -signal.SIGTERM
    assert guardian.stdout is not None
    assert "the supervising process is gone" in guardian.stdout.read()
    guardian.stdout.close()


@pytest.mark.skipif(sys.platform != "linux", reason="subreaper and /proc are Linux features")
def test_escaped_descendant_is_cleared_when_code_server_exits(tmp_path: Path) -> None:
    """A grandchild in its own session (like a terminal) is killed once code-server exits."""
    pids_file = tmp_path / "pids"
    escape = (
        "import json, subprocess, sys\n"
        "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " start_new_session=True)\n"
        f"open({str(pids_file)!r}, 'w').write(json.dumps([g.pid]))\n"
    )
    guardian = start(python(escape))
    try:
        assert guardian.wait(10) == 0
        (grandchild,) = read_pids(pids_file, 1)
        assert not process_alive(grandchild)
    finally:
        kill_leftovers(read_pids(pids_file, 1))
        assert guardian.stdout is not None
        guardian.stdout.close()


def test_missing_command_exits_127_with_a_message() -> None:
    """A code-server path that does not exist: exit 127 and a line saying so."""
    guardian = start(["/nonexistent/code-server"])
    assert guardian.wait(10) == 127
    assert guardian.stdout is not None
    assert "cannot start /nonexistent/code-server" in guardian.stdout.read()
    guardian.stdout.close()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--grace", "2.5", "--parent", "42", "--", "cs", "--x"], (2.5, 42, ["cs", "--x"])),
        (["--parent", "7", "--", "cs"], (5.0, 7, ["cs"])),
    ],
)
def test_arguments_are_read_by_hand(argv: list[str], expected: tuple[object, ...]) -> None:
    """The command line the supervisor builds (and grace's default) is understood."""
    assert _guardian.parse_args(argv) == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--grace", "1", "--", "cs"], "--parent PID is required"),
        (["--parent", "1", "--"], "no command to run after --"),
        (["--parent", "x", "--", "cs"], "--parent takes a number, got 'x'"),
        (["--verbose", "--parent", "1", "--", "cs"], "unexpected argument '--verbose'"),
        (["--parent"], "--parent needs a value"),
    ],
)
def test_bad_arguments_say_what_is_wrong(argv: list[str], message: str) -> None:
    """Each mistake is named, so a broken launch line is found at once."""
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        _guardian.parse_args(argv)


def test_bad_usage_exits_2_with_the_usage_on_stderr() -> None:
    """Like other Unix tools: exit code 2, the problem and the usage on stderr."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", GUARDIAN, "--parent", "1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "no command to run after --" in done.stderr and "usage:" in done.stderr
