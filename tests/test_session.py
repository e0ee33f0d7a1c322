"""Session composition on fakes: the order of steps and how each outcome ends the call."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes import (
    FakeBytesRunner,
    FakeClock,
    FakeEnvironment,
    FakePostMortem,
    FakeUploader,
)
from vscode_interactive import (
    ConfigError,
    IdleTimeoutError,
    ResumeError,
    ServerExitedError,
    ServerStartError,
)
from vscode_interactive._context import ExecutionContext, ExecutionContextManager
from vscode_interactive._edits._record import EditRecord
from vscode_interactive._errors import DebuggerError
from vscode_interactive._install._arch import current_arch
from vscode_interactive._install._ensure import Installation
from vscode_interactive._ports import Interrupts
from vscode_interactive._session import ENV_ENABLE, Session, SessionConfig, summarize_failure
from vscode_interactive._supervision._policy import Outcome
from vscode_interactive._supervision._seams import SupervisionResult, WhileStarting
from vscode_interactive._supervision._server import ServerOptions
from vscode_interactive._workspace import WorkspaceFiles, prepare_workspace


def result(outcome: Outcome, **changes: object) -> SupervisionResult:
    values: dict[str, object] = {
        "outcome": outcome,
        "url": "http://127.0.0.1:8080/",
        "port": 8080,
        "exit_code": 0,
        "log_tail": "last log line",
        "idle_seconds": 30.0,
    }
    values.update(changes)
    return SupervisionResult(**values)  # type: ignore[arg-type]


@dataclass
class FakeSteps:
    """Records every step; supervise() answers with scripted results and side effects."""

    tmp: Path
    results: list[SupervisionResult]
    before_outcome: list[Callable[[], object]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    failures_shown: list[BaseException | None] = field(default_factory=list)
    summaries: list[str | None] = field(default_factory=list)
    options: list[ServerOptions] = field(default_factory=list)
    post_mortems: list[FakePostMortem] = field(default_factory=list)
    endpoints: list[tuple[str, int] | None] = field(default_factory=list)
    debugger_error: Exception | None = None
    claims: list[str] = field(default_factory=list)
    refuse_claim: BaseException | None = None
    supervise_raises: BaseException | None = None

    @contextlib.contextmanager
    def claim(self, config: SessionConfig) -> Iterator[None]:
        """Records "claim"/"release" (in ``claims``, so ``calls`` keeps the work done)."""
        self.claims.append("claim")
        if self.refuse_claim is not None:
            raise self.refuse_claim
        try:
            yield
        finally:
            self.claims.append("release")

    def post_mortem(self, failure: BaseException) -> FakePostMortem:
        self.calls.append("post-mortem")
        if self.debugger_error is not None:
            raise self.debugger_error
        held = FakePostMortem(failure, port=5678 + len(self.post_mortems), log=self.calls)
        self.post_mortems.append(held)
        return held

    uploader: FakeUploader = field(default_factory=FakeUploader)
    records: list[EditRecord] = field(default_factory=list)
    notes: list[str | None] = field(default_factory=list)

    def install(self, config: SessionConfig) -> Installation:
        self.calls.append("install")
        return Installation(
            executable=self.tmp / "bin" / "code-server",
            version="4.139.1",
            user_data_dir=self.tmp / "user-data",
            extensions_dir=self.tmp / "extensions",
            source="cache",
            arch=current_arch(),
            heartbeat_path=self.tmp / "heartbeat",
            env={"HOME": str(self.tmp)},
        )

    def record_edits(self, config: SessionConfig, *, job: str, save_to: str | None) -> EditRecord:
        """A real record on fakes: no git (a scan), uploads into a dict."""
        record = EditRecord(
            config.layout(),
            session_id="20231114T221320Z-abc123",
            job=job,
            runner=FakeBytesRunner(),
            uploader=self.uploader,
            clock=FakeClock(),
            save_to=save_to,
            save_inputs=config.save_inputs,
        )
        self.records.append(record)
        return record

    def prepare(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        *,
        config: SessionConfig,
        failure: BaseException | None,
        post_mortem: tuple[str, int] | None = None,
        edits_note: str | None = None,
    ) -> WorkspaceFiles:
        self.calls.append("prepare")
        self.failures_shown.append(failure)
        self.endpoints.append(post_mortem)
        self.notes.append(edits_note)
        return prepare_workspace(
            fn,
            args,
            kwargs,
            layout=config.layout(),
            python=sys.executable,
            failure=failure,
            post_mortem=post_mortem,
            edits_note=edits_note,
        )

    def supervise(
        self,
        options: ServerOptions,
        *,
        failure_summary: str | None,
        interrupts: Interrupts | None = None,
        while_starting: WhileStarting | None = None,
    ) -> SupervisionResult:
        """As the supervisor: "supervise" (code-server started), then ``while_starting``,
        whose :class:`Prepared` fills the options' banner facts."""
        self.calls.append("supervise")
        if while_starting is not None:
            prepared = while_starting()
            options = dataclasses.replace(
                options, post_mortem=prepared.post_mortem, edits_note=prepared.edits_note
            )
        self.options.append(options)
        self.summaries.append(failure_summary)
        if self.supervise_raises is not None:
            raise self.supervise_raises
        if self.before_outcome:
            self.before_outcome.pop(0)()
        return self.results.pop(0)


