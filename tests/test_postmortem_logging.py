"""debugpy's environment report: skipped when no debugpy log would keep it, written when one
does. Each case runs in its own process (debugpy's logging starts once per process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
from debugpy.common import log

from vscode_interactive._debug._postmortem import open_post_mortem

calls = []
describe = log.get_environment_description
log.get_environment_description = lambda header: calls.append(header) or describe(header)
try:
    1 / 0
except ZeroDivisionError as error:
    held = open_post_mortem(error)
    held.close()
print(f"reports {len(calls)}")
"""


def _reports(env_changes: dict[str, str]) -> tuple[int, str]:
    """How often the child's listener described the environment, and its stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGPY_LOG")}
    env.update(env_changes, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("reports "))
    return int(line.split()[1]), done.stderr


def test_no_debugpy_log_means_no_environment_report() -> None:
    """Without DEBUGPY_LOG_DIR (stderr at its default levels) nothing reads the metadata
    of every installed distribution."""
    assert _reports({})[0] == 0


def test_a_debugpy_log_dir_still_gets_the_environment_report(tmp_path: Path) -> None:
    """With DEBUGPY_LOG_DIR the report is written to debugpy's log as usual."""
    count, _ = _reports({"DEBUGPY_LOG_DIR": str(tmp_path)})
    assert count == 1
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("debugpy.server*.log"))
    assert "Installed packages:" in logs


def test_stderr_taking_info_still_gets_the_environment_report() -> None:
    """DEBUGPY_LOG_STDERR with ``info`` prints the report on stderr as usual."""
    count, stderr = _reports({"DEBUGPY_LOG_STDERR": "info warning error"})
    assert count == 1 and "Installed packages:" in stderr
