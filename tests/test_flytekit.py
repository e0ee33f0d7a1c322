"""``@task @vscode`` with flytekit itself: the console link, local runs, a task on a cluster.

flytekit replaces ``sys.excepthook`` and makes temporary directories when imported, so each
scenario runs in its own interpreter and this process never imports it. flytekit is in the
``test`` extra. The tests that need it use the ``flytekit_installed`` fixture, which gives
them the ``flytekit`` marker (tests/conftest.py) and fails them, never skips, when it is
missing. No flytekit release installs on Python 3.13 (every one says
``Requires-Python < 3.13``): deselect them there with ``-m "not flytekit"`` (``.ci/run``
does); the ones about running *without* flytekit run everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.session_harness import (
    JobProcess,
    cli,
    job_environment,
    run_entry_script,
    spawn,
    stop_jobs,
)
from tests.waiting import wait_until_gone
from vscode_interactive._compat._flytekit import (
    FLYTEKIT_MODULE,
    flytekit_local_execution,
    recognise_as_class_decorator,
)
from vscode_interactive._decorator import VscodeTask
from vscode_interactive._layout import StateLayout

pytestmark = pytest.mark.integration

HAVE_FLYTEKIT = importlib.util.find_spec(FLYTEKIT_MODULE) is not None

# Modules only a session that opens the IDE loads (see tests/test_lazy_import.py).
SESSION_MODULES = [
    "vscode_interactive._install._ensure",
    "vscode_interactive._supervision._supervisor",
    "vscode_interactive._workspace._prepare",
]


@pytest.fixture
def flytekit_installed() -> None:
    """flytekit must be importable here: a missing one fails (it never skips)."""
    if HAVE_FLYTEKIT:
        return
    if sys.version_info >= (3, 13):
        pytest.fail(
            "no flytekit release installs on Python 3.13+ (Requires-Python < 3.13): "
            'deselect these tests with -m "not flytekit"'
        )
    pytest.fail("flytekit is missing: install the test extra, pip install -e '.[test]'")


def make_job_env(tmp_path: Path) -> dict[str, str]:
    """A job environment on the fake code-server that records its start, and no override."""
    return job_environment(
        tmp_path,
        drop_prefixes=("FLYTE",),
        enable=False,
        FAKE_CS_RECORD=str(tmp_path / "code-server-started.json"),
        PYTHONPATH=os.pathsep.join([str(tmp_path / "ws"), *(p for p in sys.path if p)]),
    )


@pytest.fixture
def job_env(tmp_path: Path) -> dict[str, str]:
    return make_job_env(tmp_path)


def run_python(
    code: str, env: dict[str, str], cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def last_json(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def write_job(tmp_path: Path, source: str) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    job = workspace / "flyte_job.py"
    job.write_text(textwrap.dedent(source).replace("WORKSPACE", repr(str(workspace))))
    return workspace


FAILING_JOB = """
from flytekit import task, workflow
from vscode_interactive import SessionConfig, vscode

CALLS = []


class TaskFailed(Exception):
    pass


@task
@vscode(run_task_first=True, workspace_dir=WORKSPACE, auth="none", port=0, start_timeout=20)
def average(sizes: list[int]) -> float:
    CALLS.append(sizes)
    if not sizes:
        error = TaskFailed("no sizes")
        CALLS.append(error)
        raise error
    return sum(sizes) / len(sizes)


@workflow
def pipeline(sizes: list[int]) -> float:
    return average(sizes=sizes)
