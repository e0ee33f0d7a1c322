"""What recording a session's edits costs on a 10,000-file workspace (target: < 1 s at the
start and at the end), against ``git status`` on the same tree in the same run.

The workspace: 10,000 text files of 1-4 KiB in 100 folders, plus one 2 GB data file
(sparse: it takes no disk, but its size is real) that must cost a stat, never a read.

* **git**: the tree committed, clean. Start = :func:`take_snapshot` (``git status`` and
  friends, nothing to copy); end = :func:`changes_since` after editing two files, adding
  one and deleting one, plus rendering the patch.
* **scan**: the same tree without ``.git``. Start = a walk with ``lstat`` of every file and
  a copy of every small one into the base pack (fsync included); end = a second walk, and
  reading only the touched files.

Baseline: ``git status --porcelain`` (untracked files listed) on the committed tree.

Run: ``.venv/bin/python -m bench.bench_edits [--files N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench._timing import machine_summary, measure, report
from vscode_interactive._edits._patch import PatchHeader, render_patch
from vscode_interactive._edits._snapshot import changes_since, take_snapshot
from vscode_interactive._system._processes import SubprocessRunner

_GIB = 1 << 30


def build(root: Path, files: int) -> None:
    """``files`` text files in folders of 100, and a 2 GB sparse data file."""
    for n in range(files):
        folder = root / f"pkg{n // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        line = f"value_{n} = {n}  # some source text of a realistic width\n"
        (folder / f"module_{n}.py").write_text(line * (20 + n % 60))
    (root / "data").mkdir()
    with (root / "data" / "train.bin").open("wb") as handle:
        handle.truncate(2 * _GIB)
    (root / ".vscode-interactive").mkdir()
    (root / ".vscode-interactive" / ".gitignore").write_text("*\n")


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def edit(root: Path) -> None:
    """Two files edited, one added, one deleted."""
    for name in ("pkg000/module_1.py", "pkg050/module_5042.py"):
        path = root / name
        path.write_text(path.read_text().replace("= ", "= 1 + ", 1))
    (root / "pkg010" / "debug_helpers.py").write_text("def show(x):\n    print(x)\n")
    (root / "pkg099" / "module_9999.py").unlink(missing_ok=True)


def run(root: Path, label: str, repeat: int) -> None:
    runner = SubprocessRunner()
    base = root / ".vscode-interactive" / "base.pack"
    status = ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"]
    baseline_root = root if (root / ".git").exists() else root.parent / "git-copy"
    baseline = measure(
        "git status",
        lambda: subprocess.run(status, cwd=baseline_root, check=True, capture_output=True),
        repeat=repeat,
        warmup=1,
    )
    start = measure(
        f"{label}: start (snapshot)",
        lambda: take_snapshot(root, base, runner),
        repeat=repeat,
        warmup=1,
    )
    report(start, baseline, target="< 1 s absolute")
    snapshot = take_snapshot(root, base, runner)
    edit(root)

    def end() -> None:
        render_patch(changes_since(snapshot), PatchHeader())

    finish = measure(f"{label}: end (changes + patch)", end, repeat=repeat, warmup=1)
    report(finish, baseline, target="< 1 s absolute")
    changes = changes_since(snapshot)
    print(
        f"  {label}: {len(snapshot.files)} files noted at the start, base pack "
        f"{base.stat().st_size / 1e6:.1f} MB; {len(changes)} changes found: "
        f"{', '.join(f'{c.path} ({c.kind})' for c in changes)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    print(machine_summary())
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "git" / "ws"
        build(tree, options.files)
        git(tree, "init", "-q")
        git(tree, "add", ".")
        git(tree, "commit", "-qm", "start")
        run(tree, "git", options.repeat)

        scan = Path(tmp) / "scan" / "ws"
        build(scan, options.files)
        copy = scan.parent / "git-copy"
        shutil.copytree(scan, copy, ignore=shutil.ignore_patterns("train.bin"))
        git(copy, "init", "-q")
        git(copy, "add", ".")
        git(copy, "commit", "-qm", "start")
        os.sync()
        run(scan, "scan", options.repeat)


if __name__ == "__main__":
    main()
