"""prepare_workspace: capture the inputs, plan every generated file, write the plan.

:func:`plan_workspace` is pure: from the call and the user's ``.vscode/settings.json`` it
returns a :class:`WorkspacePlan`, every file to write with its content and mode.
:func:`prepare_workspace` reads that file, plans, and hands the plan to the one write
loop (:func:`._writer.write_files`). Written atomically, all in the state directory (the
user's tree, ``.vscode/`` included, is never written):

- ``inputs.pkl`` (mode 0600), ``DEBUGGING.md`` (the front page) and, when something
  failed, ``traceback.txt``;
- ``vscode_interactive_entrypoint.py`` and ``vscode_interactive_resume_task.py``;
- ``<folder name>.code-workspace``: the folder, our launch configurations and settings
  (see :mod:`._workspace_file`), the file code-server opens.

The state directory is 0700 and must be ours; every file in it is written fresh each
session with mode 0600, whatever was there and whatever the umask.

Everything the plan holds is rendered by the pure functions in the submodules.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .._layout import StateLayout
from .._reload._target import MAIN_ALIAS, CallTarget, target_of
from ._capture import CapturedInputs, capture_inputs
from ._front_page import FrontPage, SourceLocation, render_front_page
from ._landing import FailureView, definition_of, landing_of, view_failure
from ._scripts import render_entry_script, render_resume_script
from ._vscode import render_launch_configurations, render_settings
from ._workspace_file import render_workspace_file, workspace_settings
from ._writer import FileWrite, ensure_state_dir, read_text_or_none, write_files

__all__ = [
    "SourceLocation",
    "WorkspaceFiles",
    "WorkspacePlan",
    "plan_workspace",
    "prepare_workspace",
]

logger = logging.getLogger("vscode_interactive.workspace")


@dataclass(frozen=True, slots=True)
class WorkspaceFiles:
    """What :func:`prepare_workspace` wrote, and what the IDE should show first.

    ``workspace_file`` holds our launch configurations and settings (code-server opens
    it); ``traceback`` is ``None`` when nothing failed. ``open_first`` is the front page,
    then the line that raised (or the function's definition). ``environment`` is for the
    IDE's processes (terminals, debug runs).
    """

    layout: StateLayout
    inputs: Path
    entry_script: Path
    resume_script: Path
    front_page: Path
    workspace_file: Path
    source_location: SourceLocation | None
    open_first: tuple[SourceLocation, ...]
    traceback: Path | None = None
    uncaptured: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)


def _warnings(target: CallTarget, captured: CapturedInputs) -> list[str]:
    found = [
        f"argument {item.name!r} ({item.type_name}) could not be captured: {item.error}; "
        "the entry script asks for a value before it calls the function"
        for item in captured.uncaptured
    ]
    if not target.loadable:
        found.append(
            f"{target.label} is not reachable by import (nested function or lambda): "
            "the entry script cannot call it; move it to module level"
        )
    elif not target.source and target.module == MAIN_ALIAS:
        found.append(
            f"{target.label} was defined without a source file (interactive session): "
            "the entry script cannot load it"
        )
    return found


@dataclass(frozen=True, slots=True)
class WorkspacePlan:
    """Every file a session's workspace needs, in write order, and what the caller gets."""

    writes: tuple[FileWrite, ...]
    files: WorkspaceFiles


def _script_writes(
    target: CallTarget,
    captured: CapturedInputs,
    *,
    layout: StateLayout,
    python: str,
    n_positional: int,
    job_pid: int | None,
    working_directory: Path | None,
) -> list[FileWrite]:
    """The captured inputs (0600), the entry script and the resume script."""
    entry = render_entry_script(
        target,
        inputs_file=layout.inputs,
        script_path=layout.entry_script,
        python=python,
        inputs=captured.summaries,
        n_positional=n_positional,
        working_directory=working_directory,
    )
    resume = render_resume_script(
        state_dir=layout.root,
        script_path=layout.resume_script,
        python=python,
        label=target.label,
        job_pid=job_pid,
    )
    return [
        FileWrite(layout.inputs, captured.chunks, mode=0o600),
        FileWrite(layout.entry_script, entry, mode=0o600),
        FileWrite(layout.resume_script, resume, mode=0o600),
    ]


def _workspace_file_write(
    layout: StateLayout,
    *,
    python: str,
    debug_type: str,
    user_settings: str | None,
    post_mortem: tuple[str, int] | None = None,
) -> FileWrite:
    """The ``.code-workspace`` file: our launch configurations (the post-mortem first when
    the job holds a failure) and settings, the user's settings repeated (see
    :mod:`._workspace_file`)."""
    configurations = render_launch_configurations(
        entry_script=layout.entry_script,
        resume_script=layout.resume_script,
        workspace=layout.workspace,
        python=python,
        debug_type=debug_type,
        post_mortem=post_mortem,
    )
    text = render_workspace_file(
        folder=layout.workspace,
        configurations=configurations,
        settings=workspace_settings(user_settings, render_settings(python)),
    )
    return FileWrite(layout.workspace_file, text, mode=0o600)


def _front_page(
    target: CallTarget,
    captured: CapturedInputs,
    layout: StateLayout,
    definition: SourceLocation | None,
    shown: FailureView,
    max_idle_seconds: float | None,
    now: float | None,
) -> FrontPage:
    return FrontPage(
        function=target.name,
        page_dir=layout.front_page.parent,
        definition=definition,
        failure_summary=shown.summary,
        traceback=shown.traceback,
        raised_at=shown.raised_at,
        inputs=captured.summaries,
        entry_script=layout.entry_script,
        max_idle_seconds=max_idle_seconds,
        now=now,
    )


def plan_workspace(
    fn: Callable[..., object],
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    *,
    layout: StateLayout,
    python: str,
    user_settings: str | None = None,
    failure: BaseException | None = None,
    max_idle_seconds: float | None = None,
    now: float | None = None,
    job_pid: int | None = None,
    working_directory: Path | None = None,
    debug_type: str = "debugpy",
    main_module: ModuleType | None = None,
    edits_note: str | None = None,
    post_mortem: tuple[str, int] | None = None,
) -> WorkspacePlan:
    """Every file :func:`prepare_workspace` writes, without touching the disk.

    ``user_settings`` is the text of the user's ``.vscode/settings.json`` (``None``: there
    is none); the other arguments are :func:`prepare_workspace`'s.
    """
    target = target_of(fn, main_module)
    captured = capture_inputs(fn, args, dict(kwargs or {}))
    writes = _script_writes(
        target,
        captured,
        layout=layout,
        python=python,
        n_positional=len(args),
        job_pid=job_pid,
        working_directory=working_directory,
    )
    writes.append(
        _workspace_file_write(
            layout,
            python=python,
            debug_type=debug_type,
            user_settings=user_settings,
            post_mortem=post_mortem,
        )
    )
    definition = definition_of(fn, target)
    shown = view_failure(failure, target, definition)
    landing = landing_of(target, layout, definition, shown)
    page = _front_page(target, captured, layout, definition, shown, max_idle_seconds, now)
    page = dataclasses.replace(page, edits_note=edits_note, post_mortem=post_mortem is not None)
    writes.append(FileWrite(layout.front_page, render_front_page(page), mode=0o600))
    if shown.traceback is not None:
        writes.append(FileWrite(layout.traceback, shown.traceback, mode=0o600))
    files = WorkspaceFiles(
        layout=layout,
        inputs=layout.inputs,
        entry_script=layout.entry_script,
        resume_script=layout.resume_script,
        front_page=layout.front_page,
        workspace_file=landing.workspace_file,
        source_location=landing.source_location,
        open_first=landing.open_first,
        traceback=layout.traceback if shown.traceback is not None else None,
        uncaptured=tuple(item.name for item in captured.uncaptured),
        warnings=tuple(_warnings(target, captured)),
        environment=landing.environment,
    )
    return WorkspacePlan(tuple(writes), files)


def prepare_workspace(
    fn: Callable[..., object],
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
    *,
    layout: StateLayout,
    python: str,
    failure: BaseException | None = None,
    max_idle_seconds: float | None = None,
    now: float | None = None,
    job_pid: int | None = None,
    working_directory: Path | None = None,
    debug_type: str = "debugpy",
    main_module: ModuleType | None = None,
    edits_note: str | None = None,
    post_mortem: tuple[str, int] | None = None,
) -> WorkspaceFiles:
    """Capture ``fn(*args, **kwargs)`` and write the session's workspace files.

    ``python`` is the interpreter the IDE should use (normally ``sys.executable``).
    ``failure`` is the exception ``run_task_first`` caught, shown on the front page with
    its traceback. ``now`` (wall-clock epoch seconds) dates the idle deadline. ``job_pid``
    is shown by the resume script. ``working_directory`` (the job's current directory) is
    entered by the entry script before the call. ``main_module`` defaults to this
    process's ``__main__``. ``edits_note`` tells, on the front page, where the session's
    edits are saved. ``post_mortem`` is the ``(host, port)`` of the job's debugger holding
    ``failure``: the first launch configuration attaches to it. Raises ``OSError`` when
    the workspace is not writable.
    """
    ensure_state_dir(layout.root)
    plan = plan_workspace(
        fn,
        args,
        kwargs,
        layout=layout,
        python=python,
        user_settings=read_text_or_none(layout.settings_json),
        failure=failure,
        max_idle_seconds=max_idle_seconds,
        now=now,
        job_pid=job_pid,
        working_directory=working_directory,
        debug_type=debug_type,
        main_module=main_module,
        edits_note=edits_note,
        post_mortem=post_mortem,
    )
    write_files(plan.writes)
    for warning in plan.files.warnings:
        logger.warning("%s", warning)
    return plan.files
