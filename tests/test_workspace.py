"""prepare_workspace and the reference helpers, on a real temporary workspace."""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

from vscode_interactive import (
    INTERACTIVE_DEBUGGING_FILE_NAME,
    RESUME_TASK_FILE_NAME,
    TASK_FUNCTION_SOURCE_PATH,
    ReloadError,
    WorkspaceFiles,
    load_module_from_path,
    prepare_interactive_python,
    prepare_launch_json,
    prepare_resume_task_python,
    prepare_workspace,
)
from vscode_interactive._layout import StateLayout

PY = "/opt/job/bin/python"
NO_MAIN = types.ModuleType("__main__")  # a job started without a main script file


def train(rows: list[int], *, lr: float) -> float:
    """The user's function under test."""
    return _step(rows, lr)


def _step(rows: list[int], lr: float) -> float:
    if lr > 1:
        raise ValueError(f"learning rate {lr} is too big")
    return sum(rows) * lr


RAISE_LINE = _step.__code__.co_firstlineno + 2


def _failure() -> ValueError:
    try:
        train([1, 2], lr=5.0)
    except ValueError as error:
        return error
    raise AssertionError("train did not raise")


def _prepare(
    tmp_path: Path,
    failure: BaseException | None = None,
    max_idle_seconds: float | None = None,
    now: float | None = None,
) -> WorkspaceFiles:
    return prepare_workspace(
        train,
        ([1, 2],),
        {"lr": 5.0},
        layout=StateLayout.for_workspace(tmp_path),
        python=PY,
        failure=failure,
        max_idle_seconds=max_idle_seconds,
        now=now,
        main_module=NO_MAIN,
    )


def test_fresh_workspace_gets_every_file(tmp_path: Path) -> None:
    """The workspace file, both scripts, inputs and the front page are written, all in the
    state directory; the user's tree gets nothing else (no .vscode/)."""
    files = _prepare(tmp_path)
    layout = StateLayout.for_workspace(tmp_path)
    assert files.workspace_file == layout.root / f"{tmp_path.name}.code-workspace"
    workspace = json.loads(files.workspace_file.read_text())
    assert workspace["folders"] == [{"path": str(tmp_path)}]
    launch = workspace["launch"]["configurations"]
    assert [c["name"] for c in launch] == ["Interactive Debugging", "Resume Task"]
    assert workspace["settings"]["python.defaultInterpreterPath"] == PY
    assert files.entry_script.name == INTERACTIVE_DEBUGGING_FILE_NAME
    assert files.resume_script.name == RESUME_TASK_FILE_NAME
    for path in (files.entry_script, files.resume_script, files.inputs, files.front_page):
        assert path.parent == layout.root and path.is_file()
    assert (layout.root / ".gitignore").read_text() == "*\n"
    assert stat.S_IMODE(files.inputs.stat().st_mode) == 0o600
    assert files.warnings == () and files.traceback is None
    assert files.environment == {TASK_FUNCTION_SOURCE_PATH: __file__}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".vscode-interactive"]


def test_inputs_are_stored_in_the_state_directory(tmp_path: Path) -> None:
    """The pickled call holds the positional and keyword arguments."""
    files = _prepare(tmp_path)
    with files.inputs.open("rb") as stream:
        record = pickle.load(stream)
        assert [part["name"] for part in record["args"]] == ["rows"]
        assert pickle.load(stream) == [1, 2]
        assert pickle.load(stream) == 5.0


def test_user_vscode_files_are_read_never_written(tmp_path: Path) -> None:
    """The user's .vscode/ keeps its bytes and gets no new file; their settings are repeated
    in the workspace file (their values of the start-up settings win)."""
    vscode = tmp_path / ".vscode"
    vscode.mkdir()
    launch_text = '{\n  // mine\n  "configurations": [{"name": "App", "type": "debugpy"},],\n}\n'
    settings_text = '{"editor.tabSize": 2, "workbench.startupEditor": "readme"}'
    (vscode / "launch.json").write_text(launch_text)
    (vscode / "settings.json").write_text(settings_text)
    files = _prepare(tmp_path)
    assert sorted(p.name for p in vscode.iterdir()) == ["launch.json", "settings.json"]
    assert (vscode / "launch.json").read_text() == launch_text
    assert (vscode / "settings.json").read_text() == settings_text
    workspace = json.loads(files.workspace_file.read_text())
    names = [c["name"] for c in workspace["launch"]["configurations"]]
    assert names == ["Interactive Debugging", "Resume Task"]  # theirs stay in their folder
    settings = workspace["settings"]
    assert settings["editor.tabSize"] == 2
    assert settings["workbench.startupEditor"] == "readme"
    assert settings["chat.disableAIFeatures"] is True


