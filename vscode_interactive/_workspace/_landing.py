"""Where the IDE lands: decided before any file is written.

:func:`plan_landing` is pure and cheap (it captures no input): from the call and its
failure it says what code-server opens, what the IDE shows first (the front page, then the
line that raised, or the function's definition when nothing failed) and the environment
of the IDE's processes. A session starts code-server on it while the workspace is still
being written; :func:`~._prepare.plan_workspace` plans the same landing, so the two agree.

The line that raised is the innermost frame in the user's own code
(:func:`~._front_page.pick_failure_location`), or the broken line of an edited source
that did not import (:class:`~vscode_interactive._errors.ReloadError`).
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .._errors import ReloadError
from .._layout import StateLayout
from .._reload._target import MAIN_ALIAS, CallTarget, target_of
from ._front_page import SourceLocation, pick_failure_location
from ._scripts import SOURCE_PATH_VARIABLE

__all__ = [
    "FailureView",
    "WorkspaceLanding",
    "definition_of",
    "landing_of",
    "plan_landing",
    "view_failure",
]

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


@dataclass(frozen=True, slots=True)
class WorkspaceLanding:
    """Where the IDE lands, known before any file is written: what code-server opens,
    what the IDE shows first, and the environment of the IDE's processes."""

    workspace_file: Path
    source_location: SourceLocation | None
    open_first: tuple[SourceLocation, ...]
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class FailureView:
    """The failure as the front page shows it, and the line the IDE should open
    (all ``None`` when nothing failed)."""

    summary: str | None
    traceback: str | None
    raised_at: SourceLocation | None


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


def definition_of(function: Callable[..., object], target: CallTarget) -> SourceLocation | None:
    """The ``def`` line of ``function`` (``None`` without a source file)."""
    code = getattr(function, "__code__", None)
    line = getattr(code, "co_firstlineno", None)
    if target.source and isinstance(line, int):
        return SourceLocation(Path(target.source), line)
    return None


def view_failure(
    failure: BaseException | None, target: CallTarget, definition: SourceLocation | None
) -> FailureView:
    """``failure``'s one-line summary, its traceback, and the line to land on."""
    if failure is None:
        return FailureView(None, None, None)
    summary = "".join(traceback.format_exception_only(type(failure), failure)).strip()
    trace = "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
    frames = [
        (os.path.abspath(frame.filename), frame.lineno or 1)  # noqa: PTH100 - no symlink resolution
        for frame in traceback.extract_tb(failure.__traceback__)
    ]
    raised_at = pick_failure_location(
        frames, library_roots=_library_roots(), own_roots=_own_root(target), fallback=definition
    )
    if isinstance(failure, ReloadError) and failure.source_path and failure.line:
        # The edited source did not import: land on its broken line, not the def line.
        raised_at = SourceLocation(Path(failure.source_path), failure.line)
    return FailureView(summary, trace, raised_at)


def landing_of(
    target: CallTarget,
    layout: StateLayout,
    definition: SourceLocation | None,
    shown: FailureView,
) -> WorkspaceLanding:
    """The landing for ``target`` showing ``shown`` (see :func:`plan_landing`)."""
    raised_at = shown.raised_at or definition  # nothing failed: the definition
    return WorkspaceLanding(
        workspace_file=layout.workspace_file,
        source_location=raised_at,
        open_first=(SourceLocation(layout.front_page, 1), *([raised_at] if raised_at else [])),
        environment={SOURCE_PATH_VARIABLE: target.source} if target.source else {},
    )


def plan_landing(
    fn: Callable[..., object],
    *,
    layout: StateLayout,
    failure: BaseException | None = None,
    main_module: ModuleType | None = None,
) -> WorkspaceLanding:
    """Where the IDE will land for ``fn`` and ``failure``: the same as
    :func:`~._prepare.plan_workspace` plans for that call, without capturing anything."""
    target = target_of(fn, main_module)
    definition = definition_of(fn, target)
    return landing_of(target, layout, definition, view_failure(failure, target, definition))