@pytest.fixture
def job_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module ``vi_session_job`` with a failing ``divide`` that tests can fix on disk."""
    source = tmp_path / "src" / "vi_session_job.py"
    source.parent.mkdir()
    source.write_text(
        textwrap.dedent(
            """
            def divide(a, b):
                return a / b
            """
        )
    )
    monkeypatch.syspath_prepend(str(source.parent))
    yield source
    sys.modules.pop("vi_session_job", None)


def load_divide() -> Callable[[int, int], float]:
    import importlib

    fn: Callable[[int, int], float] = importlib.import_module("vi_session_job").divide
    return fn


def make_session(
    tmp_path: Path, steps: FakeSteps, env: Mapping[str, str] | None = None, **config: object
) -> Session:
    cfg = SessionConfig(workspace_dir=tmp_path / "ws", **config)  # type: ignore[arg-type]
    return Session(cfg, _env=FakeEnvironment(env or {}), _steps=steps)


def test_resume_reloads_the_edited_function_and_returns_its_value(
    tmp_path: Path, job_module: Path
) -> None:
    """run_task_first fails -> IDE -> source fixed -> RESUMED -> the fixed value returns."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.before_outcome.append(
        lambda: job_module.write_text(
            "def divide(a, b):\n    return a / b if b else float('inf')\n"
        )
    )
    session = make_session(tmp_path, steps, run_task_first=True)
    assert session.run(load_divide(), 1, 0) == float("inf")
    assert steps.calls == ["install", "supervise", "post-mortem", "prepare", "close post-mortem"]
    assert isinstance(steps.failures_shown[0], ZeroDivisionError)
    assert steps.post_mortems[0].failure is steps.failures_shown[0]
    assert steps.endpoints == [("127.0.0.1", 5678)]
    assert steps.options[0].post_mortem is True
    assert steps.summaries == ["ZeroDivisionError: division by zero"]


def test_run_task_first_success_skips_the_ide(tmp_path: Path, job_module: Path) -> None:
    """A function that succeeds first time returns directly; no hook, no install."""
    hooks: list[str] = []
    steps = FakeSteps(tmp_path, [])
    session = make_session(
        tmp_path,
        steps,
        run_task_first=True,
        pre_execute=lambda: hooks.append("pre"),
        post_execute=lambda: hooks.append("post"),
    )
    assert session.run(load_divide(), 6, 3) == 2
    assert steps.calls == []
    assert hooks == []