"""


@pytest.mark.usefixtures("flytekit_installed")
def test_serialized_task_carries_the_console_link(tmp_path: Path, job_env: dict[str, str]) -> None:
    """flytekit's own translator puts ``link_type: vscode`` and the port into the task
    template's config, for ``@vscode`` bare and with a port."""
    workspace = write_job(
        tmp_path,
        """
        from flytekit import task
        from vscode_interactive import vscode

        @task
        @vscode
        def plain(x: int) -> int:
            return x

        @task
        @vscode(port=8888, run_task_first=True)
        def on_port(x: int) -> int:
            return x
        """,
    )
    done = run_python(
        """
        import json
        from collections import OrderedDict
        from flytekit.configuration import Image, ImageConfig, SerializationSettings
        from flytekit.tools.translator import get_serializable
        import flyte_job

        image = Image(name="default", fqn="registry/job", tag="1")
        settings = SerializationSettings(image_config=ImageConfig(default_image=image))
        configs = {
            name: get_serializable(OrderedDict(), settings, getattr(flyte_job, name))
            .template.config
            for name in ("plain", "on_port")
        }
        print(json.dumps(configs))
        """,
        job_env,
        workspace,
    )
    assert last_json(done) == {
        "plain": {"link_type": "vscode", "port": "8080"},
        "on_port": {"link_type": "vscode", "port": "8888"},
    }


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    """Run the failing workflow and the task locally, as ``pyflyte run`` without --remote."""
    if not HAVE_FLYTEKIT:
        return {}, Path()
    tmp_path = tmp_path_factory.mktemp("local-run")
    job_env = make_job_env(tmp_path)
    workspace = write_job(tmp_path, FAILING_JOB)
    done = run_python(
        """
        import json, sys
        import flyte_job

        report = {}
        try:
            flyte_job.pipeline(sizes=[])
        except flyte_job.TaskFailed as error:
            report["raised_the_task_error"] = error is flyte_job.CALLS[-1]
        report["task_value"] = flyte_job.average(sizes=[2, 4])
        report["calls"] = len([c for c in flyte_job.CALLS if isinstance(c, list)])
        report["session_modules"] = sorted(m for m in sys.modules if m in SESSION_MODULES)
        print(json.dumps(report))
        """.replace("SESSION_MODULES", repr(SESSION_MODULES)),
        job_env,
        workspace,
    )
    return last_json(done), workspace


@pytest.mark.usefixtures("flytekit_installed")
def test_local_workflow_run_raises_the_task_error_and_starts_nothing(
    local_run: tuple[dict[str, object], Path],
) -> None:
    """A local workflow run of a failing task raises the task's own exception object after
    one call, and no IDE, workspace file or session machinery is started."""
    report, workspace = local_run
    assert report["raised_the_task_error"] is True
    assert report["session_modules"] == []
    assert not (workspace.parent / "code-server-started.json").exists()
    assert not StateLayout.for_workspace(workspace).root.exists()


@pytest.mark.usefixtures("flytekit_installed")
def test_local_task_call_is_a_plain_call(local_run: tuple[dict[str, object], Path]) -> None:
    """Calling the task itself locally returns the function's value (two calls in all)."""
    report, _ = local_run
    assert report["task_value"] == 3.0
    assert report["calls"] == 2


