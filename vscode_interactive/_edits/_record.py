"""One session's record of the user's edits: noted at the start, written at every end.

:class:`EditRecord` is what a session composes::

    with EditRecord(layout, session_id=..., job=..., save_to=..., ...) as record:
        record.start()                   # snapshot of the workspace (git's view, or a scan)
        ... record.note ...              # what the banner and the front page say
        record.save_files(files)         # front page, traceback (+ inputs) -> save_to
        ... the IDE runs ...
        record.finish("resumed")         # changes.patch (+ a copy per session) -> save_to

``finish`` runs at every end of a session (resume, idle timeout, code-server exit,
SIGTERM/SIGINT, an error) and may run again after a later round: the patch always holds
everything since ``start``. Nothing here raises into the session: a workspace that cannot
be recorded (too many files outside git, git failing) and a failed upload are logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from .._layout import StateLayout
from .._ports import BytesCommandRunner, Clock, FileUploader
from .._system._files import remove_quietly, write_atomic
from .._workspace._writer import ensure_state_dir
from ._git import GitError
from ._patch import PatchHeader, PatchSummary, render_patch
from ._save import ENV_SAVE_TO, UPLOAD_TIMEOUT, Destination, new_session_id, session_folder, upload
from ._snapshot import DEFAULT_LIMITS, Limits, Snapshot, changes_since, take_snapshot
from ._tree import TooManyFiles

if TYPE_CHECKING:
    from .._workspace import WorkspaceFiles

__all__ = ["ENV_SAVE_TO", "EditRecord", "real_record"]

logger = logging.getLogger("vscode_interactive.edits")

_UNRECORDABLE = (TooManyFiles, GitError, OSError)


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class EditRecord:
    """The edits of one session (see the module docstring).

    ``save_to`` (an fsspec URL, or ``None``) receives one folder per session named after
    ``job`` and ``session_id``; ``save_inputs`` adds the captured inputs to it. The ports:
    ``runner`` runs git, ``uploader`` copies files to ``save_to``, ``clock`` dates the
    patch.
    """

    def __init__(
        self,
        layout: StateLayout,
        *,
        session_id: str,
        job: str,
        runner: BytesCommandRunner,
        uploader: FileUploader,
        clock: Clock,
        save_to: str | None = None,
        save_inputs: bool = False,
        limits: Limits = DEFAULT_LIMITS,
        upload_timeout: float = UPLOAD_TIMEOUT,
    ) -> None:
        self.layout = layout
        self.session_id = session_id
        self.job = job
        self.destination = (
            Destination(save_to, session_folder(job, session_id)) if save_to else None
        )
        self._save_inputs = save_inputs
        self._runner, self._uploader, self._clock = runner, uploader, clock
        self._limits = limits
        self._timeout = upload_timeout
        self._snapshot: Snapshot | None = None
        self._unrecorded: str | None = None
        self._inputs_saved = False
        self._started = clock.now()

    def __enter__(self) -> EditRecord:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base(self) -> Path:
        return self.layout.edits_base(self.session_id)

    def start(self) -> None:
        """Note the workspace as it is now (creating the state directory)."""
        self._started = self._clock.now()
        try:
            ensure_state_dir(self.layout.root)
            self._snapshot = take_snapshot(
                self.layout.workspace, self.base, self._runner, self._limits
            )
        except _UNRECORDABLE as error:
            self._unrecorded = str(error) or type(error).__name__
            logger.warning(
                "edits in %s will not be recorded: %s", self.layout.workspace, self._unrecorded
            )
            return
        snapshot = self._snapshot
        logger.info(
            "recording edits in %s (%s; %d file(s) noted at the start)",
            snapshot.workspace,
            "git" if snapshot.method == "git" else "comparing files",
            len(snapshot.files),
        )

    @property
    def note(self) -> str:
        """Where the edits go, in one sentence for the banner and the front page."""
        if self._unrecorded is not None:
            return (
                f"not recorded ({self._unrecorded}); copy what you change out of the IDE "
                "before the session ends"
            )
        text = (
            "when the session ends (resume, idle stop, exit or signal) a patch of what you "
            f"changed is written to {self.layout.changes_patch}"
        )
        if self.destination is not None:
            return f"{text} and saved to {self.destination.url}"
        return (
            f"{text}; nothing is saved off this machine (set save_to or {ENV_SAVE_TO} to "
            "keep it when the machine goes away)"
        )

    def save_files(self, files: WorkspaceFiles) -> None:
        """Copy the front page, the traceback and (``save_inputs``, the first time) the
        inputs to ``save_to`` now, while the machine is surely there."""
        if self.destination is None:
            return
        items = [(files.front_page, "DEBUGGING.md")]
        if files.traceback is not None:
            items.append((files.traceback, "traceback.txt"))
        if self._save_inputs and not self._inputs_saved and files.inputs.is_file():
            items.append((files.inputs, "inputs.pkl"))  # the same in every round: once
            self._inputs_saved = True
        upload(self._uploader, self.destination, items, timeout=self._timeout)

    def _header(self, outcome: str) -> PatchHeader:
        snapshot = self._snapshot
        assert snapshot is not None
        if snapshot.repo is not None:
            head = snapshot.head[:12] if snapshot.head else "(no commit yet)"
            how = (
                f"recorded with git: against commit {head} and the files that differed from "
                "it at the start; files git ignores are not recorded"
            )
        else:
            how = "recorded by comparing the files (the workspace is not under git)"
        return PatchHeader(
            (
                f"vscode-interactive: edits made in {snapshot.workspace}",
                f"session {self.session_id} of {self.job}: {_utc(self._started)} to "
                f"{_utc(self._clock.now())}, ended by: {outcome}",
                how,
                "apply to a copy of the workspace as it was, from its folder:",
                "  git apply changes.patch   (or: patch -p1 < changes.patch)",
            )
        )

    def finish(self, outcome: str) -> PatchSummary | None:
        """Write ``changes.patch`` (and this session's copy), log a summary, save it to
        ``save_to``. ``None`` when there is no record."""
        if self._snapshot is None:
            return None
        try:
            changes = changes_since(self._snapshot, self._limits)
            patch = render_patch(changes, self._header(outcome))
            copy = self.layout.session_patch(self.session_id)
            write_atomic(copy, patch.data)
            write_atomic(self.layout.changes_patch, patch.data)
        except _UNRECORDABLE as error:
            logger.error(
                "could not write the patch of the edits in %s: %s", self.layout.root, error
            )
            return None
        logger.info("edits: %s; patch: %s", patch.summary.describe(), self.layout.changes_patch)
        if self.destination is not None:
            upload(
                self._uploader, self.destination, [(copy, "changes.patch")], timeout=self._timeout
            )
        return patch.summary

    def close(self) -> None:
        """Remove the start-of-session copies (the patches stay)."""
        remove_quietly(self.base)


def real_record(
    layout: StateLayout,
    *,
    job: str,
    save_to: str | None,
    save_inputs: bool,
    clock: Clock | None = None,
) -> EditRecord:
    """An :class:`EditRecord` on the real ports (git as a subprocess, fsspec uploads)."""
    from .._system._network import FsspecUploader
    from .._system._os import SystemClock
    from .._system._processes import SubprocessRunner

    clock = clock if clock is not None else SystemClock()
    return EditRecord(
        layout,
        session_id=new_session_id(clock.now()),
        job=job,
        runner=SubprocessRunner(),
        uploader=FsspecUploader(),
        clock=clock,
        save_to=save_to,
        save_inputs=save_inputs,
    )
