"""Nothing typed in the IDE is lost, whatever ends the session: real jobs on the fake
code-server (subprocesses), a git workspace, real uploads.

For each of the four outcomes (resume, idle timeout, code-server exiting, SIGTERM) a user
edits two files, adds one and deletes one while the session runs; then
``.vscode-interactive/changes.patch`` must apply cleanly to a pristine copy of the workspace
with ``git apply`` and with ``patch -p1`` and reproduce the edited tree; the session folder
under ``save_to`` (``file://``, fsspec's ``memory://``) must hold the patch, the front page,
the traceback and (only with ``save_inputs``) the inputs; and a ``save_to`` nothing listens
on must be logged without changing how the job ends.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.session_harness import JobProcess, cli, fix_average, job_environment, spawn, stop_jobs
from tests.waiting import wait_until_gone
from vscode_interactive._system._network import SocketPortAllocator

pytestmark = pytest.mark.integration

JOB = '''
import base64, json, logging, os, sys
from vscode_interactive import SessionConfig, vscode
import fsspec

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")


@vscode(
    session_config=SessionConfig(check_interval=0.2, grace_seconds=2),
    run_task_first=True,
    port=0,
    auth="none",
    max_idle_seconds={idle},
    workspace_dir={workspace!r},
    start_timeout=30,
    save_to={save_to!r},
    save_inputs={save_inputs},
)
def average(sizes):
    return sum(sizes) / len(sizes)


def dump_memory_store():
    """memory:// lives in this process: write what it holds where the test can read it."""
    memory = fsspec.filesystem("memory")
    found = {{path: base64.b64encode(memory.cat_file(path)).decode() for path in memory.find("/")}}
    with open(os.environ["MEMORY_DUMP"], "w") as out:
        json.dump(found, out)


if __name__ == "__main__":
    try:
        print("RESULT", average([]), flush=True)
    finally:
        dump_memory_store()