def test_idle_timeout_raises_chained_to_the_original_failure(
    tmp_path: Path, job_module: Path
) -> None:
    """IDLE_TIMEOUT -> IdleTimeoutError whose __cause__ is the ZeroDivisionError."""
    steps = FakeSteps(tmp_path, [result(Outcome.IDLE_TIMEOUT, idle_seconds=901.0)])
    session = make_session(tmp_path, steps, run_task_first=True, max_idle_seconds=900)
    with pytest.raises(IdleTimeoutError) as info:
        session.run(load_divide(), 1, 0)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert info.value.idle_seconds == 901.0
    assert "901 s" in str(info.value) and "limit 900 s" in str(info.value)


def test_server_exit_raises_with_exit_code_and_log(tmp_path: Path, job_module: Path) -> None:
    """SERVER_EXITED (even with exit code 0) is an error, never taken for a resume."""
    steps = FakeSteps(tmp_path, [result(Outcome.SERVER_EXITED, exit_code=0)])
    session = make_session(tmp_path, steps)
    with pytest.raises(ServerExitedError) as info:
        session.run(load_divide(), 1, 1)
    assert info.value.exit_code == 0
    assert "last log line" in str(info.value)


@pytest.mark.parametrize(
    ("signum", "expected"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit)]
)
def test_interrupted_reraises_like_a_signalled_job(
    tmp_path: Path, job_module: Path, signum: int, expected: type[BaseException]
) -> None:
    """SIGINT -> KeyboardInterrupt; SIGTERM -> SystemExit(143), after post_execute."""
    hooks: list[str] = []
    steps = FakeSteps(tmp_path, [result(Outcome.INTERRUPTED, signal=signum)])
    session = make_session(tmp_path, steps, post_execute=lambda: hooks.append("post"))
    with pytest.raises(expected) as info:
        session.run(load_divide(), 1, 1)
    if isinstance(info.value, SystemExit):
        assert info.value.code == 128 + signal.SIGTERM
    assert hooks == ["post"]


@pytest.mark.parametrize("outcome", [Outcome.RESUMED, Outcome.IDLE_TIMEOUT, Outcome.SERVER_EXITED])
def test_pre_and_post_hooks_run_once_each(
    tmp_path: Path, job_module: Path, outcome: Outcome
) -> None:
    """pre_execute before install, post_execute after the IDE phase, once, in each outcome."""
    order: list[str] = []
    steps = FakeSteps(tmp_path, [result(outcome)])
    steps.calls = order
    session = make_session(
        tmp_path,
        steps,
        pre_execute=lambda: order.append("pre"),
        post_execute=lambda: order.append("post"),
    )
    with contextlib.suppress(IdleTimeoutError, ServerExitedError):
        session.run(load_divide(), 4, 2)
    assert order == ["pre", "install", "supervise", "prepare", "post"]


def test_syntax_error_on_resume_offers_the_ide_again(tmp_path: Path, job_module: Path) -> None:
    """A broken edit is shown in the next IDE round instead of losing the job."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED), result(Outcome.RESUMED)])
    steps.before_outcome += [
        lambda: job_module.write_text("def divide(a, b):\n    b = b\n    return (a / b\n"),
        lambda: job_module.write_text("def divide(a, b):\n    return 42\n"),
    ]
    session = make_session(tmp_path, steps, run_task_first=True)
    assert session.run(load_divide(), 1, 0) == 42
    assert steps.calls == [
        "install",
        "supervise",
        "post-mortem",
        "prepare",
        "supervise",
        "prepare",
        "close post-mortem",
    ]
    assert steps.endpoints[0] == steps.endpoints[1]  # the original failure stays inspectable
    second = steps.failures_shown[1]
    assert type(second).__name__ == "ReloadError"
    assert str(job_module) in str(second)
    assert steps.summaries[1] is not None and "line 3" in steps.summaries[1]
    # The second round lands on the syntax error's line, not on the def line (2).
    raised = steps.options[1].open_files[-1]
    assert (raised.path, raised.line) == (job_module, 3)
    assert steps.claims == ["claim", "release"]  # one IDE phase, one claim


def test_a_failing_resume_reopens_the_ide_on_the_new_failure(
    tmp_path: Path, job_module: Path
) -> None:
    """A resumed call that raises opens the IDE again with a post-mortem of the new failure
    (the previous one closed before the call), as many rounds as needed."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)] * 3)
    steps.before_outcome += [
        lambda: job_module.write_text("def divide(a, b):\n    return [a][b + 1]\n"),
        lambda: job_module.write_text("def divide(a, b):\n    return {}[b]\n"),
        lambda: job_module.write_text("def divide(a, b):\n    return 7\n"),
    ]
    session = make_session(tmp_path, steps, run_task_first=True)
    assert session.run(load_divide(), 1, 0) == 7
    shown = [type(failure).__name__ for failure in steps.failures_shown]
    assert shown == ["ZeroDivisionError", "IndexError", "KeyError"]
    assert [held.failure for held in steps.post_mortems] == steps.failures_shown
    assert all(held.closed for held in steps.post_mortems)
    assert steps.endpoints == [("127.0.0.1", 5678), ("127.0.0.1", 5679), ("127.0.0.1", 5680)]
    assert steps.calls.count("install") == 1


