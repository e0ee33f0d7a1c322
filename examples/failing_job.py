"""An example job that fails on purpose, to see the whole debugging flow in one command.

Run it (see README "Two commands"): instead of crashing, the job opens a browser IDE on
this file, at the line that raised. Fix the bug (return ``0.0`` when every batch is
empty), then resume with the "Resume Task" launch configuration or ``vscode-interactive resume``;
the job finishes with the fixed code and the original arguments.
"""

from __future__ import annotations

from vscode_interactive import vscode


@vscode(run_task_first=True, max_idle_seconds=900)
def average_batch_size(batches: list[list[int]]) -> float:
    """Mean number of rows per non-empty batch."""
    sizes = [len(rows) for rows in batches]
    empty = sum(1 for size in sizes if size == 0)
    # Bug on purpose: when every batch is empty this divides by zero.
    return sum(sizes) / (len(sizes) - empty)


if __name__ == "__main__":
    print("result:", average_batch_size([[], []]))
