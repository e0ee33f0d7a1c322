"""The command line behaves like a Unix tool: --help, --version, exit codes, stderr."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vscode_interactive import __version__
from vscode_interactive.cli import EXIT_USAGE, main


def test_help_exits_zero_and_lists_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """--help prints usage on stdout and exits 0."""
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "usage: vscode-interactive" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command, help goes to stderr and the exit code is 2."""
    assert main([]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage:" in captured.err


def test_unknown_command_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command is rejected by argparse with exit code 2 and a message on stderr."""
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.integration
def test_module_entry_point_runs() -> None:
    """``python -m vscode_interactive --version`` works as a real process."""
    done = subprocess.run(
        [sys.executable, "-m", "vscode_interactive", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert __version__ in done.stdout