@pytest.mark.usefixtures("flytekit_installed")
def test_explicit_settings_win_over_flytekits_state(
    tmp_path: Path, job_env: dict[str, str]
) -> None:
    """flytekit's mode decides unless VSCODE_INTERACTIVE_ENABLE or a context pushed on our
    stack says otherwise; outside any flytekit execution our default (remote) holds."""
    done = run_python(
        """
        import json, os
        from flytekit.core.context_manager import ExecutionState, FlyteContextManager
        from vscode_interactive import ExecutionContext, ExecutionContextManager, Session

        def enabled_in(mode, env=None, ours=None):
            if env is None:
                os.environ.pop("VSCODE_INTERACTIVE_ENABLE", None)
            else:
                os.environ["VSCODE_INTERACTIVE_ENABLE"] = env
            ctx = FlyteContextManager.current_context()
            state = ctx.new_execution_state().with_params(mode=mode)
            with FlyteContextManager.with_context(ctx.with_execution_state(state)):
                if ours is None:
                    return Session().enabled()
                with ExecutionContextManager.with_context(ExecutionContext(local_execution=ours)):
                    return Session().enabled()

        Mode = ExecutionState.Mode
        print(json.dumps({
            "no flytekit execution": enabled_in(None),
            "local workflow": enabled_in(Mode.LOCAL_WORKFLOW_EXECUTION),
            "local task": enabled_in(Mode.LOCAL_TASK_EXECUTION),
            "local, ENABLE=1": enabled_in(Mode.LOCAL_WORKFLOW_EXECUTION, env="1"),
            "local, ours remote": enabled_in(Mode.LOCAL_WORKFLOW_EXECUTION, ours=False),
            "cluster": enabled_in(Mode.TASK_EXECUTION),
            "dynamic on cluster": enabled_in(Mode.DYNAMIC_TASK_EXECUTION),
            "cluster, ENABLE=0": enabled_in(Mode.TASK_EXECUTION, env="0"),
            "cluster, ours local": enabled_in(Mode.TASK_EXECUTION, ours=True),
        }))
        """,
        job_env,
        tmp_path,
    )
    assert last_json(done) == {
        "no flytekit execution": True,
        "local workflow": False,
        "local task": False,
        "local, ENABLE=1": True,
        "local, ours remote": True,
        "cluster": True,
        "dynamic on cluster": True,
        "cluster, ENABLE=0": False,
        "cluster, ours local": False,
    }


DECODE_OUTPUTS = """
import json, sys
from flyteidl.core import literals_pb2

outputs = literals_pb2.LiteralMap()
with open(sys.argv[1], "rb") as f:
    outputs.ParseFromString(f.read())
print(json.dumps({k: v.scalar.primitive.float_value for k, v in outputs.literals.items()}))
"""

ENCODE_INPUTS = """
import sys
from flyteidl.core import literals_pb2

sizes = literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[]))
with open(sys.argv[1], "wb") as f:
    f.write(literals_pb2.LiteralMap(literals={"sizes": sizes}).SerializeToString())
"""


def encode_empty_sizes(tmp_path: Path, env: dict[str, str]) -> Path:
    """The inputs file of a task called with ``sizes=[]``, as Flyte hands it to a pod."""
    inputs = tmp_path / "inputs.pb"
    subprocess.run(
        [sys.executable, "-c", ENCODE_INPUTS, str(inputs)], env=env, check=True, timeout=60
    )
    return inputs