def test_unparseable_user_settings_leave_ours_alone_in_the_workspace_file(tmp_path: Path) -> None:
    """A broken settings.json is neither touched nor repeated; ours still apply."""
    vscode = tmp_path / ".vscode"
    vscode.mkdir()
    broken = '{\n  "editor.tabSize": 2\n  "files.autoSave": "off"\n}\n'
    (vscode / "settings.json").write_text(broken)
    files = _prepare(tmp_path)
    assert (vscode / "settings.json").read_text() == broken
    settings = json.loads(files.workspace_file.read_text())["settings"]
    assert settings["python.defaultInterpreterPath"] == PY
    assert "editor.tabSize" not in settings


def test_front_page_and_first_files_point_at_the_raising_line(tmp_path: Path) -> None:
    """With a failure, the front page shows it and the source opens at the raise."""
    files = _prepare(tmp_path, failure=_failure(), max_idle_seconds=600.0, now=0.0)
    expected = (Path(__file__), RAISE_LINE)
    assert files.source_location is not None
    assert (files.source_location.path, files.source_location.line) == expected
    assert [(loc.path, loc.line) for loc in files.open_first] == [(files.front_page, 1), expected]
    page = files.front_page.read_text()
    assert "# Debugging `tests.test_workspace.train`" in page
    assert "raised `ValueError: learning rate 5.0 is too big`" in page
    assert f'line {RAISE_LINE}, in _step\n    raise ValueError(f"learning rate' in page
    assert "- `rows` (`list`): `[1, 2]`" in page and "- `lr` (`float`): `5.0`" in page
    assert "stops after 10 min without activity (at 1970-01-01 00:10 UTC" in page
    assert files.traceback is not None
    assert files.traceback.read_text().endswith("ValueError: learning rate 5.0 is too big\n")


def test_without_failure_the_definition_is_opened(tmp_path: Path) -> None:
    """When nothing raised, the function's definition line is opened after the front page."""
    files = _prepare(tmp_path)
    definition = (Path(__file__), train.__code__.co_firstlineno)
    assert files.source_location is not None
    assert (files.source_location.path, files.source_location.line) == definition
    assert "The job is waiting before it calls" in files.front_page.read_text()


def test_unpicklable_argument_is_listed_and_warned(tmp_path: Path) -> None:
    """The session goes on, and says which argument the entry script will ask for."""
    files = prepare_workspace(
        train,
        (threading.Lock(),),
        {"lr": 0.1},
        layout=StateLayout.for_workspace(tmp_path),
        python=PY,
        main_module=NO_MAIN,
    )
    assert files.uncaptured == ("rows",)
    assert files.warnings[0].startswith("argument 'rows' (_thread.lock) could not be captured")
    assert "**not captured**" in files.front_page.read_text()


def test_nested_function_is_warned_about(tmp_path: Path) -> None:
    """A function the entry script cannot import is named in a warning."""

    def local() -> None: ...

    files = prepare_workspace(
        local, layout=StateLayout.for_workspace(tmp_path), python=PY, main_module=NO_MAIN
    )
    assert any("not reachable by import" in w for w in files.warnings)


# --- the reference helpers -------------------------------------------------------------


