"""The front page DEBUGGING.md and the source line the IDE opens first."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from vscode_interactive._workspace._capture import InputSummary
from vscode_interactive._workspace._front_page import (
    FrontPage,
    SourceLocation,
    format_duration,
    pick_failure_location,
    render_front_page,
)

TRACEBACK = """Traceback (most recent call last):
  File "/proj/train.py", line 20, in train
    step(lr)
ValueError: lr too big
"""
STATE = Path("/proj/.vscode-interactive")


BASE = FrontPage(
    function="pkg.train",
    page_dir=STATE,
    definition=SourceLocation(Path("/proj/pkg/train.py"), 12),
    failure_summary="ValueError: lr too big",
    traceback=TRACEBACK,
    raised_at=SourceLocation(Path("/proj/pkg/train.py"), 20),
    inputs=(
        InputSummary("x", "int", "3"),
        InputSummary("cb", "function", "<function <lambda>>", "PicklingError: nope"),
    ),
    entry_script=STATE / "entry.py",
    max_idle_seconds=3 * 3600,
    now=1_700_000_000.0,
)


def test_failure_page_names_function_exception_and_full_traceback() -> None:
    """The page says which function raised what, and carries the whole traceback."""
    text = render_front_page(BASE)
    assert text.startswith("# Debugging `pkg.train`\n")
    assert "`pkg.train` raised `ValueError: lr too big`" in text
    assert "```pytb\n" + TRACEBACK.rstrip() + "\n```" in text


def test_page_links_to_the_raising_line_and_the_definition() -> None:
    """Relative links with a line anchor open the source at the right place."""
    text = render_front_page(BASE)
    assert "- Raised at: [train.py line 20](../pkg/train.py#L20)" in text
    assert "- Defined at: [train.py line 12](../pkg/train.py#L12)" in text


def test_page_lists_the_three_next_steps() -> None:
    """Breakpoint + Interactive Debugging, edit the code, Resume Task or the CLI."""
    text = render_front_page(BASE)
    assert "1. **Reproduce it**" in text and "**Interactive Debugging**" in text
    assert "2. **Fix the code**" in text
    assert "3. **Resume the job**" in text and "**Resume Task**" in text
    assert "`vscode-interactive resume`" in text
    assert "[entry.py](entry.py)" in text


def test_inputs_are_summarised_with_types_and_capture_failures() -> None:
    """Each input shows its type and a short preview, or why it was not captured."""
    text = render_front_page(BASE)
    assert "- `x` (`int`): `3`" in text
    assert "- `cb` (`function`): **not captured**: `PicklingError: nope`" in text


def test_many_inputs_are_cut_off() -> None:
    """A call with hundreds of arguments lists a few and counts the rest."""
    inputs = tuple(InputSummary(f"a{i}", "int", str(i)) for i in range(300))
    text = render_front_page(dataclasses.replace(BASE, inputs=inputs))
    assert "`a19`" in text and "`a20`" not in text
    assert "... and 280 more" in text


def test_idle_deadline_says_when_and_how_to_extend() -> None:
    """The idle limit, the time it ends if nobody connects (now + limit), the real rule
    (an open tab is not activity) and how to extend."""
    text = render_front_page(BASE)
    assert "stops after 3 h without activity" in text
    assert "(at 2023-11-15 01:13 UTC if nobody connects)" in text
    assert "any activity in the IDE resets" not in text
    assert "Activity is typing, moving the cursor, switching editors, using a terminal" in text
    assert "an open tab is not" in text
    assert "**Keep working**" in text
    assert "Idle shutdown" not in render_front_page(
        dataclasses.replace(BASE, max_idle_seconds=None)
    )


def test_page_without_failure_says_the_job_is_waiting() -> None:
    """When debugging was asked for up front there is no exception section."""
    waiting = dataclasses.replace(
        BASE, failure_summary=None, traceback=None, raised_at=None, max_idle_seconds=None
    )
    text = render_front_page(waiting)
    assert "The job is waiting before it calls `pkg.train`." in text
    assert "Traceback" not in text and "Raised at" not in text


def test_backticks_in_values_cannot_break_the_markdown() -> None:
    """Backticks in a preview or the traceback get a longer fence."""
    ticks = dataclasses.replace(
        BASE, inputs=(InputSummary("s", "str", "'a`b'"),), traceback="```\nTraceback\n```"
    )
    text = render_front_page(ticks)
    assert "- `s` (`str`): ``'a`b'``" in text
    assert "````pytb\n```\nTraceback\n```\n````" in text


LIB = ["/usr/lib/python3.11", "/venv/lib/python3.11/site-packages"]


def test_innermost_user_frame_is_picked_over_library_frames() -> None:
    """Frames in the standard library, site-packages or pseudo-files are skipped."""
    frames = [
        ("/venv/lib/python3.11/site-packages/vscode_interactive/_session.py", 50),
        ("/proj/train.py", 20),
        ("/proj/model.py", 7),
        ("/usr/lib/python3.11/json/decoder.py", 355),
        ("<frozen importlib._bootstrap>", 1),
    ]
    assert pick_failure_location(frames, library_roots=LIB) == SourceLocation(
        Path("/proj/model.py"), 7
    )


def test_installed_function_falls_back_to_its_own_package() -> None:
    """A function from an installed package points at its package's innermost frame."""
    site = "/venv/lib/python3.11/site-packages"
    frames = [(f"{site}/pkg/ops.py", 10), (f"{site}/numpy/core.py", 99)]
    found = pick_failure_location(frames, library_roots=LIB, own_roots=[f"{site}/pkg"])
    assert found == SourceLocation(Path(f"{site}/pkg/ops.py"), 10)


def test_no_user_frame_falls_back_to_the_definition() -> None:
    """Without any frame of the user's, the function's definition is used."""
    fallback = SourceLocation(Path("/proj/train.py"), 3)
    frames = [("/usr/lib/python3.11/json/decoder.py", 355)]
    assert pick_failure_location(frames, library_roots=LIB, fallback=fallback) == fallback
    assert fallback.goto == "/proj/train.py:3"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45 s"), (600, "10 min"), (3600, "60 min"), (36000, "10 h"), (9000, "2 h 30 min")],
)
def test_durations_read_naturally(seconds: float, text: str) -> None:
    """Idle limits are shown in the largest sensible unit."""
    assert format_duration(seconds) == text


def test_front_page_says_where_edits_are_saved() -> None:
    """The edits note is one bullet under the failure; without one, no such bullet."""
    note = "a patch of them is saved to s3://bucket/sessions/ when the session ends"
    page = render_front_page(dataclasses.replace(BASE, edits_note=note))
    assert f"- Your edits: {note}" in page.splitlines()
    assert "Your edits" not in render_front_page(BASE)


def test_with_a_post_mortem_the_first_step_is_f5_where_it_happened() -> None:
    """The job holds the failure: step 1 is "Press F5: inspect the failure where it
    happened"; re-running and resuming follow, and the page says a failing resume reopens."""
    text = render_front_page(dataclasses.replace(BASE, post_mortem=True))
    steps = text.split("## Next steps\n\n", 1)[1].split("\n\n", 1)[0]
    assert steps.startswith("1. **Press F5: inspect the failure where it happened.**")
    assert "2. **Reproduce it**" in steps and "4. **Resume the job**" in steps
    assert "opens again on the new failure" in steps
    assert "Press F5" not in render_front_page(BASE)
