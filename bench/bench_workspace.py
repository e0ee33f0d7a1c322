"""How much the workspace step adds when a session starts.

1. Capturing a large argument (64 MiB of bytes plus small values) against a bare
   ``pickle.dumps((args, kwargs))`` of the same call: the capture record wraps the pickle,
   so the ratio says what the per-argument fallback design costs on the happy path.
2. ``prepare_workspace`` for a small call (every file, atomic writes with fsync, merges)
   against writing the same six files with plain ``Path.write_text``.

Run: ``.venv/bin/python -m bench.bench_workspace``.
"""

from __future__ import annotations

import pickle
import sys
import tempfile
import types
from pathlib import Path

from bench._timing import machine_summary, measure, report
from vscode_interactive import prepare_workspace
from vscode_interactive._layout import StateLayout
from vscode_interactive._workspace._capture import capture_inputs


def train(data: bytes, *, lr: float, name: str) -> int:
    return len(data)


def main() -> None:
    print(machine_summary())
    args: tuple[object, ...] = (b"\x01" * (64 << 20),)
    kwargs: dict[str, object] = {"lr": 0.1, "name": "run-7"}
    ours = measure("capture_inputs 64 MiB", lambda: capture_inputs(train, args, kwargs), repeat=5)
    base = measure("pickle.dumps 64 MiB", lambda: pickle.dumps((args, kwargs), 5), repeat=5)
    report(ours, base)

    no_main = types.ModuleType("__main__")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        layout = StateLayout.for_workspace(root / "ws")
        small = ([1, 2, 3],)

        def prepare() -> None:
            prepare_workspace(
                train, small, kwargs, layout=layout, python=sys.executable, main_module=no_main
            )

        files = prepare_workspace(
            train, small, kwargs, layout=layout, python=sys.executable, main_module=no_main
        )
        texts = {
            path.name: path.read_bytes()
            for path in (
                files.inputs,
                files.entry_script,
                files.resume_script,
                files.front_page,
                files.workspace_file,
            )
        }
        plain_dir = root / "plain"
        plain_dir.mkdir()

        def plain() -> None:
            for name, data in texts.items():
                (plain_dir / name).write_bytes(data)

        report(
            measure("prepare_workspace", prepare, repeat=20, warmup=2),
            measure("5 plain writes", plain, repeat=20, warmup=2),
        )


if __name__ == "__main__":
    main()