def test_abort_ends_the_job_with_the_latest_failure_chained_to_the_first(
    tmp_path: Path, job_module: Path
) -> None:
    """ABORTED after a failing resume raises that failure, caused by the first one."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED), result(Outcome.ABORTED)])
    steps.before_outcome.append(
        lambda: job_module.write_text("def divide(a, b):\n    return [a][b + 1]\n")
    )
    session = make_session(tmp_path, steps, run_task_first=True)
    with pytest.raises(IndexError) as raised:
        session.run(load_divide(), 1, 0)
    assert isinstance(raised.value.__cause__, ZeroDivisionError)
    assert all(held.closed for held in steps.post_mortems)


def test_abort_in_the_first_round_raises_the_original_failure(
    tmp_path: Path, job_module: Path
) -> None:
    """ABORTED with only the original failure raises it unchanged."""
    steps = FakeSteps(tmp_path, [result(Outcome.ABORTED)])
    session = make_session(tmp_path, steps, run_task_first=True)
    with pytest.raises(ZeroDivisionError) as raised:
        session.run(load_divide(), 1, 0)
    assert raised.value.__cause__ is None


def test_abort_before_any_failure_is_a_resume_error(tmp_path: Path, job_module: Path) -> None:
    """Without run_task_first there is no failure to end with: a clear ResumeError."""
    steps = FakeSteps(tmp_path, [result(Outcome.ABORTED)])
    session = make_session(tmp_path, steps)
    with pytest.raises(ResumeError, match="aborted before the task failed"):
        session.run(load_divide(), 1, 0)
    assert steps.post_mortems == []


def test_without_a_debugger_the_session_goes_on_without_post_mortem(
    tmp_path: Path, job_module: Path
) -> None:
    """A debugger that cannot start is logged; the IDE opens with no Post-mortem entry."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.debugger_error = DebuggerError("post-mortem debugging needs debugpy")
    steps.before_outcome.append(lambda: job_module.write_text("def divide(a, b):\n    return 1\n"))
    session = make_session(tmp_path, steps, run_task_first=True)
    assert session.run(load_divide(), 1, 0) == 1
    assert steps.endpoints == [None]
    assert steps.options[0].post_mortem is False


def test_disabled_session_is_a_plain_call(tmp_path: Path, job_module: Path) -> None:
    """enable=False calls the function; nothing is installed or written."""
    steps = FakeSteps(tmp_path, [])
    session = make_session(tmp_path, steps, enable=False)
    assert session.run(load_divide(), 9, 3) == 3
    with pytest.raises(ZeroDivisionError):
        session.run(load_divide(), 1, 0)
    assert steps.calls == []
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(("value", "enabled"), [("0", False), ("1", True), ("off", False)])
def test_environment_switch_overrides_config(tmp_path: Path, value: str, enabled: bool) -> None:
    """VSCODE_INTERACTIVE_ENABLE wins over enable= in both directions."""
    steps = FakeSteps(tmp_path, [])
    assert make_session(tmp_path, steps, {ENV_ENABLE: value}, enable=not enabled).enabled() is (
        enabled
    )


