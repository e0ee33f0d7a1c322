"""git's view of a workspace, through the :class:`BytesCommandRunner` port.

Every call runs ``git`` with ``--no-optional-locks`` (a ``status`` never rewrites the
user's index), ``--literal-pathspecs`` (a file named ``*.py`` is that file) and
``core.fsmonitor=false`` (no file-system monitor daemon is started that would outlive the
session). Output is read as bytes: ``-z`` lists of paths, and blob contents exactly as
stored. The parsers are pure functions.

Paths crossing this module's surface are relative to the *workspace* (``/``-separated),
which may be a folder inside the repository; git's are relative to the repository's top.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._ports import BytesCommandRunner

__all__ = [
    "GitError",
    "GitRepo",
    "StatusEntry",
    "TreeEntry",
    "find_repo",
    "parse_batch",
    "parse_ls_tree",
    "parse_status",
]

_GIT = (
    "git",
    "--no-optional-locks",
    "--literal-pathspecs",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.quotepath=off",
)
_TIMEOUT = 120.0
_ARGV_BATCH = 500  # paths per ls-tree call: far below any argv limit


class GitError(Exception):
    """A git command failed (its stderr in the message)."""


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One line of ``git status --porcelain -z``: the path (repository-relative) and
    whether git does not track it."""

    path: str
    untracked: bool


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """A blob in a commit: its mode (``100755`` is executable), id and size."""

    mode: str
    sha: str
    size: int

    @property
    def executable(self) -> bool:
        return self.mode == "100755"


def parse_status(output: bytes) -> list[StatusEntry]:
    """``git status --porcelain=v1 -z --no-renames`` output -> entries."""
    entries = []
    for record in output.split(b"\0"):
        if len(record) < 4:
            continue
        code, path = record[:2], os.fsdecode(record[3:])
        entries.append(StatusEntry(path.rstrip("/"), code == b"??"))
    return entries


def parse_ls_tree(output: bytes) -> dict[str, TreeEntry]:
    """``git ls-tree -z -l`` output -> {repository-relative path: blob} (blobs only)."""
    found = {}
    for record in output.split(b"\0"):
        meta, tab, path = record.partition(b"\t")
        fields = meta.split()
        if not tab or len(fields) != 4 or fields[1] != b"blob" or not fields[3].isdigit():
            continue
        found[os.fsdecode(path)] = TreeEntry(fields[0].decode(), fields[2].decode(), int(fields[3]))
    return found


def parse_batch(output: bytes) -> dict[str, bytes]:
    """``git cat-file --batch`` output -> {object id: content} (missing ones left out)."""
    found: dict[str, bytes] = {}
    position = 0
    while position < len(output):
        end = output.find(b"\n", position)
        if end < 0:
            break
        header = output[position:end].split()
        position = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue  # "<id> missing"
        size = int(header[2])
        found[header[0].decode()] = output[position : position + size]
        position += size + 1  # the content, then a newline
    return found


def _git(
    runner: BytesCommandRunner, args: Sequence[str], *, cwd: Path, stdin: bytes | None = None
) -> bytes:
    try:
        done = runner.run_bytes([*_GIT, *args], cwd=cwd, stdin=stdin, timeout=_TIMEOUT)
    except OSError as error:  # no git at all, or the workspace vanished
        raise GitError(f"git {args[0]}: {error}") from error
    if done.returncode != 0:
        raise GitError(f"git {args[0]} exited with {done.returncode}: {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True, slots=True)
class GitRepo:
    """The repository holding a workspace: its top folder and the workspace's prefix
    inside it (``""`` at the top, else ``"sub/dir/"``)."""

    top: Path
    prefix: str
    runner: BytesCommandRunner

    def _run(self, args: Sequence[str], *, cwd: Path, stdin: bytes | None = None) -> bytes:
        return _git(self.runner, args, cwd=cwd, stdin=stdin)

    def local(self, path: str) -> str | None:
        """A repository-relative path as workspace-relative, or ``None`` when it lies
        outside the workspace."""
        if not path.startswith(self.prefix):
            return None
        return path[len(self.prefix) :] or None

    def head(self) -> str | None:
        """The commit checked out, or ``None`` in a repository without commits."""
        try:
            out = self._run(["rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd=self.top)
        except GitError:
            return None
        return out.decode().strip() or None

    def tracks_anything(self, workspace: Path) -> bool:
        """True when git tracks at least one file in the workspace."""
        return bool(self._run(["ls-files", "-z", "--", "."], cwd=workspace).strip(b"\0"))

    def status(self, workspace: Path) -> list[StatusEntry]:
        """Changed, deleted and untracked (not ignored) files under the workspace."""
        out = self._run(
            [
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--no-renames",
                "--ignore-submodules=all",
                "--",
                ".",
            ],
            cwd=workspace,
        )
        return parse_status(out)

    def changed_since(self, commit: str, workspace: Path) -> list[str]:
        """Tracked files whose content differs from ``commit`` (repository-relative)."""
        out = self._run(
            ["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", commit, "--", "."],
            cwd=workspace,
        )
        return [os.fsdecode(item) for item in out.split(b"\0") if item]

    def tree(self, commit: str, paths: Iterable[str]) -> dict[str, TreeEntry]:
        """The blobs of ``commit`` at ``paths`` (repository-relative; absent ones left out)."""
        wanted = sorted(set(paths))
        found: dict[str, TreeEntry] = {}
        for start in range(0, len(wanted), _ARGV_BATCH):
            batch = wanted[start : start + _ARGV_BATCH]
            out = self._run(
                ["ls-tree", "-z", "-l", "--full-tree", commit, "--", *batch], cwd=self.top
            )
            found.update(parse_ls_tree(out))
        return found

    def blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The contents of blobs by id, exactly as stored."""
        wanted = sorted(set(shas))
        if not wanted:
            return {}
        stdin = "".join(f"{sha}\n" for sha in wanted).encode()
        return parse_batch(self._run(["cat-file", "--batch"], cwd=self.top, stdin=stdin))


def find_repo(workspace: Path, runner: BytesCommandRunner) -> GitRepo | None:
    """The repository the workspace is in, or ``None`` (not in one, or no git)."""
    try:
        out = _git(runner, ["rev-parse", "--show-toplevel", "--show-prefix"], cwd=workspace)
    except GitError:
        return None
    lines = os.fsdecode(out).split("\n")
    if not lines or not lines[0]:
        return None
    prefix = lines[1] if len(lines) > 1 else ""
    return GitRepo(Path(lines[0]), prefix, runner)
