"""Where a session's files are saved: folder names, the save_to setting, uploads that log
their failures and never wait past their deadline."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from tests.fakes import FakeEnvironment, FakeUploader
from vscode_interactive._edits._save import (
    Destination,
    new_session_id,
    resolve_save_to,
    session_folder,
    upload,
)


def test_session_id_is_utc_time_and_a_short_random_id() -> None:
    """The id sorts by time and tells sessions started in the same second apart."""
    assert new_session_id(1_700_000_000.0, "abc123") == "20231114T221320Z-abc123"
    first, second = new_session_id(0.0), new_session_id(0.0)
    assert first.startswith("19700101T000000Z-") and len(first) == len("19700101T000000Z-") + 6
    assert first != second


def test_session_folder_is_the_job_name_made_safe() -> None:
    """Job names become one safe path component; an empty one becomes 'job'."""
    assert session_folder("Trainer.fit", "ID") == "Trainer.fit-ID"
    assert session_folder("train <locals>/step", "ID") == "train_locals_step-ID"
    assert session_folder("///", "ID") == "job-ID"
    assert len(session_folder("x" * 500, "ID")) == 80 + len("-ID")


def test_destination_urls_end_in_the_session_folder() -> None:
    """With or without a trailing slash in save_to, files land in one folder."""
    for base in ("s3://bucket/debug", "s3://bucket/debug/"):
        destination = Destination(base, "train-ID")
        assert destination.url == "s3://bucket/debug/train-ID/"
        assert destination.of("changes.patch") == "s3://bucket/debug/train-ID/changes.patch"


def test_save_to_comes_from_the_option_then_the_environment() -> None:
    """The option wins; unset, the environment variable; empty (either way) is nowhere."""
    env = FakeEnvironment({"VSCODE_INTERACTIVE_SAVE_TO": "gs://from-env/"})
    assert resolve_save_to("s3://opt/", env) == "s3://opt/"
    assert resolve_save_to(None, env) == "gs://from-env/"
    assert resolve_save_to("", env) is None
    assert resolve_save_to(None, FakeEnvironment()) is None
    assert resolve_save_to(None, FakeEnvironment({"VSCODE_INTERACTIVE_SAVE_TO": " "})) is None


def test_upload_copies_each_file_and_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every file arrives under the session folder; one log line names them."""
    page = tmp_path / "DEBUGGING.md"
    page.write_text("# page")
    uploader = FakeUploader()
    with caplog.at_level(logging.INFO, logger="vscode_interactive"):
        ok = upload(uploader, Destination("memory://s", "job-ID"), [(page, "DEBUGGING.md")])
    assert ok and uploader.files == {"memory://s/job-ID/DEBUGGING.md": b"# page"}
    assert "saved DEBUGGING.md to memory://s/job-ID/" in caplog.text


def test_a_failing_upload_is_logged_with_what_stays_local(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Any exception of a backend is caught: the log says which URL, why and where the
    file stays; the call returns False instead of raising."""
    patch = tmp_path / "changes.patch"
    patch.write_text("diff")
    uploader = FakeUploader(fail=RuntimeError("NoCredentialsError: unable to locate"))
    with caplog.at_level(logging.ERROR, logger="vscode_interactive"):
        ok = upload(uploader, Destination("s3://b", "job-ID"), [(patch, "changes.patch")])
    assert not ok
    assert "could not save s3://b/job-ID/changes.patch: RuntimeError: NoCredentialsError" in (
        caplog.text
    )
    assert f"it stays at {patch}" in caplog.text


def test_a_hung_upload_is_abandoned_at_its_deadline(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A store that never answers costs the deadline, not the session."""
    patch = tmp_path / "changes.patch"
    patch.write_text("diff")
    release = threading.Event()
    uploader = FakeUploader(block=release)
    try:
        with caplog.at_level(logging.ERROR, logger="vscode_interactive"):
            ok = upload(
                uploader,
                Destination("s3://b", "job-ID"),
                [(patch, "changes.patch")],
                timeout=0.05,
            )
        assert not ok
        assert "did not finish within 0.05 s" in caplog.text
    finally:
        release.set()