def test_bad_environment_switch_is_a_clear_error(tmp_path: Path) -> None:
    """A value that is not a switch names the variable and what to use."""
    session = make_session(tmp_path, FakeSteps(tmp_path, []), {ENV_ENABLE: "maybe"})
    with pytest.raises(ConfigError, match=r"VSCODE_INTERACTIVE_ENABLE='maybe'.*use 1"):
        session.enabled()


def test_local_execution_context_is_a_plain_call(tmp_path: Path, job_module: Path) -> None:
    """In a local execution context the function just runs."""
    steps = FakeSteps(tmp_path, [])
    session = make_session(tmp_path, steps)
    with ExecutionContextManager.with_context(ExecutionContext(local_execution=True)):
        assert session.run(load_divide(), 8, 2) == 4
    assert steps.calls == []


def test_server_options_come_from_config_and_installation(tmp_path: Path, job_module: Path) -> None:
    """Host, port, auth, limits and the installation's env reach the supervisor."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    session = make_session(
        tmp_path,
        steps,
        host="0.0.0.0",
        port=0,
        auth="password",
        max_idle_seconds=60,
        check_interval=30,
        max_lifetime_seconds=600,
    )
    assert session.run(load_divide(), 3, 1) == 3
    options = steps.options[0]
    assert (options.host, options.port, options.auth) == ("0.0.0.0", 0, "password")
    assert options.max_idle_seconds == 60
    assert options.check_interval == 10.0  # capped: idle is noticed within 10 s
    assert options.max_lifetime_seconds == 600
    assert options.extra_env["HOME"] == str(tmp_path)
    assert options.executable == tmp_path / "bin" / "code-server"
    assert options.layout.workspace == tmp_path / "ws"


def test_summarize_failure_is_one_short_line() -> None:
    """The banner summary is the exception type and first line, truncated."""
    assert summarize_failure(ValueError("bad\nsecond line")) == "ValueError: bad"
    assert summarize_failure(None) is None
    long = summarize_failure(RuntimeError("x" * 500))
    assert long is not None and len(long) == 200 and long.endswith("...")
    assert summarize_failure(KeyError()) == "KeyError"


def test_the_ide_opens_on_the_front_page_and_the_line_that_raised(
    tmp_path: Path, job_module: Path
) -> None:
    """The server options carry the workspace's open_first: DEBUGGING.md, then the line
    of the job's source that raised."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.before_outcome.append(
        lambda: job_module.write_text("def divide(a, b):\n    return 0.0\n")
    )
    session = make_session(tmp_path, steps, run_task_first=True)
    assert session.run(load_divide(), 1, 0) == 0.0
    front, raised = steps.options[0].open_files
    assert front.path == session.config.layout().front_page and front.line == 1
    assert (raised.path, raised.line) == (job_module, 3)


# -- options checked, workspace and port claimed, before any work (issue 18, points 1, 12) ----


def test_invalid_options_fail_before_the_task_and_before_any_work(
    tmp_path: Path, job_module: Path
) -> None:
    """A non-loopback host without auth is refused before the task runs, before install
    and before a single file is written."""
    ran: list[int] = []

    def task() -> None:
        ran.append(1)

    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    session = make_session(tmp_path, steps, run_task_first=True, host="0.0.0.0", auth="none")
    with pytest.raises(ConfigError, match=r"refusing to serve code-server on 0\.0\.0\.0"):
        session.run(task)
    assert ran == [] and steps.calls == [] and steps.claims == []
    assert not (tmp_path / "ws").exists()


