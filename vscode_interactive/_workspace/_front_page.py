"""The first screen in the IDE: ``DEBUGGING.md``, and the source line that raised.

:func:`render_front_page` is pure (strings in, Markdown out) and is written to read well
as raw Markdown, since the editor may show it unrendered. :func:`pick_failure_location`
is pure too: given the traceback's frames it picks the innermost one in the user's own
code, so the IDE can open that file at that line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ._capture import InputSummary

__all__ = [
    "FrontPage",
    "SourceLocation",
    "format_duration",
    "pick_failure_location",
    "render_front_page",
]

_MAX_INPUTS = 20
_INSTALLED = frozenset({"site-packages", "dist-packages"})


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A line in a file (1-based)."""

    path: Path
    line: int

    @property
    def goto(self) -> str:
        """``path:line``, the form ``code --goto`` and most terminals understand."""
        return f"{self.path}:{self.line}"


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def pick_failure_location(
    frames: Sequence[tuple[str, int]],
    *,
    library_roots: Sequence[str],
    own_roots: Sequence[str] = (),
    fallback: SourceLocation | None = None,
) -> SourceLocation | None:
    """The innermost frame in the user's code, as ``(filename, line)`` pairs outermost first.

    A frame is the user's when its file is a real path outside ``library_roots`` (the
    standard library, site-packages, this package). When no frame qualifies, the
    innermost frame under ``own_roots`` (the function's own package, even when it is
    installed) is taken, and then ``fallback`` (the function's definition).
    """
    real = [(name, line) for name, line in frames if name and not name.startswith("<")]
    for name, line in reversed(real):
        if not _under(name, library_roots) and not _INSTALLED.intersection(Path(name).parts):
            return SourceLocation(Path(name), line)
    for name, line in reversed(real):
        if _under(name, own_roots):
            return SourceLocation(Path(name), line)
    return fallback


def format_duration(seconds: float) -> str:
    """``45 s``, ``30 min``, ``2 h 30 min``."""
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" if not minutes else f"{hours} h {minutes} min"


def _code(text: str) -> str:
    """``text`` as inline code, whatever backticks it contains."""
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fenced(text: str, info: str = "text") -> str:
    run = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (run + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def _link(location: SourceLocation, page_dir: Path, label: str) -> str:
    target = Path(os.path.relpath(location.path, page_dir)).as_posix()
    target = target.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{label}]({target}#L{location.line})"


@dataclass(frozen=True, slots=True)
class FrontPage:
    """What the front page says; every field is already a plain string or number."""

    function: str
    page_dir: Path
    definition: SourceLocation | None = None
    failure_summary: str | None = None  # "ValueError: bad learning rate"
    traceback: str | None = None
    raised_at: SourceLocation | None = None
    inputs: Sequence[InputSummary] = ()
    entry_script: Path | None = None
    max_idle_seconds: float | None = None
    now: float | None = None  # wall-clock epoch seconds, to show when the IDE stops
    edits_note: str | None = None  # where the session's edits are saved
    post_mortem: bool = False  # the job holds the failure for a debugger to attach to


def _inputs_section(inputs: Sequence[InputSummary]) -> list[str]:
    lines = ["## Captured inputs", ""]
    if not inputs:
        return [*lines, "The function was called without arguments.", ""]
    for item in inputs[:_MAX_INPUTS]:
        head = f"- {_code(item.name)} ({_code(item.type_name)})"
        if item.captured:
            lines.append(f"{head}: {_code(item.preview)}")
        else:
            error = _code(item.error)
            lines.append(f"{head}: **not captured**: {error}; set it in the entry script.")
    if len(inputs) > _MAX_INPUTS:
        lines.append(f"- ... and {len(inputs) - _MAX_INPUTS} more")
    return [*lines, ""]


def _steps(page: FrontPage, name: str, script: str) -> list[str]:
    steps = []
    if page.post_mortem:
        steps.append(
            [
                "**Press F5: inspect the failure where it happened.** **Post-mortem: inspect the",
                "failure** attaches to the job itself: the call stack of the failure, the live",
                "locals of every frame, the Debug Console to evaluate there. Nothing is re-run.",
            ]
        )
    steps += [
        [
            "**Reproduce it**: set a breakpoint, then run **Interactive Debugging** from the Run",
            f"and Debug view. It calls {name} with the captured inputs ({script};",
            "change an input there before re-running).",
        ],
        ["**Fix the code** in place and save; the job runs the saved source."],
        [
            "**Resume the job**: run **Resume Task** (or `vscode-interactive resume` in a",
            f"terminal). The IDE stops and the job calls the edited {name} with its original",
            "inputs; if it raises again, the IDE opens again on the new failure",
            "(`vscode-interactive abort` ends the job with it instead).",
        ],
    ]
    lines = []
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. {step[0]}")
        lines += [f"   {line}" for line in step[1:]]
    return lines


def render_front_page(page: FrontPage) -> str:
    """The Markdown of ``DEBUGGING.md``."""
    name = _code(page.function)
    lines = [f"# Debugging {name}", ""]
    if page.failure_summary is not None:
        lines.append(f"The job stopped because {name} raised {_code(page.failure_summary)}.")
    else:
        lines.append(f"The job is waiting before it calls {name}.")
    lines += [
        "This IDE runs inside the job: its files, its Python and the call's captured inputs.",
        "",
    ]
    if page.raised_at is not None:
        label = f"{page.raised_at.path.name} line {page.raised_at.line}"
        lines.append(f"- Raised at: {_link(page.raised_at, page.page_dir, label)}")
    if page.definition is not None:
        label = f"{page.definition.path.name} line {page.definition.line}"
        lines.append(f"- Defined at: {_link(page.definition, page.page_dir, label)}")
    if page.max_idle_seconds is not None:
        idle = format_duration(page.max_idle_seconds)
        text = f"- Idle shutdown: the IDE stops after {idle} without activity"
        if page.now is not None:
            at = datetime.fromtimestamp(page.now + page.max_idle_seconds, tz=timezone.utc)
            text += f" (at {at:%Y-%m-%d %H:%M} UTC if nobody connects)"
        lines.append(
            text + ". Activity is typing, moving the cursor, switching editors, using a "
            "terminal or the debugger; an open tab is not. The status bar counts down, a "
            "warning comes before the stop, and its **Keep working** button resets the timer."
        )
    if page.edits_note is not None:
        lines.append(f"- Your edits: {page.edits_note}")
    script = page.entry_script.name if page.entry_script else "the entry script"
    if page.entry_script is not None:
        script = f"[{script}]({Path(os.path.relpath(page.entry_script, page.page_dir)).as_posix()})"
    lines += [
        "",
        "## Next steps",
        "",
        *_steps(page, name, script),
        "",
        *_inputs_section(page.inputs),
    ]
    if page.traceback:
        lines += ["## Traceback", "", _fenced(page.traceback, "pytb"), ""]
    return "\n".join(lines)
