"""EditRecord on fakes (no git, uploads into a dict): what it says, what it writes, what
it saves, and that nothing it meets raises into the session."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.fakes import FakeBytesRunner, FakeClock, FakeUploader
from vscode_interactive._edits._record import EditRecord
from vscode_interactive._edits._snapshot import DEFAULT_LIMITS, Limits
from vscode_interactive._layout import StateLayout
from vscode_interactive._workspace import WorkspaceFiles

SESSION = "20231114T221320Z-abc123"


def make_record(
    workspace: Path,
    *,
    save_to: str | None = "memory://sessions",
    save_inputs: bool = False,
    uploader: FakeUploader | None = None,
    limits: Limits = DEFAULT_LIMITS,
    clock: FakeClock | None = None,
) -> EditRecord:
    return EditRecord(
        StateLayout.for_workspace(workspace),
        session_id=SESSION,
        job="train",
        runner=FakeBytesRunner(),
        uploader=uploader if uploader is not None else FakeUploader(),
        clock=clock if clock is not None else FakeClock(),
        save_to=save_to,
        save_inputs=save_inputs,
        limits=limits,
    )


def files_in(layout: StateLayout, *, traceback: bool = True) -> WorkspaceFiles:
    """The state directory's generated files, as prepare_workspace would name them."""
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.front_page.write_text("# Debugging `train`")
    layout.inputs.write_bytes(b"pickled")
    if traceback:
        layout.traceback.write_text("Traceback ...\nValueError: bad\n")
    return WorkspaceFiles(
        layout=layout,
        inputs=layout.inputs,
        entry_script=layout.entry_script,
        resume_script=layout.resume_script,
        front_page=layout.front_page,
        workspace_file=layout.workspace_file,
        source_location=None,
        open_first=(),
        traceback=layout.traceback if traceback else None,
    )


def test_the_note_says_where_edits_go(tmp_path: Path) -> None:
    """With save_to: the local patch and the session's folder; without: only the local
    patch, and how to save it elsewhere."""
    (tmp_path / "train.py").write_text("x")
    saved = make_record(tmp_path)
    saved.start()
    patch = tmp_path / ".vscode-interactive" / "changes.patch"
    assert saved.note.endswith(
        f"written to {patch} and saved to memory://sessions/train-{SESSION}/"
    )
    local = make_record(tmp_path, save_to=None)
    local.start()
    assert f"written to {patch}; nothing is saved off this machine" in local.note
    assert "VSCODE_INTERACTIVE_SAVE_TO" in local.note


def test_start_files_are_saved_and_inputs_only_when_asked(tmp_path: Path) -> None:
    """Front page and traceback go to save_to at once; inputs only with save_inputs, and
    only once."""
    layout = StateLayout.for_workspace(tmp_path)
    folder = f"memory://sessions/train-{SESSION}/"
    without = FakeUploader()
    make_record(tmp_path, uploader=without).save_files(files_in(layout))
    assert sorted(without.files) == [folder + "DEBUGGING.md", folder + "traceback.txt"]
    with_inputs = FakeUploader()
    record = make_record(tmp_path, uploader=with_inputs, save_inputs=True)
    record.save_files(files_in(layout))
    assert with_inputs.files.pop(folder + "inputs.pkl") == b"pickled"
    record.save_files(files_in(layout))  # a later round: the same inputs are not sent again
    assert folder + "inputs.pkl" not in with_inputs.files
    no_traceback = FakeUploader()
    make_record(tmp_path, uploader=no_traceback).save_files(files_in(layout, traceback=False))
    assert sorted(no_traceback.files) == [folder + "DEBUGGING.md"]


def test_finish_writes_the_patch_a_session_copy_and_saves_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """changes.patch and changes-<session>.patch hold the same bytes; save_to gets it; the
    log has the one-line summary with the patch's path."""
    (tmp_path / "train.py").write_text("rate = 1\n")
    uploader = FakeUploader()
    clock = FakeClock()
    with make_record(tmp_path, uploader=uploader, clock=clock) as record:
        record.start()
        (tmp_path / "train.py").write_text("rate = 2\n")
        (tmp_path / "new.py").write_text("a\nb\n")
        clock.jump(90)
        with caplog.at_level(logging.INFO, logger="vscode_interactive"):
            summary = record.finish("idle timeout")
    layout = StateLayout.for_workspace(tmp_path)
    assert summary is not None and (summary.files, summary.added, summary.removed) == (2, 3, 1)
    data = layout.changes_patch.read_bytes()
    assert layout.session_patch(SESSION).read_bytes() == data
    assert layout.changes_patch.stat().st_mode & 0o777 == 0o600
    text = data.decode()
    assert f"# session {SESSION} of train: 2023-11-14 22:13:20 UTC to 2023-11-14 22:14:50 UTC" in (
        text
    )
    assert "ended by: idle timeout" in text and "comparing the files" in text
    assert uploader.files[f"memory://sessions/train-{SESSION}/changes.patch"] == data
    assert f"edits: 2 files changed (+3 -1); patch: {layout.changes_patch}" in caplog.text
    assert not record.base.exists()  # the start copies go when the record closes


def test_finish_again_rewrites_the_patch_with_everything_since_the_start(tmp_path: Path) -> None:
    """A second round (a resume that failed to reload) ends with one patch of all edits."""
    (tmp_path / "a.py").write_text("1\n")
    record = make_record(tmp_path, save_to=None)
    record.start()
    (tmp_path / "a.py").write_text("2\n")
    record.finish("resumed")
    (tmp_path / "b.py").write_text("new\n")
    summary = record.finish("resumed")
    assert summary is not None and summary.files == 2
    record.close()


def test_an_unrecordable_workspace_says_so_and_finishes_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Too many files outside git: a warning, a note telling the user to copy their work
    out, and no patch at the end (no error either)."""
    for n in range(5):
        (tmp_path / f"f{n}.py").write_text("x")
    record = make_record(tmp_path, limits=Limits(files=2))
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        record.start()
    assert "will not be recorded: more than 2 files" in caplog.text
    assert record.note.startswith("not recorded (more than 2 files)")
    assert record.finish("resumed") is None
    assert not StateLayout.for_workspace(tmp_path).changes_patch.exists()


def test_a_failing_upload_at_the_end_keeps_the_local_patch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The store refuses: the patch is still written locally and finish returns normally."""
    (tmp_path / "a.py").write_text("1\n")
    record = make_record(tmp_path, uploader=FakeUploader(fail=ConnectionRefusedError(111, "no")))
    record.start()
    (tmp_path / "a.py").write_text("2\n")
    with caplog.at_level(logging.ERROR, logger="vscode_interactive"):
        assert record.finish("interrupted") is not None
    assert StateLayout.for_workspace(tmp_path).changes_patch.is_file()
    assert "could not save memory://sessions/" in caplog.text