def test_a_refused_claim_stops_before_install_and_chains_to_the_failure(
    tmp_path: Path, job_module: Path
) -> None:
    """A busy workspace (or a taken port) is found before install and before the workspace
    is written; the error's cause is the task's original failure."""
    steps = FakeSteps(tmp_path, [])
    steps.refuse_claim = ServerStartError("another session (pid 1) holds the workspace")
    session = make_session(tmp_path, steps, run_task_first=True)
    with pytest.raises(ServerStartError, match="holds the workspace") as info:
        session.run(load_divide(), 1, 0)
    assert steps.claims == ["claim"] and steps.calls == []
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_an_error_of_the_ide_phase_chains_to_the_original_failure(
    tmp_path: Path, job_module: Path
) -> None:
    """A start error after the task failed keeps the task's failure as its cause; one that
    has its own cause keeps it and gets the failure at the root of its chain."""
    steps = FakeSteps(tmp_path, [])
    steps.supervise_raises = ServerStartError("code-server exited with code 1")
    session = make_session(tmp_path, steps, run_task_first=True)
    with pytest.raises(ServerStartError) as info:
        session.run(load_divide(), 1, 0)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert "supervise" in steps.calls and steps.claims == ["claim", "release"]
    low = OSError("cannot exec")
    caused = ServerStartError("cannot start code-server")
    caused.__cause__ = low
    steps = FakeSteps(tmp_path, [])
    steps.supervise_raises = caused
    with pytest.raises(ServerStartError) as info:
        make_session(tmp_path, steps, run_task_first=True).run(load_divide(), 1, 0)
    assert info.value.__cause__ is low
    assert isinstance(low.__context__, ZeroDivisionError)


# --- the record of the edits (vscode_interactive._edits) ---------------------------------


def _edit_during_the_session(workspace: Path) -> Callable[[], object]:
    def edit() -> None:
        (workspace / "notes.py").write_text("edited = True\n")

    return edit


@pytest.mark.parametrize(
    ("outcome", "raised"),
    [
        (Outcome.RESUMED, None),
        (Outcome.IDLE_TIMEOUT, IdleTimeoutError),
        (Outcome.SERVER_EXITED, ServerExitedError),
        (Outcome.INTERRUPTED, SystemExit),
    ],
)
def test_every_outcome_writes_the_patch_of_the_edits(
    tmp_path: Path, job_module: Path, outcome: Outcome, raised: type[BaseException] | None
) -> None:
    """Whatever ends the supervision, changes.patch holds what changed during it, and the
    outcome is what it would have been without the record."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "notes.py").write_text("edited = False\n")
    steps = FakeSteps(tmp_path, [result(outcome, signal=signal.SIGTERM)])
    steps.before_outcome.append(_edit_during_the_session(workspace))
    session = make_session(tmp_path, steps)
    if raised is None:
        assert session.run(load_divide(), 4, 2) == 2
    else:
        with pytest.raises(raised):
            session.run(load_divide(), 4, 2)
    patch = (workspace / ".vscode-interactive" / "changes.patch").read_text()
    assert "-edited = False\n+edited = True\n" in patch
    assert f"ended by: {outcome.value.replace('_', ' ')}" in patch


def test_an_error_in_the_session_still_writes_the_patch(tmp_path: Path, job_module: Path) -> None:
    """supervise raising (code-server never started) leaves the patch and the error."""
    workspace = tmp_path / "ws"
    workspace.mkdir()

    class Broken(FakeSteps):
        def supervise(
            self,
            options: ServerOptions,
            *,
            failure_summary: str | None,
            interrupts: Interrupts | None = None,
            while_starting: WhileStarting | None = None,
        ) -> SupervisionResult:
            assert while_starting is not None
            while_starting()
            (workspace / "new.py").write_text("x = 1\n")
            raise ConfigError("bad options")

    session = make_session(tmp_path, Broken(tmp_path, []))
    with pytest.raises(ConfigError):
        session.run(load_divide(), 4, 2)
    patch = (workspace / ".vscode-interactive" / "changes.patch").read_text()
    assert "+++ b/new.py" in patch and "ended by: an error in the session" in patch


def test_save_to_from_the_environment_receives_the_session_files(
    tmp_path: Path, job_module: Path
) -> None:
    """$VSCODE_INTERACTIVE_SAVE_TO: the front page, the traceback and the patch land in one
    folder named after the job; the inputs only with save_inputs."""
    steps = FakeSteps(tmp_path, [result(Outcome.IDLE_TIMEOUT)])
    session = make_session(
        tmp_path, steps, {"VSCODE_INTERACTIVE_SAVE_TO": "memory://debug"}, run_task_first=True
    )
    with pytest.raises(IdleTimeoutError):
        session.run(load_divide(), 1, 0)
    names = sorted(url.rsplit("/", 1)[1] for url in steps.uploader.files)
    assert names == ["DEBUGGING.md", "changes.patch", "traceback.txt"]
    folders = {url.rsplit("/", 1)[0] for url in steps.uploader.files}
    assert folders == {"memory://debug/divide-20231114T221320Z-abc123"}
    assert (
        "ZeroDivisionError"
        in steps.uploader.files[
            "memory://debug/divide-20231114T221320Z-abc123/traceback.txt"
        ].decode()
    )


def test_a_failing_upload_does_not_change_the_outcome(tmp_path: Path, job_module: Path) -> None:
    """The store refuses every file: the job still resumes and returns its value."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    steps.uploader = FakeUploader(fail=ConnectionRefusedError(111, "Connection refused"))
    session = make_session(tmp_path, steps, save_to="s3://unreachable/", save_inputs=True)
    assert session.run(load_divide(), 4, 2) == 2
    assert steps.uploader.files == {}


