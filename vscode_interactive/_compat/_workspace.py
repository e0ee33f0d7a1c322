"""The reference library's helper names, kept so code written against it keeps working.

Like the originals they work on the current directory (the workspace), but they write
through our renderers and atomic writer, and ``prepare_launch_json`` merges into an
existing ``launch.json`` instead of overwriting it. The scripts go to the state
directory ``./.vscode-interactive/`` (git-ignored), not next to the user's sources.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .._layout import INTERACTIVE_DEBUGGING_FILE_NAME, RESUME_TASK_FILE_NAME, StateLayout
from .._reload._target import load_module_from_path, target_of
from .._workspace._capture import capture_inputs
from .._workspace._scripts import SOURCE_PATH_VARIABLE, render_entry_script, render_resume_script
from .._workspace._vscode import merge_launch, render_launch_configurations
from .._workspace._writer import (
    LAUNCH_SIDE_FILE,
    FileWrite,
    apply_merge,
    ensure_state_dir,
    read_text_or_none,
    write_files,
)

__all__ = [
    "INTERACTIVE_DEBUGGING_FILE_NAME",
    "RESUME_TASK_FILE_NAME",
    "TASK_FUNCTION_SOURCE_PATH",
    "load_module_from_path",
    "prepare_interactive_python",
    "prepare_launch_json",
    "prepare_resume_task_python",
]

# Name of the environment variable holding the task function's source file. The entry
# script loads the function from that file when the variable is set.
TASK_FUNCTION_SOURCE_PATH = SOURCE_PATH_VARIABLE

logger = logging.getLogger("vscode_interactive.workspace")


def _layout(workspace: Path | str | None) -> StateLayout:
    return StateLayout.for_workspace(Path.cwd() if workspace is None else workspace)


def prepare_interactive_python(
    task_function: Callable[..., object],
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    *,
    workspace: Path | str | None = None,
    python: str | None = None,
) -> Path:
    """Capture ``args``/``kwargs`` and write the debug entry script; returns its path.

    The script, ``<workspace>/.vscode-interactive/vscode_interactive_entrypoint.py``,
    calls ``task_function`` with those inputs (none by default). ``workspace`` defaults
    to the current directory, ``python`` to this interpreter.
    """
    layout = _layout(workspace)
    ensure_state_dir(layout.root)
    captured = capture_inputs(task_function, args, dict(kwargs or {}))
    script = render_entry_script(
        target_of(task_function),
        inputs_file=layout.inputs,
        script_path=layout.entry_script,
        python=python or sys.executable,
        inputs=captured.summaries,
        n_positional=len(args),
    )
    write_files(
        [
            FileWrite(layout.inputs, captured.chunks, mode=0o600),
            FileWrite(layout.entry_script, script, mode=0o600),
        ]
    )
    return layout.entry_script


def prepare_resume_task_python(
    pid: int, *, workspace: Path | str | None = None, python: str | None = None
) -> Path:
    """Write the resume script for the job with process id ``pid``; returns its path.

    Unlike the reference, the script does not signal ``pid``: it asks for confirmation
    and sends a resume request through the session's channel in the state directory
    (``pid`` is shown to the user).
    """
    layout = _layout(workspace)
    ensure_state_dir(layout.root)
    script = render_resume_script(
        state_dir=layout.root,
        script_path=layout.resume_script,
        python=python or sys.executable,
        label="the task function",
        job_pid=pid,
    )
    write_files([FileWrite(layout.resume_script, script, mode=0o600)])
    return layout.resume_script


def prepare_launch_json(*, workspace: Path | str | None = None, python: str | None = None) -> Path:
    """Merge our two launch configurations into ``<workspace>/.vscode/launch.json``.

    The user's other configurations are kept (the original is backed up beside it); an
    unparseable file is left untouched and ours go to ``launch.vscode-interactive.json``.
    Returns the file that holds our configurations.
    """
    layout = _layout(workspace)
    configurations = render_launch_configurations(
        entry_script=layout.entry_script,
        resume_script=layout.resume_script,
        workspace=layout.workspace,
        python=python or sys.executable,
    )
    result = merge_launch(read_text_or_none(layout.launch_json), configurations)
    path, _backup, warning = apply_merge(layout.launch_json, result, LAUNCH_SIDE_FILE)
    if warning:
        logger.warning("%s", warning)
    return path
