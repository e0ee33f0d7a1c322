"""The generated scripts, run in real ``python`` subprocesses.

Each scenario is a small job: a driver script captures a call with ``prepare_workspace``
and prints the call's real result; the generated entry script, run in a fresh
interpreter from another directory, must print the same result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vscode_interactive._layout import StateLayout
from vscode_interactive._workspace._scripts import render_resume_script

pytestmark = pytest.mark.integration

DRIVER = """\
import sys
from vscode_interactive import prepare_workspace
from vscode_interactive._layout import StateLayout
{imports}

def capture_and_run():
    args, kwargs = {call}
    prepare_workspace({function}, args, kwargs,
                      layout=StateLayout.for_workspace(sys.argv[1]), python=sys.executable)
    print(repr({function}(*args, **kwargs)))
"""


def _env(pythonpath: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _run(
    argv: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def _job(proj: Path, imports: str, function: str, call: str, main_block: bool = True) -> Path:
    text = DRIVER.format(imports=imports, function=function, call=call)
    if main_block:
        text += '\nif __name__ == "__main__":\n    capture_and_run()\n'
    return _write(proj / "job.py", text)


def _reproduce(
    tmp_path: Path, proj: Path, env: dict[str, str]
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """Run the job, then the entry script from elsewhere; (job's result, entry run)."""
    job = _run([str(proj / "job.py"), str(proj)], cwd=proj, env=env)
    assert job.returncode == 0, job.stderr
    entry = StateLayout.for_workspace(proj).entry_script
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return job.stdout.strip(), _run([str(entry)], cwd=elsewhere, env=env)


OPS = """\
from dataclasses import dataclass

@dataclass
class Scale:
    factor: float

def scale(values, by, *, offset=0):
    return [v * by.factor + offset for v in values]
"""


def test_entry_script_reproduces_a_function_from_an_installed_package(tmp_path: Path) -> None:
    """A function (and argument class) from a package on the interpreter's path."""
    site = tmp_path / "site"
    _write(site / "fakepkg" / "__init__.py", "")
    _write(site / "fakepkg" / "ops.py", OPS)
    proj = tmp_path / "proj"
    _job(
        proj,
        "from fakepkg.ops import Scale, scale",
        "scale",
        "([1, 2, 3], Scale(2.5)), {'offset': 1}",
    )
    expected, entry = _reproduce(tmp_path, proj, _env(site))
    assert entry.returncode == 0, entry.stderr
    assert expected == "[3.5, 6.0, 8.5]"
    assert entry.stdout.strip().splitlines()[-1] == f"scale returned: {expected}"


def test_entry_script_reproduces_a_function_from_a_module_beside_the_job(tmp_path: Path) -> None:
    """A plain module importable only from the job's directory, run from another directory."""
    proj = tmp_path / "proj"
    _write(
        proj / "tasks.py", "def mean(xs, *, weight=1.0):\n    return sum(xs) * weight / len(xs)\n"
    )
    _job(proj, "from tasks import mean", "mean", "([1, 2, 6],), {'weight': 0.5}")
    expected, entry = _reproduce(tmp_path, proj, _env())
    assert entry.returncode == 0, entry.stderr
    assert entry.stdout.strip().splitlines()[-1] == f"mean returned: {expected}"


MAIN_JOB = """\
import sys
from dataclasses import dataclass
from pathlib import Path

from vscode_interactive import prepare_workspace
from vscode_interactive._layout import StateLayout


@dataclass
class Point:
    x: float
    y: float


def norm(p, *, scale):
    return (p.x ** 2 + p.y ** 2) ** 0.5 * scale


if __name__ == "__main__":
    with open(Path(__file__).with_name("main-block-runs.txt"), "a") as log:
        log.write("ran\\n")
    args, kwargs = (Point(3.0, 4.0),), {"scale": 2}
    prepare_workspace(norm, args, kwargs,
                      layout=StateLayout.for_workspace(sys.argv[1]), python=sys.executable)
    print(repr(norm(*args, **kwargs)))
"""


def test_entry_script_reproduces_a_function_of_the_main_script(tmp_path: Path) -> None:
    """A function and argument class from ``__main__``, without re-running its main block."""
    proj = tmp_path / "proj"
    _write(proj / "job.py", MAIN_JOB)
    expected, entry = _reproduce(tmp_path, proj, _env())
    assert entry.returncode == 0, entry.stderr
    assert expected == "10.0"
    assert entry.stdout.strip().splitlines()[-1] == f"norm returned: {expected}"
    assert (proj / "main-block-runs.txt").read_text() == "ran\n"  # only the job's own run


def test_entry_script_calls_the_function_inside_our_decorator(tmp_path: Path) -> None:
    """The name in the module is our wrapper; the entry script calls what it wraps."""
    proj = tmp_path / "proj"
    _write(
        proj / "tasks.py",
        """\
        import functools

        def session(fn):
            @functools.wraps(fn)
            def wrapper(*a, **k):
                raise RuntimeError("would start a second IDE session")
            wrapper.__vscode_interactive_wrapper__ = True
            return wrapper

        def double(x):
            return 2 * x

        double_inner = double
        double = session(double)
        """,
    )
    # The session is handed the undecorated function, as our decorator would do.
    _job(proj, "from tasks import double_inner as double", "double", "(21,), {}")
    _, entry = _reproduce(tmp_path, proj, _env())
    assert entry.returncode == 0, entry.stderr
    assert entry.stdout.strip().splitlines()[-1] == "double returned: 42"


def test_entry_script_looks_through_an_outer_layer_that_copied_our_marker(
    tmp_path: Path,
) -> None:
    """An outer ``update_wrapper`` layer (as flytekit's ``@task`` over ``@vscode``) copies our
    marker; the entry script still calls the plain function, not our wrapper."""
    proj = tmp_path / "proj"
    _write(
        proj / "tasks.py",
        """\
        import functools

        def session(fn):
            @functools.wraps(fn)
            def wrapper(*a, **k):
                raise RuntimeError("would start a second IDE session")
            wrapper.__vscode_interactive_wrapper__ = True
            return wrapper

        class Task:
            def __call__(self, *a, **k):
                raise RuntimeError("the outer layer is not the function")

        def double(x):
            return 2 * x

        double_inner = double
        double = functools.update_wrapper(Task(), session(double))
        assert double.__vscode_interactive_wrapper__
        """,
    )
    _job(proj, "from tasks import double_inner as double", "double", "(21,), {}")
    _, entry = _reproduce(tmp_path, proj, _env())
    assert entry.returncode == 0, entry.stderr
    assert entry.stdout.strip().splitlines()[-1] == "double returned: 42"


ASYNC_JOB = """\
import asyncio
import sys

from vscode_interactive import prepare_workspace, vscode
from vscode_interactive._layout import StateLayout


@vscode(enable=False)
async def scaled(values, *, by):
    await asyncio.sleep(0)  # a real suspension point before the check, not a wait
    if by < 0:
        raise ValueError(f"negative factor {by}")
    return [v * by for v in values]


if __name__ == "__main__":
    args, kwargs = ([1, 2],), {"by": int(sys.argv[2])}
    prepare_workspace(scaled.task_function, args, kwargs,
                      layout=StateLayout.for_workspace(sys.argv[1]), python=sys.executable)
    print(repr(asyncio.run(scaled(*args, **kwargs))))
"""


@pytest.mark.parametrize("factor", [3, -1])
def test_entry_script_awaits_a_coroutine_function_with_asyncio_run(
    tmp_path: Path, factor: int
) -> None:
    """An ``@vscode async def`` is awaited (asyncio.run) by the entry script: its value is
    printed, or its exception's traceback runs through the coroutine's own line."""
    proj = tmp_path / "proj"
    _write(proj / "job.py", ASYNC_JOB)
    job = _run([str(proj / "job.py"), str(proj), str(factor)], cwd=proj, env=_env())
    entry = _run([str(StateLayout.for_workspace(proj).entry_script)], cwd=tmp_path, env=_env())
    if factor > 0:
        assert job.returncode == 0, job.stderr
        assert job.stdout.strip() == "[3, 6]"
        assert entry.returncode == 0, entry.stderr
        assert entry.stdout.strip().splitlines()[-1] == "scaled returned: [3, 6]"
        return
    assert "ValueError: negative factor -1" in job.stderr
    assert entry.returncode == 1
    assert entry.stderr.strip().splitlines()[-1] == "ValueError: negative factor -1"
    assert f'File "{proj / "job.py"}", line 12, in scaled' in entry.stderr
    assert "was never awaited" not in entry.stderr


def test_unpicklable_argument_is_reported_until_the_user_sets_it(tmp_path: Path) -> None:
    """The script names the argument and the error, exits 2, and runs once it is assigned."""
    proj = tmp_path / "proj"
    _write(proj / "tasks.py", "def apply(xs, *, callback):\n    return [callback(x) for x in xs]\n")
    _job(proj, "from tasks import apply", "apply", "([-1, 2],), {'callback': lambda x: -x}")
    expected, entry = _reproduce(tmp_path, proj, _env())
    assert expected == "[1, -2]"
    assert entry.returncode == 2
    # The line names the input and carries pickle's own reason, whatever its wording
    # (3.10-3.12: "Can't pickle local object", 3.13: "Can't get local object").
    (line,) = [line for line in entry.stderr.splitlines() if "'callback'" in line]
    assert line.startswith("input 'callback' (function) was not captured: ")
    assert "capture_and_run.<locals>.<lambda>" in line
    assert "Assign a value to it in main()" in entry.stderr
    script = StateLayout.for_workspace(proj).entry_script
    example = (
        "    #     kwargs['callback'] = ...  # callback: function, NOT CAPTURED: set it to run\n"
    )
    text = script.read_text()
    assert example in text
    script.write_text(text.replace(example, example + "    kwargs['callback'] = abs\n"))
    again = _run([str(script)], cwd=tmp_path, env=_env())
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "apply returned: [1, 2]"


def test_inputs_load_shared_and_a_load_failure_is_reported_per_input(tmp_path: Path) -> None:
    """Arguments sharing an object share it again; one that cannot be loaded in the entry
    script is reported by name, and so are the ones stored after it."""
    proj = tmp_path / "proj"
    _write(
        proj / "tasks.py",
        """\
        import os

        def same(a, b):
            return a is b

        def _load_fails():
            if os.environ.get("IN_ENTRY"):
                raise RuntimeError("not here")
            return Fragile()

        class Fragile:
            def __reduce__(self):
                return (_load_fails, ())
        """,
    )
    _job(proj, "from tasks import same", "same", "([[1]] * 2), {}")
    _, entry = _reproduce(tmp_path, proj, _env())
    assert entry.returncode == 0, entry.stderr
    assert entry.stdout.strip().splitlines()[-1] == "same returned: True"
    _job(proj, "from tasks import same, Fragile", "same", "(Fragile(),), {'b': 3}")
    job = _run([str(proj / "job.py"), str(proj)], cwd=proj, env=_env())
    assert job.returncode == 0, job.stderr
    script = StateLayout.for_workspace(proj).entry_script
    again = _run([str(script)], cwd=tmp_path, env={**_env(), "IN_ENTRY": "1"})
    assert again.returncode == 2
    assert "input 'a' (tasks.Fragile) was not captured: saved, but cannot be loaded" in (
        again.stderr
    )
    assert "input 'b' (int) was not captured: not loaded: input 'a' before it" in again.stderr


def test_edited_input_changes_the_reproduced_call(tmp_path: Path) -> None:
    """Following the comment's example, a captured input can be replaced before re-running."""
    proj = tmp_path / "proj"
    _write(proj / "tasks.py", "def add(a, b):\n    return a + b\n")
    _job(proj, "from tasks import add", "add", "(1, 2), {}")
    _, entry = _reproduce(tmp_path, proj, _env())
    assert entry.stdout.strip().splitlines()[-1] == "add returned: 3"
    script = StateLayout.for_workspace(proj).entry_script
    example = "    #     args[1] = ...  # b: int\n"
    text = script.read_text()
    assert example in text
    script.write_text(text.replace(example, example + "    args[1] = 40\n"))
    again = _run([str(script)], cwd=tmp_path, env=_env())
    assert again.stdout.strip().splitlines()[-1] == "add returned: 41"


STUB = """\
from pathlib import Path
from vscode_interactive import ResumeError

def request_resume(state_dir, *, timeout=5.0):
    calls = Path(state_dir) / "calls.txt"
    with calls.open("a") as log:
        log.write(f"{state_dir} {timeout}\\n")
    if (Path(state_dir) / "nobody-listens").exists():
        raise ResumeError(f"no session is listening on {state_dir}/resume.sock")
    return "resuming the job"
"""


def _resume_setup(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    state = tmp_path / "ws" / ".vscode-interactive"
    state.mkdir(parents=True)
    stubs = _write(tmp_path / "stubs" / "fake_channel_stub.py", STUB).parent
    script = state / "resume.py"
    script.write_text(
        render_resume_script(
            state_dir=state,
            script_path=script,
            python=sys.executable,
            label="pkg.train()",
            job_pid=4242,
            channel_module="fake_channel_stub",
        )
    )
    return state, script, _env(stubs)


def test_resume_with_yes_sends_the_request_and_prints_the_answer(tmp_path: Path) -> None:
    """``--yes`` skips the question, calls the channel once, prints the ack, exits 0."""
    state, script, env = _resume_setup(tmp_path)
    done = _run([str(script), "--yes", "--timeout", "2.5"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Resumed: resuming the job"
    assert (state / "calls.txt").read_text() == f"{state} 2.5\n"


def test_resume_without_an_answer_on_stdin_does_nothing(tmp_path: Path) -> None:
    """No terminal and no ``--yes``: treated as "no", nothing sent, exit 1, says how."""
    state, script, env = _resume_setup(tmp_path)
    declined = _run([str(script)], cwd=tmp_path, env=env)
    assert declined.returncode == 1
    assert "Pass --yes" in declined.stdout and "Not resumed" in declined.stdout
    assert not (state / "calls.txt").exists()


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("yes\n", 0), ("n\n", 1), ("\n", 1)])
def test_resume_asks_before_sending(tmp_path: Path, answer: str, code: int) -> None:
    """The question names the job and warns about unsaved files; only yes sends."""
    state, script, env = _resume_setup(tmp_path)
    run = _run([str(script)], cwd=tmp_path, env=env, stdin=answer)
    assert "resumes the job (pid 4242), which calls pkg.train() again" in run.stdout
    assert "unsaved editor changes are lost" in run.stdout
    assert run.returncode == code
    assert (state / "calls.txt").exists() == (code == 0)


def test_resume_failure_is_reported_with_exit_1(tmp_path: Path) -> None:
    """When nobody listens the channel's error is printed on stderr and the exit is 1."""
    state, script, env = _resume_setup(tmp_path)
    (state / "nobody-listens").touch()
    failed = _run([str(script), "-y"], cwd=tmp_path, env=env)
    assert failed.returncode == 1
    assert f"Not resumed: no session is listening on {state}/resume.sock" in failed.stderr


def test_resume_usage_error_exits_2(tmp_path: Path) -> None:
    """An unknown option is a usage error (exit 2) and sends nothing."""
    state, script, env = _resume_setup(tmp_path)
    assert _run([str(script), "--bogus"], cwd=tmp_path, env=env).returncode == 2
    assert not (state / "calls.txt").exists()