def test_banner_and_front_page_get_the_edits_note(tmp_path: Path, job_module: Path) -> None:
    """The same sentence reaches prepare (the front page) and the server options (banner);
    an empty save_to overrides the environment."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)])
    env = {"VSCODE_INTERACTIVE_SAVE_TO": "memory://ignored"}
    make_session(tmp_path, steps, env, save_to="").run(load_divide(), 4, 2)
    [note] = steps.notes
    assert note is not None and "nothing is saved off this machine" in note
    assert steps.options[0].edits_note == note
    front_page = tmp_path / "ws" / ".vscode-interactive" / "DEBUGGING.md"
    assert f"- Your edits: {note}" in front_page.read_text()
    assert steps.uploader.files == {}


def test_one_record_spans_every_round_of_a_run(tmp_path: Path) -> None:
    """A resume whose call fails again opens another round: the patch after it holds the
    edits of both rounds, one session folder receives it, the start copies go at the end."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    job = workspace / "vi_rounds_job.py"
    job.write_text("def divide(a, b):\n    return a / b\n")
    sys.path.insert(0, str(workspace))
    try:
        import importlib

        divide = importlib.import_module("vi_rounds_job").divide
        steps = FakeSteps(tmp_path, [result(Outcome.RESUMED)] * 2)
        steps.before_outcome += [
            lambda: job.write_text("def divide(a, b):\n    return [a][b + 1]\n"),
            lambda: job.write_text("def divide(a, b):\n    return 7\n"),
        ]
        session = make_session(tmp_path, steps, save_to="memory://rounds", run_task_first=True)
        assert session.run(divide, 1, 0) == 7
    finally:
        sys.path.remove(str(workspace))
        sys.modules.pop("vi_rounds_job", None)
    [record] = steps.records
    patch = (workspace / ".vscode-interactive" / "changes.patch").read_text()
    assert "-    return a / b\n+    return 7\n" in patch
    assert {url.rsplit("/", 2)[1] for url in steps.uploader.files} == {
        "divide-20231114T221320Z-abc123"
    }
    assert not record.base.exists()


def test_a_session_run_twice_records_each_run_on_its_own(tmp_path: Path, job_module: Path) -> None:
    """The same Session object used for two calls starts a fresh record for the second."""
    steps = FakeSteps(tmp_path, [result(Outcome.RESUMED), result(Outcome.RESUMED)])
    session = make_session(tmp_path, steps)
    assert session.run(load_divide(), 4, 2) == 2
    assert session.run(load_divide(), 9, 3) == 3
    first, second = steps.records
    assert first is not second and not first.base.exists() and not second.base.exists()
