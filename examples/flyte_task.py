"""A Flyte task that opens VS Code in its pod when it fails, linked from the Flyte console.

``@task`` over ``@vscode``, as with flytekit's own decorator. The task template gets
``{"link_type": "vscode", "port": "8080"}``, so a Flyte deployment with a ``vscode`` dynamic
log link shows a "VS Code" link on the running task (README, "Using it with Flyte").

Locally it is a plain call, as any Flyte task (no IDE, the task's own error)::

    pyflyte run examples/flyte_task.py pipeline --batches '[[], []]'   # ZeroDivisionError
    pyflyte run examples/flyte_task.py pipeline --batches '[[1], [2, 3]]'   # 1.5

On a cluster (an image with ``vscode-interactive`` installed)::

    pyflyte run --remote --image <your image> examples/flyte_task.py pipeline --batches '[[], []]'

the task fails, the IDE opens in the pod at the line that raised; fix it (return ``0.0`` when
every batch is empty) and resume ("Resume Task" in the IDE, or ``vscode-interactive resume``
in its terminal): the task finishes with the fixed code and the workflow goes on.
"""

from __future__ import annotations

from flytekit import task, workflow

from vscode_interactive import vscode


@task
@vscode(
    run_task_first=True,  # run the task; open the IDE only if it raises
    max_idle_seconds=3600,  # give the pod back after an hour nobody works in the IDE
    # Serve on the pod's address so the console link's route reaches it. No password: the
    # route in front authenticates, and a NetworkPolicy must keep everyone else off the
    # port (README, "Using it with Flyte"). Drop these three lines to keep the defaults
    # (loopback + password) and connect with `kubectl port-forward` instead.
    host="0.0.0.0",  # noqa: S104 - on purpose, see above
    auth="none",
    allow_unauthenticated=True,
    port=8080,  # the port the console link names
)
def average_batch_size(batches: list[list[int]]) -> float:
    """Mean number of rows per non-empty batch."""
    sizes = [len(rows) for rows in batches]
    empty = sum(1 for size in sizes if size == 0)
    # Bug on purpose: when every batch is empty this divides by zero.
    return sum(sizes) / (len(sizes) - empty)


@workflow
def pipeline(batches: list[list[int]]) -> float:
    return average_batch_size(batches=batches)