'''

USER_FILES = {
    "train.py": "def train(rate):\n    return rate * 2\n",
    "data/config.yaml": "rate: 0.1\nepochs: 3\n",
    "old_notes.md": "# notes\nremove me\n",
    "untouched.py": "x = 1\n",
}


FINISH = 90.0  # seconds for a job to end once its session does (uploads included)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@dataclass(kw_only=True)
class Job(JobProcess):
    pristine: Path
    memory_dump: Path

    def recording(self) -> bool:
        """The start of the session was noted (its base copies exist)."""
        return any(self.layout.root.glob(".edits-base-*.pack"))

    def edit_like_a_user(self) -> None:
        """Edit two files (one fixes the job), add one, delete one."""
        fix_average(self.workspace / "job.py")
        (self.workspace / "data/config.yaml").write_text("rate: 0.01\nepochs: 3\n")
        (self.workspace / "helpers.py").write_text("def show(x):\n    print(x)\n")
        (self.workspace / "old_notes.md").unlink()

    def memory_files(self) -> dict[str, bytes]:
        found: dict[str, str] = json.loads(self.memory_dump.read_text())
        return {path: base64.b64decode(data) for path, data in found.items()}


@pytest.fixture
def start_job(tmp_path: Path) -> Iterator[Callable[..., Job]]:
    env = job_environment(tmp_path, MEMORY_DUMP=str(tmp_path / "memory.json"))
    started: list[Job] = []

    def start(outcome: str, *, save_to: str, save_inputs: bool = False) -> Job:
        idle = 1.0 if outcome == "idle" else 600.0
        workspace = tmp_path / "ws"
        workspace.mkdir()
        for path, text in USER_FILES.items():
            (workspace / path).parent.mkdir(parents=True, exist_ok=True)
            (workspace / path).write_text(text)
        script = workspace / "job.py"
        script.write_text(
            textwrap.dedent(JOB).format(
                idle=idle, workspace=str(workspace), save_to=save_to, save_inputs=save_inputs
            )
        )
        git(workspace, "init", "-q")
        git(workspace, "add", ".")
        git(workspace, "commit", "-qm", "the job as it was deployed")
        pristine = tmp_path / "pristine"
        shutil.copytree(workspace, pristine, ignore=shutil.ignore_patterns(".git"))
        job = Job(
            workspace=workspace,
            pristine=pristine,
            process=spawn([sys.executable, str(script)], cwd=workspace, env=env),
            pids_file=tmp_path / "pids.json",
            memory_dump=tmp_path / "memory.json",
        )
        started.append(job)
        return job

    yield start
    stop_jobs(started)


def user_tree(root: Path) -> dict[str, bytes]:
    """The user's files (not git's, not the session's, not Python's caches)."""
    skipped = {".git", ".vscode-interactive", "__pycache__"}
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and not skipped & set(path.relative_to(root).parts)
    }


def assert_patch_reproduces_the_edits(job: Job, tmp_path: Path) -> bytes:
    """changes.patch applies to the pristine copy with both tools; both equal the edit."""
    patch = job.layout.changes_patch.read_bytes()
    for tool, argv in (("git", ["git", "apply", "-"]), ("patch", ["patch", "-p1", "--quiet"])):
        copy = tmp_path / f"pristine-{tool}"
        shutil.copytree(job.pristine, copy)
        done = subprocess.run(argv, cwd=copy, input=patch, capture_output=True, check=False)
        assert done.returncode == 0, f"{tool}: {done.stderr.decode()}{done.stdout.decode()}"
        assert user_tree(copy) == user_tree(job.workspace), tool
    assert user_tree(job.workspace) != user_tree(job.pristine)
    return patch


def end_by(job: Job, outcome: str) -> int:
    """Make the session end the way ``outcome`` names, after the user's edits."""
    if outcome == "idle":
        # Nobody connects: the edits are made as soon as the session noted the workspace,
        # before the idle clock (which starts when the IDE is ready) can run out.
        job.wait_for(job.recording, "the start of the record")
        job.edit_like_a_user()
        return job.finish(FINISH)
    job.wait_for(job.running, "the IDE")
    job.edit_like_a_user()
    if outcome == "resume":
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        done = cli("resume", "--yes", env=env, cwd=job.workspace)
        assert done.returncode == 0, done.stderr
    elif outcome == "server-exit":
        os.kill(job.server_pids()[0], signal.SIGKILL)
    else:
        job.process.send_signal(signal.SIGTERM)
    return job.finish(FINISH)


EXPECTED = {
    # outcome: (exit status, what stderr says)
    "resume": (0, "edits: 4 files changed"),
    "idle": (1, "IdleTimeoutError"),
    "server-exit": (1, "ServerExitedError"),
    "sigterm": (128 + signal.SIGTERM, "code-server session ended: interrupted"),
}
OUTCOMES = list(EXPECTED)


def assert_ended_as_expected(job: Job, outcome: str, status: int) -> None:
    expected_status, marker = EXPECTED[outcome]
    assert status == expected_status, job.err
    assert marker in job.err, job.err
    if outcome == "resume":
        assert "RESULT 0.0" in job.out
    assert "edits: 4 files changed (+" in job.err  # the one-line summary, every outcome
    assert f"patch: {job.layout.changes_patch}" in job.err
    wait_until_gone(job.server_pids())


def session_folder(root: Path) -> Path:
    [folder] = [path for path in root.iterdir() if path.is_dir()]
    assert folder.name.startswith("average-") and folder.name.endswith(tuple("0123456789abcdef"))
    return folder


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_file_url_receives_the_session_folder(
    outcome: str, start_job: Callable[..., Job], tmp_path: Path
) -> None:
    """save_to=file://: the session's folder holds the patch (the same bytes as the local
    one), the front page and the traceback, and no inputs without save_inputs."""
    shared = tmp_path / "shared"
    job = start_job(outcome, save_to=f"file://{shared}")
    status = end_by(job, outcome)
    assert_ended_as_expected(job, outcome, status)
    patch = assert_patch_reproduces_the_edits(job, tmp_path)
    folder = session_folder(shared)
    assert sorted(p.name for p in folder.iterdir()) == [
        "DEBUGGING.md",
        "changes.patch",
        "traceback.txt",
    ]
    assert (folder / "changes.patch").read_bytes() == patch
    assert "ZeroDivisionError: division by zero" in (folder / "traceback.txt").read_text()
    assert "# Debugging `average`" in (folder / "DEBUGGING.md").read_text()
    assert job.layout.session_patch(folder.name.removeprefix("average-")).read_bytes() == patch


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_memory_url_receives_the_session_folder_with_inputs(
    outcome: str, start_job: Callable[..., Job], tmp_path: Path
) -> None:
    """save_to=memory:// with save_inputs=True: patch, front page, traceback and inputs."""
    job = start_job(outcome, save_to="memory://debug-sessions/", save_inputs=True)
    status = end_by(job, outcome)
    assert_ended_as_expected(job, outcome, status)
    patch = assert_patch_reproduces_the_edits(job, tmp_path)
    stored = job.memory_files()
    folders = {path.rsplit("/", 1)[0] for path in stored}
    assert len(folders) == 1
    [folder] = folders
    assert folder.startswith("/debug-sessions/average-")
    names = sorted(path.rsplit("/", 1)[1] for path in stored)
    assert names == ["DEBUGGING.md", "changes.patch", "inputs.pkl", "traceback.txt"]
    assert stored[f"{folder}/changes.patch"] == patch
    assert stored[f"{folder}/inputs.pkl"] == job.layout.inputs.read_bytes()


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_an_unreachable_store_is_logged_and_changes_nothing(
    outcome: str, start_job: Callable[..., Job], tmp_path: Path
) -> None:
    """save_to on a loopback port nobody listens on: each upload failure is logged with the
    local path; the job ends exactly as it would have, and the local patch is complete."""
    port = SocketPortAllocator().free_port("127.0.0.1")
    job = start_job(outcome, save_to=f"http://127.0.0.1:{port}/sessions/")
    status = end_by(job, outcome)
    assert_ended_as_expected(job, outcome, status)
    assert_patch_reproduces_the_edits(job, tmp_path)
    assert f"could not save http://127.0.0.1:{port}/sessions/average-" in job.err
    assert "changes.patch: " in job.err and "it stays at" in job.err