def decoded_outputs(tmp_path: Path, env: dict[str, str]) -> dict[str, float]:
    """The float outputs flytekit wrote for the task, by name."""
    decoded = subprocess.run(
        [sys.executable, "-c", DECODE_OUTPUTS, str(tmp_path / "outputs" / "outputs.pb")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    outputs: dict[str, float] = json.loads(decoded.stdout)
    return outputs


@pytest.fixture
def start_pod(tmp_path: Path, job_env: dict[str, str]) -> Iterator[Callable[[Path], JobProcess]]:
    """Start ``pyflyte-execute`` of ``flyte_job.average`` in a workspace, as a Flyte pod
    does, on inputs ``sizes=[]``; clean up after."""
    started: list[JobProcess] = []

    def start(workspace: Path) -> JobProcess:
        inputs = encode_empty_sizes(tmp_path, job_env)
        argv = [
            str(Path(sys.executable).with_name("pyflyte-execute")),
            *("--inputs", str(inputs), "--output-prefix", str(tmp_path / "outputs")),
            *("--raw-output-data-prefix", str(tmp_path / "raw")),
            *("--resolver", "flytekit.core.python_auto_container.default_task_resolver"),
            *("--", "task-module", "flyte_job", "task-name", "average"),
        ]
        pod = JobProcess(
            workspace=workspace,
            pids_file=tmp_path / "pids.json",
            process=spawn(argv, cwd=workspace, env=job_env),
        )
        started.append(pod)
        return pod

    yield start
    stop_jobs(started)


def debug_fix_and_resume(pod: JobProcess, env: dict[str, str], fix: tuple[str, str]) -> str:
    """What a user does with a failing task's IDE once it is up: the debug entry script
    reproduces the failure in the plain function (it looks through flytekit's task and our
    wrapper instead of opening a second session); the source is fixed (``fix``: old, new)
    and resumed; the task ends well. Returns what the pod wrote to stderr."""
    entry = run_entry_script(pod.layout, env=env, cwd=pod.workspace.parent)
    assert entry.returncode == 1
    assert entry.stderr.strip().splitlines()[-1] == "TaskFailed: no sizes", entry.stderr
    job = pod.workspace / "flyte_job.py"
    job.write_text(job.read_text().replace(*fix))
    resumed = cli("resume", "--yes", env=env, cwd=pod.workspace)
    assert resumed.returncode == 0, resumed.stderr
    assert pod.finish() == 0, pod.err
    assert "TaskFailed: no sizes" in pod.err  # it ran first and failed; then the IDE opened
    return pod.err


@pytest.mark.usefixtures("flytekit_installed")
def test_task_on_a_flyte_cluster_opens_the_ide_and_resumes(
    start_pod: Callable[[Path], JobProcess], tmp_path: Path, job_env: dict[str, str]
) -> None:
    """Under flytekit's task-execution state (``pyflyte-execute``) the failing task opens the
    IDE, whose debug entry script reproduces the failure; after the source is fixed and
    resumed, flytekit writes the fixed task's output."""
    workspace = write_job(tmp_path, FAILING_JOB)
    job = workspace / "flyte_job.py"
    job.write_text(
        job.read_text().replace(
            "@vscode(", "@vscode(session_config=SessionConfig(check_interval=0.2), "
        )
    )
    pod = start_pod(workspace)
    pod.wait_running()
    assert (tmp_path / "code-server-started.json").exists()
    err = debug_fix_and_resume(pod, job_env, ("raise error", "return 0.0"))
    assert not (tmp_path / "outputs" / "error.pb").exists(), err
    assert decoded_outputs(tmp_path, job_env) == {"o0": 0.0}
    wait_until_gone(pod.server_pids())


BLOCK_FLYTEKIT = """
import importlib.abc, sys

ATTEMPTS = []


class NoFlytekit(importlib.abc.MetaPathFinder):
    # Stands for "flytekit is not installed": importing it fails, and the attempt is noted.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "flytekit":
            ATTEMPTS.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoFlytekit())
"""

WITHOUT_FLYTEKIT = """
import json, sys
from vscode_interactive import ExecutionContext, ExecutionContextManager, vscode
from vscode_interactive._context import runs_locally

@vscode(run_task_first=True)
def task(x: int) -> int:
    return x + 1

with ExecutionContextManager.with_context(ExecutionContext(local_execution=True)):
    value = task(1)
print(json.dumps({
    "value": value,
    "link": task.get_extra_config(),
    "remote": not runs_locally(),
    "flytekit": sorted(m for m in sys.modules if m.split(".")[0] == "flytekit"),
    "attempts": globals().get("ATTEMPTS", []),
}))
"""


@pytest.mark.parametrize(
    "installed",
    [False, pytest.param(True, marks=pytest.mark.flytekit)],
    ids=["not installed", "installed, unused"],
)
def test_without_flytekit_in_the_job_nothing_of_it_is_imported(
    tmp_path: Path, job_env: dict[str, str], installed: bool, request: pytest.FixtureRequest
) -> None:
    """A job that does not use flytekit decorates, runs and reads the link without importing
    (or trying to import) flytekit, whether it is installed or not."""
    if installed:
        request.getfixturevalue("flytekit_installed")
    code = WITHOUT_FLYTEKIT if installed else BLOCK_FLYTEKIT + WITHOUT_FLYTEKIT
    report = last_json(run_python(code, job_env, tmp_path))
    assert report == {
        "value": 2,
        "link": {"link_type": "vscode", "port": "8080"},
        "remote": True,
        "flytekit": [],
        "attempts": [],
    }


def test_helpers_answer_no_flytekit_when_the_job_has_not_imported_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without flytekit in ``sys.modules`` there is no execution state to follow and nothing
    to register with, and the helpers do not import it."""
    monkeypatch.delitem(sys.modules, FLYTEKIT_MODULE, raising=False)
    assert flytekit_local_execution() is None
    assert recognise_as_class_decorator(VscodeTask) is False
    assert FLYTEKIT_MODULE not in sys.modules


def test_a_flytekit_without_the_expected_names_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A flytekit whose ClassDecorator or context manager cannot be imported (another
    layout) costs the link and its execution state, with a warning, not the job."""
    monkeypatch.setitem(sys.modules, FLYTEKIT_MODULE, types.ModuleType(FLYTEKIT_MODULE))
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        assert recognise_as_class_decorator(VscodeTask) is False
        assert flytekit_local_execution() is None
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == [
        "flytekit is imported but its ClassDecorator is not available",
        "cannot read flytekit's execution state",
    ]


ASYNC_JOB = """
import asyncio

from flytekit import task
from vscode_interactive import SessionConfig, vscode


class TaskFailed(Exception):
    pass


@task
@vscode(
    session_config=SessionConfig(check_interval=0.2),
    run_task_first=True,
    workspace_dir=WORKSPACE,
    auth="none",
    port=0,
    start_timeout=20,
)
async def average(sizes: list[int]) -> float:
    await asyncio.sleep(0)
    if not sizes:
        raise TaskFailed("no sizes")
    return sum(sizes) / len(sizes)
"""


@pytest.mark.usefixtures("flytekit_installed")
def test_an_async_task_is_flytekits_async_task_with_the_console_link(
    tmp_path: Path, job_env: dict[str, str]
) -> None:
    """``@task @vscode async def``: flytekit sees a coroutine function (an async task) and a
    ClassDecorator (the console link in the task template)."""
    workspace = write_job(tmp_path, ASYNC_JOB)
    done = run_python(
        """
        import json
        from collections import OrderedDict
        from flytekit.configuration import Image, ImageConfig, SerializationSettings
        from flytekit.core.python_function_task import AsyncPythonFunctionTask
        from flytekit.tools.translator import get_serializable
        import flyte_job

        image = Image(name="default", fqn="registry/job", tag="1")
        settings = SerializationSettings(image_config=ImageConfig(default_image=image))
        task = flyte_job.average
        print(json.dumps({
            "async task": isinstance(task, AsyncPythonFunctionTask),
            "config": get_serializable(OrderedDict(), settings, task).template.config,
        }))
        """,
        job_env,
        workspace,
    )
    assert last_json(done) == {
        "async task": True,
        "config": {"link_type": "vscode", "port": "0"},
    }


@pytest.mark.usefixtures("flytekit_installed")
def test_an_async_task_on_a_flyte_cluster_opens_the_ide_and_resumes(
    start_pod: Callable[[Path], JobProcess], tmp_path: Path, job_env: dict[str, str]
) -> None:
    """``pyflyte-execute`` of a failing async task (flytekit awaits it on its own loop
    thread): the IDE opens, the entry script reproduces the failure with asyncio.run, and
    after the fix and a resume flytekit writes the fixed task's output."""
    pod = start_pod(write_job(tmp_path, ASYNC_JOB))
    pod.wait_running()
    debug_fix_and_resume(pod, job_env, ('raise TaskFailed("no sizes")', "return 0.0"))
    assert decoded_outputs(tmp_path, job_env) == {"o0": 0.0}
    wait_until_gone(pod.server_pids())
