"""Distributed support costs nothing to a job that does not load torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

PROBE = """
import sys

import vscode_interactive
from vscode_interactive import Session, SessionConfig, vscode
from vscode_interactive._distributed._job import real_seams, report_finished
from vscode_interactive._distributed._ranks import detect_rank
from vscode_interactive._system._os import OsEnvironment

@vscode(run_task_first=True)
def ok():
    return 42

assert ok() == 42  # a successful call in a "distributed" job reports nothing, loads nothing
info = detect_rank(OsEnvironment().snapshot())
assert info is not None and info.launcher == "torchrun", info
seams = real_seams()
assert seams.open_store(info, None) is None  # torch not loaded: no store, no import
report_finished(info, None, seams)
print("torch" in sys.modules)
"""


def test_a_torchrun_rank_that_never_loads_torch_never_imports_it() -> None:
    """Under torchrun's variables, the library and a successful session never import torch."""
    env = {
        **os.environ,
        "RANK": "1",
        "WORLD_SIZE": "2",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": "9",
        "TORCHELASTIC_RUN_ID": "x",
        "TORCHELASTIC_USE_AGENT_STORE": "True",
        "VSCODE_INTERACTIVE_ENABLE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
