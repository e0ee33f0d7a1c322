"""prepare_workspace: capture the inputs, plan every generated file, write the plan.

:func:`plan_workspace` is pure: from the call and the user's current ``.vscode`` files it
returns a :class:`WorkspacePlan`, every file to write with its content and mode.
:func:`prepare_workspace` reads those files, plans, and hands the plan to the one write
loop (:func:`._writer.write_files`). Written, atomically:

- ``<state>/inputs.pkl`` (mode 0600) and ``<state>/DEBUGGING.md``, the front page;
- ``<state>/vscode_interactive_entrypoint.py`` and ``..._resume_task.py``;
- ``.vscode/launch.json`` and ``.vscode/settings.json``, merged into the user's files
  (the user's originals are backed up beside them first; a file that does not parse is
  left untouched and ours is written beside it, with a warning).

Everything the plan holds is rendered by the pure functions in the submodules.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sysconfig
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .._layout import StateLayout
from .._reload._target import MAIN_ALIAS, CallTarget, target_of
from ._capture import CapturedInputs, capture_inputs
from ._front_page import FrontPage, SourceLocation, pick_failure_location, render_front_page
from ._scripts import SOURCE_PATH_VARIABLE, render_entry_script, render_resume_script
from ._vscode import merge_launch, merge_settings, render_launch_configurations, render_settings
from ._writer import (
    LAUNCH_SIDE_FILE,
    SETTINGS_SIDE_FILE,
    FileWrite,
    ensure_state_dir,
    plan_merge,
    read_text_or_none,
    write_files,
)

__all__ = [
    "SourceLocation",
    "WorkspaceFiles",
    "WorkspacePlan",
    "plan_workspace",
    "prepare_workspace",
]

logger = logging.getLogger("vscode_interactive.workspace")

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


@dataclass(frozen=True, slots=True)
class WorkspaceFiles:
    """What :func:`prepare_workspace` wrote, and what the IDE should show first.

    ``launch_json``/``settings_json`` are the files holding our entries: the real
    ``.vscode`` files, or the side files when the user's could not be parsed.
    ``open_first`` is the front page, then the line that raised (or the function's
    definition). ``environment`` is for the IDE's processes (terminals, debug runs).
    """

    layout: StateLayout
    inputs: Path
    entry_script: Path
    resume_script: Path
    front_page: Path
    launch_json: Path
    settings_json: Path
    source_location: SourceLocation | None
    open_first: tuple[SourceLocation, ...]
    backups: tuple[Path, ...] = ()
    uncaptured: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)


def _library_roots() -> list[str]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    return sorted({*roots, _PACKAGE_DIR})


def _own_root(target: CallTarget) -> list[str]:
    if not target.source:
        return []
    if target.module == MAIN_ALIAS or not target.import_root:
        return [str(Path(target.source).parent)]
    return [str(Path(target.import_root, target.module.split(".")[0]))]


def _definition(function: Callable[..., object], target: CallTarget) -> SourceLocation | None:
    code = getattr(function, "__code__", None)
    line = getattr(code, "co_firstlineno", None)
    if target.source and isinstance(line, int):
        return SourceLocation(Path(target.source), line)
    return None


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
    """Every file a session's workspace needs, in write order, and what the caller gets.

    ``files.backups`` is empty here: which ``.bak`` name is free is known only when the
    plan is written.
    """

    writes: tuple[FileWrite, ...]
    files: WorkspaceFiles


@dataclass(frozen=True, slots=True)
class _Failure:
    """The failure as the front page shows it, and the line the IDE should open."""

    summary: str | None
    traceback: str | None
    raised_at: SourceLocation | None


def _failure_view(
    failure: BaseException | None, target: CallTarget, definition: SourceLocation | None
) -> _Failure:
    if failure is None:
        return _Failure(None, None, None)
    summary = "".join(traceback.format_exception_only(type(failure), failure)).strip()
    trace = "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
    frames = [
        (os.path.abspath(frame.filename), frame.lineno or 1)  # noqa: PTH100 - no symlink resolution
        for frame in traceback.extract_tb(failure.__traceback__)
    ]
    raised_at = pick_failure_location(
        frames, library_roots=_library_roots(), own_roots=_own_root(target), fallback=definition
    )
    return _Failure(summary, trace, raised_at)


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
        FileWrite(layout.entry_script, entry),
        FileWrite(layout.resume_script, resume),
    ]


def _vscode_writes(
    layout: StateLayout,
    *,
    python: str,
    debug_type: str,
    existing_launch: str | None,
    existing_settings: str | None,
) -> tuple[list[FileWrite], Path, Path, list[str]]:
    """launch.json and settings.json merges: (writes, launch holder, settings holder,
    warnings)."""
    configurations = render_launch_configurations(
        entry_script=layout.entry_script,
        resume_script=layout.resume_script,
        workspace=layout.workspace,
        python=python,
        debug_type=debug_type,
    )
    launch_write, launch, launch_warning = plan_merge(
        layout.launch_json, merge_launch(existing_launch, configurations), LAUNCH_SIDE_FILE
    )
    settings_write, settings, settings_warning = plan_merge(
        layout.settings_json,
        merge_settings(existing_settings, render_settings(python)),
        SETTINGS_SIDE_FILE,
    )
    writes = [w for w in (launch_write, settings_write) if w is not None]
    warnings = [w for w in (launch_warning, settings_warning) if w]
    return writes, launch, settings, warnings


def _front_page(
    target: CallTarget,
    captured: CapturedInputs,
    layout: StateLayout,
    definition: SourceLocation | None,
    shown: _Failure,
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
    existing_launch: str | None = None,
    existing_settings: str | None = None,
    failure: BaseException | None = None,
    max_idle_seconds: float | None = None,
    now: float | None = None,
    job_pid: int | None = None,
    working_directory: Path | None = None,
    debug_type: str = "debugpy",
    main_module: ModuleType | None = None,
) -> WorkspacePlan:
    """Every file :func:`prepare_workspace` writes, without touching the disk.

    ``existing_launch``/``existing_settings`` are the user's current ``.vscode`` files
    (``None``: there is none); the other arguments are :func:`prepare_workspace`'s.
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
    vscode_writes, launch, settings, merge_warnings = _vscode_writes(
        layout,
        python=python,
        debug_type=debug_type,
        existing_launch=existing_launch,
        existing_settings=existing_settings,
    )
    definition = _definition(fn, target)
    shown = _failure_view(failure, target, definition)
    raised_at = shown.raised_at if failure is not None else definition
    page = _front_page(target, captured, layout, definition, shown, max_idle_seconds, now)
    writes += [*vscode_writes, FileWrite(layout.front_page, render_front_page(page))]
    open_first = (SourceLocation(layout.front_page, 1), *([raised_at] if raised_at else []))
    files = WorkspaceFiles(
        layout=layout,
        inputs=layout.inputs,
        entry_script=layout.entry_script,
        resume_script=layout.resume_script,
        front_page=layout.front_page,
        launch_json=launch,
        settings_json=settings,
        source_location=raised_at,
        open_first=open_first,
        uncaptured=tuple(item.name for item in captured.uncaptured),
        warnings=tuple(_warnings(target, captured) + merge_warnings),
        environment={SOURCE_PATH_VARIABLE: target.source} if target.source else {},
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
) -> WorkspaceFiles:
    """Capture ``fn(*args, **kwargs)`` and write the session's workspace files.

    ``python`` is the interpreter the IDE should use (normally ``sys.executable``).
    ``failure`` is the exception ``run_task_first`` caught, shown on the front page with
    its traceback. ``now`` (wall-clock epoch seconds) dates the idle deadline. ``job_pid``
    is shown by the resume script. ``working_directory`` (the job's current directory) is
    entered by the entry script before the call. ``main_module`` defaults to this
    process's ``__main__``. Raises ``OSError`` when the workspace is not writable.
    """
    ensure_state_dir(layout.root)
    plan = plan_workspace(
        fn,
        args,
        kwargs,
        layout=layout,
        python=python,
        existing_launch=read_text_or_none(layout.launch_json),
        existing_settings=read_text_or_none(layout.settings_json),
        failure=failure,
        max_idle_seconds=max_idle_seconds,
        now=now,
        job_pid=job_pid,
        working_directory=working_directory,
        debug_type=debug_type,
        main_module=main_module,
    )
    backups = write_files(plan.writes)
    for warning in plan.files.warnings:
        logger.warning("%s", warning)
    return dataclasses.replace(plan.files, backups=backups)