@pytest.mark.integration
def test_reference_helpers_write_into_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The three prepare_* helpers write the scripts and launch.json under the cwd."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "launch.json").write_text(
        '{"configurations": [{"name": "Mine"}]} // kept'
    )
    entry = prepare_interactive_python(train, ([3, 4],), {"lr": 0.5})
    resume = prepare_resume_task_python(4321)
    launch = prepare_launch_json()
    layout = StateLayout.for_workspace(tmp_path)
    assert (entry, resume, launch) == (
        layout.entry_script,
        layout.resume_script,
        layout.launch_json,
    )
    names = [c["name"] for c in json.loads(launch.read_text())["configurations"]]
    assert names == ["Mine", "Interactive Debugging", "Resume Task"]
    assert "job (pid 4321)" in resume.read_text()
    run = subprocess.run(
        [sys.executable, str(entry)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "train returned: 3.5"


def test_load_module_from_path_skips_the_main_block(tmp_path: Path) -> None:
    """The file runs as a module under the given name; its __main__ block does not."""
    source = tmp_path / "job.py"
    source.write_text('VALUE = 7\nif __name__ == "__main__":\n    raise SystemExit("ran")\n')
    try:
        module = load_module_from_path("vi_test_job", source)
        assert module.VALUE == 7
        assert sys.modules["vi_test_job"] is module
    finally:
        sys.modules.pop("vi_test_job", None)


def test_load_module_from_path_reports_syntax_errors_and_restores(tmp_path: Path) -> None:
    """A syntax error raises ReloadError with file and line; the old module stays registered."""
    source = tmp_path / "job.py"
    source.write_text("x = 1\ndef broken(:\n")
    previous = types.ModuleType("vi_test_broken")
    sys.modules["vi_test_broken"] = previous
    try:
        with pytest.raises(ReloadError) as caught:
            load_module_from_path("vi_test_broken", source)
        assert (caught.value.source_path, caught.value.line) == (str(source), 2)
        assert "syntax error" in str(caught.value) and str(source) in str(caught.value)
        assert sys.modules["vi_test_broken"] is previous
    finally:
        sys.modules.pop("vi_test_broken", None)


def test_load_module_from_path_missing_file(tmp_path: Path) -> None:
    """A missing file is a ReloadError (an ImportError) naming the path."""
    with pytest.raises(ImportError, match="no such Python file"):
        load_module_from_path("vi_test_missing", tmp_path / "nope.py")
    assert "vi_test_missing" not in sys.modules


# -- the state directory is private and ours (issue 18, points 4 and 6) -----------------------


def _tree_modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.lstat().st_mode)
        for path in [root, *root.rglob("*")]
    }


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_everything_the_session_writes_is_private_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    """State dir 0700, every file in it 0600 (front page, scripts, the workspace file),
    even under umask 000; nothing is written outside it."""
    previous = os.umask(umask)
    try:
        files = _prepare(tmp_path)
    finally:
        os.umask(previous)
    modes = _tree_modes(files.layout.root)
    assert modes.pop(".") == 0o700
    assert modes and set(modes.values()) == {0o600}, modes
    assert files.workspace_file.parent == files.layout.root
    assert [path.name for path in tmp_path.iterdir()] == [".vscode-interactive"]


def test_files_left_with_loose_modes_are_written_fresh_and_private(tmp_path: Path) -> None:
    """A front page left 0644 and a script left 0777 (or planted) are replaced by new
    private files of ours; an old state dir 0755 of ours is tightened to 0700."""
    layout = StateLayout.for_workspace(tmp_path)
    layout.root.mkdir(mode=0o755)
    layout.root.chmod(0o755)
    layout.front_page.write_text("old")
    layout.front_page.chmod(0o644)
    layout.resume_script.write_text("import os; os.system('planted')")
    layout.resume_script.chmod(0o777)
    planted = layout.resume_script.stat().st_ino
    _prepare(tmp_path)
    assert stat.S_IMODE(layout.root.stat().st_mode) == 0o700
    for path in (layout.front_page, layout.resume_script):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert layout.resume_script.stat().st_ino != planted
    assert "planted" not in layout.resume_script.read_text()


def test_a_symlinked_state_dir_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    """``.vscode-interactive`` as a symlink: refused with a clear error, nothing written
    through it."""
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".vscode-interactive").symlink_to(target)
    with pytest.raises(PermissionError, match="symlink"):
        _prepare(workspace)
    assert list(target.iterdir()) == []
    assert not (workspace / ".vscode").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_state_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    """A state dir another user created first (a sticky /tmp workspace) is not used: its
    owner could swap the scripts the IDE runs."""
    workspace = tmp_path / "ws"
    state = workspace / ".vscode-interactive"
    state.mkdir(parents=True, mode=0o700)
    os.chown(state, 65534, 65534)
    with pytest.raises(PermissionError, match="owned by uid 65534"):
        _prepare(workspace)
    assert list(state.iterdir()) == []
