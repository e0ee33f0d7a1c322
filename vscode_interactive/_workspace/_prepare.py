"""prepare_workspace: capture the inputs, render every generated file, write them.

:func:`prepare_workspace` captures the call's inputs and writes, atomically:

- ``<state>/inputs.pkl`` (mode 0600) and ``<state>/DEBUGGING.md``, the front page;
- ``<state>/vscode_interactive_entrypoint.py`` and ``..._resume_task.py``;
- ``.vscode/launch.json`` and ``.vscode/settings.json``, merged into the user's files
  (the user's originals are backed up beside them first; a file that does not parse is
  left untouched and ours is written beside it, with a warning).

Everything it decides is done by the pure renderers in the submodules; this module only
reads the existing files, calls them, and hands the results to the writer.
"""

from __future__ import annotations

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
    apply_merge,
    ensure_state_dir,
    read_text_or_none,
    write_atomic,
)

__all__ = ["SourceLocation", "WorkspaceFiles", "prepare_workspace"]

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
    kwargs = dict(kwargs or {})
    ensure_state_dir(layout.root)
    target = target_of(fn, main_module)
    captured = capture_inputs(fn, args, kwargs)
    write_atomic(layout.inputs, captured.chunks, mode=0o600)
    write_atomic(
        layout.entry_script,
        render_entry_script(
            target,
            inputs_file=layout.inputs,
            script_path=layout.entry_script,
            python=python,
            inputs=captured.summaries,
            n_positional=len(args),
            working_directory=working_directory,
        ),
    )
    write_atomic(
        layout.resume_script,
        render_resume_script(
            state_dir=layout.root,
            script_path=layout.resume_script,
            python=python,
            label=target.label,
            job_pid=job_pid,
        ),
    )
    launch, launch_backup, launch_warning = apply_merge(
        layout.launch_json,
        merge_launch(
            read_text_or_none(layout.launch_json),
            render_launch_configurations(
                entry_script=layout.entry_script,
                resume_script=layout.resume_script,
                workspace=layout.workspace,
                python=python,
                debug_type=debug_type,
            ),
        ),
        LAUNCH_SIDE_FILE,
    )
    settings, settings_backup, settings_warning = apply_merge(
        layout.settings_json,
        merge_settings(read_text_or_none(layout.settings_json), render_settings(python)),
        SETTINGS_SIDE_FILE,
    )
    definition = _definition(fn, target)
    raised_at = definition
    summary = trace = None
    if failure is not None:
        summary = "".join(traceback.format_exception_only(type(failure), failure)).strip()
        trace = "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
        frames = [
            (os.path.abspath(frame.filename), frame.lineno or 1)  # noqa: PTH100 - no symlink resolution
            for frame in traceback.extract_tb(failure.__traceback__)
        ]
        raised_at = pick_failure_location(
            frames, library_roots=_library_roots(), own_roots=_own_root(target), fallback=definition
        )
    page = FrontPage(
        function=target.name,
        page_dir=layout.front_page.parent,
        definition=definition,
        failure_summary=summary,
        traceback=trace,
        raised_at=raised_at if failure is not None else None,
        inputs=captured.summaries,
        entry_script=layout.entry_script,
        max_idle_seconds=max_idle_seconds,
        now=now,
    )
    write_atomic(layout.front_page, render_front_page(page))
    warnings = _warnings(target, captured)
    warnings += [w for w in (launch_warning, settings_warning) if w]
    for warning in warnings:
        logger.warning("%s", warning)
    open_first = [SourceLocation(layout.front_page, 1)]
    if raised_at is not None:
        open_first.append(raised_at)
    return WorkspaceFiles(
        layout=layout,
        inputs=layout.inputs,
        entry_script=layout.entry_script,
        resume_script=layout.resume_script,
        front_page=layout.front_page,
        launch_json=launch,
        settings_json=settings,
        source_location=raised_at,
        open_first=tuple(open_first),
        backups=tuple(b for b in (launch_backup, settings_backup) if b),
        uncaptured=tuple(item.name for item in captured.uncaptured),
        warnings=tuple(warnings),
        environment={SOURCE_PATH_VARIABLE: target.source} if target.source else {},
    )
