"""``Session``: the composition of one session (the flow is drawn in the package docstring)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._errors import ReloadError

# Only what defining SessionConfig and @vscode needs is imported here: a job imports this
# module at start-up, and the installer, supervisor, workspace writer and reloader (with
# urllib, ssl, inspect, ...) are needed only once a session opens the IDE.
if TYPE_CHECKING:
    from collections.abc import Awaitable

    from .._distributed._job import DistributedJob, HostHooks, JobSeams
    from .._distributed._ranks import RankInfo
    from .._edits._record import EditRecord
    from .._install._ensure import Installation
    from .._install._prefetch import BackgroundInstall
    from .._ports import Environment, Interrupts, PostMortemHandle
    from .._supervision._seams import SupervisionResult
    from .._supervision._server import ServerOptions
    from .._workspace import WorkspaceFiles


from ._config import ENV_ENABLE, Call, P, R, SessionConfig, _logger, _parse_enable
from ._steps import RealSteps, SessionSteps


def summarize_failure(failure: BaseException | None) -> str | None:
    """``ZeroDivisionError: division by zero`` (first line, at most 200 characters)."""
    if failure is None:
        return None
    text = str(failure).strip().splitlines()
    summary = f"{type(failure).__name__}: {text[0]}" if text else type(failure).__name__
    return summary if len(summary) <= 200 else summary[:197] + "..."


class Session:
    """One debugging session around one function call.

    ``Session()`` uses the defaults; ``Session(config).run(fn, *args, **kwargs)`` returns
    what ``fn`` (or, after a resume, its edited version) returns, or raises what it raises.
    ``_env``, ``_steps``, ``_job_seams`` and ``_prefetch`` are private seams for tests
    (the environment read for ``$VSCODE_INTERACTIVE_ENABLE`` and the launcher's ranks,
    the install/prepare/supervise steps, the effects of a multi-process job, what starts
    the background install: by default the real one with the real steps, none with
    others).
    """

    def __init__(
        self,
        config: SessionConfig | None = None,
        *,
        _env: Environment | None = None,
        _steps: SessionSteps | None = None,
        _job_seams: JobSeams | None = None,
        _prefetch: Prefetcher | None = None,
    ) -> None:
        self.config = config if config is not None else SessionConfig()
        if _env is None:
            from .._system._os import OsEnvironment

            _env = OsEnvironment()
        self._env = _env
        self._steps: SessionSteps = _steps if _steps is not None else RealSteps()
        self._job_seams = _job_seams
        self._installation: Installation | None = None
        self._edits: EditRecord | None = None
        if _prefetch is None and _steps is None:
            _prefetch = _real_prefetch
        self._prefetcher = _prefetch
        self._prefetch: BackgroundInstall | None = None

    def enabled(self) -> bool:
        """Whether ``run`` opens the IDE: ``$VSCODE_INTERACTIVE_ENABLE`` if set, else not
        in a local run (:func:`~vscode_interactive._context.runs_locally`: our execution
        context, or flytekit's) and ``config.enable``."""
        forced = _parse_enable(self._env.get(ENV_ENABLE))
        if forced is not None:
            return forced
        from .._context import runs_locally

        if runs_locally():
            return False
        return self.config.enable

    def run(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn`` inside a debugging session (see the module docstring for the flow).

        For an ``async def`` function use :meth:`arun`: this raises ``TypeError``."""
        from .._decorator import function_kind

        if function_kind(fn, "Session.run()") == "async":
            raise TypeError(
                f"Session.run() got the coroutine function {_name(fn)}; calling it would only "
                "create a coroutine, and its failure would happen outside the session. Use "
                "`await Session(config).arun(fn, *args, **kwargs)` (or decorate it with @vscode)"
            )
        if not self.enabled():
            return fn(*args, **kwargs)
        return self._run_enabled(fn, args, kwargs, call=_call_here)  # type: ignore[no-any-return]

    async def arun(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """The async twin of :meth:`run`: ``await`` it with an ``async def`` function.

        ``fn`` is awaited in the caller's task; the IDE phase (install, workspace,
        code-server, pre/post_execute, re-import) runs in a worker thread, so the event
        loop's other tasks keep running. Cancelling the awaiting task stops the IDE
        (post_execute once, no process left) and raises ``CancelledError``; SIGTERM/SIGINT
        reach the IDE when the loop runs in the main thread
        (:mod:`vscode_interactive._session._async`).
        """
        from ._async import run_async

        value: R = await run_async(self, fn, args, kwargs)
        return value

    def _run_enabled(
        self,
        fn: Callable[..., Any],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        *,
        call: Call,
        interrupts: Interrupts | None = None,
    ) -> Any:
        """The flow of an enabled session; every call of the user's function is
        ``call(fn, args, kwargs)``, and ``interrupts`` go to each supervisor."""
        from .._supervision._server import validate_options

        validate_options(self.config)  # before the task runs: a bad option fails now
        rank = self._rank()
        failure: BaseException | None = None
        if self.config.run_task_first:
            _logger().info("running %s first; the IDE opens only if it fails", _name(fn))
            prefetch = self._prefetcher(self.config, self._env) if self._prefetcher else None
            try:
                value = call(fn, args, kwargs)
            except Exception as error:
                _logger().exception("%s failed; opening the IDE to debug it", _name(fn))
                failure = error
                self._prefetch = prefetch  # the install step waits for it
            else:
                if rank is not None:
                    self._finished(rank)
                return value
            finally:
                if failure is None and prefetch is not None:
                    prefetch.cancel()
        if self.config.pre_execute is not None:
            self.config.pre_execute()
        job = self._job(rank) if rank is not None else None
        try:
            if job is not None:
                return job.run(
                    fn,
                    args,
                    kwargs,
                    failure=failure,
                    ide_phase=lambda shown, hooks, first: self._ide_phase(
                        fn, args, kwargs, shown, hooks, first=first, interrupts=interrupts
                    ),
                    layout=self.config.layout(),
                    pre_execute=self._pre_execute,
                    post_execute=self._post_execute,
                    call=call,
                )
            return self._rounds(fn, args, kwargs, failure, call=call, interrupts=interrupts)
        finally:
            prefetch, self._prefetch = self._prefetch, None
            if prefetch is not None:  # never joined: a parked rank, a refused claim
                prefetch.cancel()
            edits, self._edits = self._edits, None  # a later run records its own edits
            if edits is not None:
                edits.close()

    def _rounds(
        self,
        fn: Callable[..., Any],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        failure: BaseException | None,
        *,
        call: Call,
        interrupts: Interrupts | None,
    ) -> Any:
        """IDE phases until a resumed call returns: one that raises opens the IDE again
        (pre_execute has run for the first phase)."""
        first = failure
        while True:
            try:
                resumed = self._ide_phase(
                    fn, args, kwargs, failure, first=first, interrupts=interrupts
                )
            finally:
                self._post_execute()
            try:
                return call(resumed, args, kwargs)
            except Exception as error:
                _logger().exception(
                    "%s raised again after the resume; the IDE opens again on the new failure "
                    "(vscode-interactive abort ends the job with it)",
                    _name(fn),
                )
                failure = error
                first = first if first is not None else error
            if self.config.pre_execute is not None:
                self.config.pre_execute()

    def _pre_execute(self) -> None:
        if self.config.pre_execute is not None:
            self.config.pre_execute()

    def _post_execute(self) -> None:
        if self.config.post_execute is not None:
            self.config.post_execute()

    # -- multi-process jobs (vscode_interactive._distributed) --------------------------

    def _rank(self) -> RankInfo | None:
        """This process's rank in a multi-process job, or None when it runs alone."""
        from .._distributed._ranks import detect_rank

        return detect_rank(self._env.snapshot())

    def _seams_for_job(self) -> JobSeams:
        if self._job_seams is None:
            from .._distributed._job import real_seams

            self._job_seams = real_seams()
        return self._job_seams

    def _store_spec(self) -> str | None:
        from .._distributed._ranks import ENV_STORE

        return self.config.coordination_store or self._env.get(ENV_STORE) or None

    def _job(self, rank: RankInfo) -> DistributedJob | None:
        from .._distributed._job import open_job

        return open_job(rank, self._store_spec(), self._seams_for_job())

    def _finished(self, rank: RankInfo) -> None:
        """Tell the other ranks this one's call returned (best effort, quiet)."""
        from .._distributed._job import report_finished

        report_finished(rank, self._store_spec(), self._seams_for_job())

    def _ide_phase(
        self,
        fn: Callable[..., Any],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        failure: BaseException | None,
        hooks: HostHooks | None = None,
        *,
        first: BaseException | None = None,
        interrupts: Interrupts | None = None,
    ) -> Callable[..., Any]:
        """Install, hold the failure for a debugger, write the workspace, supervise; return
        the function to resume with. ``first`` is the failure of the first round (an abort
        chains the latest to it).

        ``hooks`` are a distributed job's additions on the rank that hosts the IDE (the
        banner names the rank; the front page lists every rank). The workspace is claimed
        (and the port checked) before anything else; an error is chained to ``failure``.
        """
        try:
            with self._steps.claim(self.config):
                return self._claimed_phase(
                    fn, args, kwargs, failure, hooks, first=first, interrupts=interrupts
                )
        except Exception as error:
            if failure is not None:
                from .._supervision._outcomes import chain_to_failure

                chain_to_failure(error, failure)
            raise

    def _claimed_phase(
        self,
        fn: Callable[..., Any],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        failure: BaseException | None,
        hooks: HostHooks | None,
        *,
        first: BaseException | None,
        interrupts: Interrupts | None,
    ) -> Callable[..., Any]:
        """:meth:`_ide_phase` once the workspace is held."""
        from .._reload._reimport import reload_function
        from .._reload._target import target_of
        from .._supervision._outcomes import raise_for_outcome
        from .._supervision._policy import Outcome

        if self._installation is None:
            prefetch, self._prefetch = self._prefetch, None
            if prefetch is not None:
                prefetch.join()  # one download: the install then finds it in place
            self._installation = self._steps.install(self.config)
        installation = self._installation
        target = target_of(fn)
        post_mortem = self._open_post_mortem(failure)
        endpoint = None if post_mortem is None else (post_mortem.host, post_mortem.port)
        edits = self._edit_record(_name(fn))
        shown: BaseException | None = failure
        try:
            while True:
                files = self._steps.prepare(
                    fn,
                    args,
                    kwargs,
                    config=self.config,
                    failure=shown,
                    post_mortem=endpoint,
                    edits_note=edits.note,
                )
                edits.save_files(files)
                options = self._server_options(
                    installation,
                    files,
                    job=_name(fn),
                    post_mortem=endpoint is not None,
                    edits_note=edits.note,
                )
                summary = summarize_failure(shown)
                if hooks is not None:
                    hooks.prepared()
                    summary = hooks.summary(summary)
                result = self._supervise(edits, options, summary, interrupts)
                if result.outcome is Outcome.RESUMED:
                    try:
                        return reload_function(target, fn)
                    except ReloadError as error:
                        _logger().error("%s; the IDE opens again to fix it", error)
                        shown = error
                        continue
                if result.outcome is Outcome.ABORTED and failure is not None:
                    _raise_aborted(failure, first)
                raise_for_outcome(
                    result, max_idle_seconds=self.config.max_idle_seconds, failure=failure
                )
        finally:
            if post_mortem is not None:
                post_mortem.close()

    def _edit_record(self, job: str) -> EditRecord:
        """The record of this run's edits, started at its first IDE phase (once the
        workspace is claimed) and kept across rounds, so every patch holds them all."""
        if self._edits is None:
            from .._edits._save import resolve_save_to

            save_to = resolve_save_to(self.config.save_to, self._env)
            self._edits = self._steps.record_edits(self.config, job=job, save_to=save_to)
            self._edits.start()
        return self._edits

    def _supervise(
        self,
        edits: EditRecord,
        options: ServerOptions,
        summary: str | None,
        interrupts: Interrupts | None = None,
    ) -> SupervisionResult:
        """One supervision; the patch of the edits is written however it ends."""
        ended = "an error in the session"
        try:
            result = self._steps.supervise(options, failure_summary=summary, interrupts=interrupts)
            ended = result.outcome.value.replace("_", " ")
            return result
        finally:
            edits.finish(ended)

    def _open_post_mortem(self, failure: BaseException | None) -> PostMortemHandle | None:
        """The failure held for a debugger, or ``None`` (no failure, or no debugger: the
        session goes on without the Post-mortem configuration)."""
        if failure is None:
            return None
        from .._errors import DebuggerError

        try:
            return self._steps.post_mortem(failure)
        except DebuggerError as error:
            _logger().warning("%s; Interactive Debugging still re-runs the function", error)
            return None

    def _server_options(
        self,
        installation: Installation,
        files: WorkspaceFiles,
        *,
        job: str,
        post_mortem: bool = False,
        edits_note: str | None = None,
    ) -> ServerOptions:
        from .._supervision._activity import ENV_JOB, ENV_JOB_PID, ENV_PYTHON
        from .._supervision._server import ServerOptions

        # The IDE extension shows the job's name and pid (status bar, resume confirmation).
        # The extension's debugpy adapter runs from the job's own interpreter.
        job_env = {ENV_JOB: job, ENV_JOB_PID: str(os.getpid()), ENV_PYTHON: sys.executable}
        config = self.config
        layout = config.layout()
        return ServerOptions(
            executable=installation.executable,
            layout=layout,
            user_data_dir=installation.user_data_dir,
            extensions_dir=installation.extensions_dir,
            host=config.host,
            port=config.port,
            auth=config.auth,
            allow_unauthenticated=config.allow_unauthenticated,
            max_idle_seconds=config.max_idle_seconds,
            check_interval=min(config.check_interval, 10.0),
            start_timeout=config.start_timeout,
            max_lifetime_seconds=config.max_lifetime_seconds,
            grace_seconds=config.grace_seconds,
            extra_env={**installation.env, **files.environment, **job_env},
            open_files=files.open_first,
            workspace_file=files.workspace_file,
            post_mortem=post_mortem,
            edits_note=edits_note,
        )


def _raise_aborted(latest: BaseException, first: BaseException | None) -> None:
    """End the job with ``latest``, chained to ``first`` (the failure that opened the IDE
    the first time) unless it is that failure or already has a cause."""
    if first is not None and first is not latest and latest.__cause__ is None:
        raise latest from first
    raise latest


#: What starts a session's background install: ``(config, env) -> it, or None``.
Prefetcher = Callable[[SessionConfig, "Environment"], "BackgroundInstall | None"]


def _real_prefetch(config: SessionConfig, env: Environment) -> BackgroundInstall | None:
    from .._install._prefetch import start_prefetch

    return start_prefetch(config, env)


def _call_here(
    fn: Callable[..., Any], args: tuple[object, ...], kwargs: Mapping[str, object]
) -> Any:
    return fn(*args, **kwargs)


def _name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
