"""``Session``: the composition of one session (the flow is drawn in the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

# Only what defining SessionConfig and @vscode needs is imported here: a job imports this
# module at start-up, and the installer, supervisor, workspace writer and reloader (with
# urllib, ssl, inspect, ...) are needed only once a session opens the IDE.
if TYPE_CHECKING:
    from collections.abc import Awaitable

    from .._distributed._job import DistributedJob, JobSeams
    from .._distributed._ranks import RankInfo
    from .._install._ensure import Installation
    from .._install._prefetch import BackgroundInstall
    from .._ports import Environment, Interrupts


from ._config import ENV_ENABLE, Call, P, R, SessionConfig, _logger, _parse_enable
from ._ide import IdePhases, name_of, summarize_failure
from ._steps import RealSteps, SessionSteps

__all__ = ["Prefetcher", "Session", "summarize_failure"]


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
        self._installation: Installation | None = None  # kept for the session's next runs
        if _prefetch is None and _steps is None:
            _prefetch = _real_prefetch
        self._prefetcher = _prefetch

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
                f"Session.run() got the coroutine function {name_of(fn)}; calling it would only "
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
        prefetch: BackgroundInstall | None = None
        if self.config.run_task_first:
            _logger().info("running %s first; the IDE opens only if it fails", name_of(fn))
            prefetch = self._prefetcher(self.config, self._env) if self._prefetcher else None
            try:
                value = call(fn, args, kwargs)
            except Exception as error:
                _logger().exception("%s failed; opening the IDE to debug it", name_of(fn))
                failure = error  # the IDE phase's install waits for the prefetch
            else:
                if rank is not None:
                    self._finished(rank)
                return value
            finally:
                if failure is None and prefetch is not None:
                    prefetch.cancel()
        if self.config.pre_execute is not None:
            self.config.pre_execute()
        phases = IdePhases(
            self.config, self._env, self._steps, installation=self._installation, prefetch=prefetch
        )
        job = self._job(rank) if rank is not None else None
        try:
            if job is not None:
                return job.run(
                    fn,
                    args,
                    kwargs,
                    failure=failure,
                    ide_phase=lambda shown, hooks, first: phases(
                        fn, args, kwargs, shown, hooks, first=first, interrupts=interrupts
                    ),
                    layout=self.config.layout(),
                    pre_execute=self._pre_execute,
                    post_execute=self._post_execute,
                    call=call,
                )
            return self._rounds(phases, fn, args, kwargs, failure, call=call, interrupts=interrupts)
        finally:
            self._installation = phases.installation
            phases.close()

    def _rounds(
        self,
        phases: IdePhases,
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
                resumed = phases(fn, args, kwargs, failure, first=first, interrupts=interrupts)
            finally:
                self._post_execute()
            try:
                return call(resumed, args, kwargs)
            except Exception as error:
                _logger().exception(
                    "%s raised again after the resume; the IDE opens again on the new failure "
                    "(vscode-interactive abort ends the job with it)",
                    name_of(fn),
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


#: What starts a session's background install: ``(config, env) -> it, or None``.
Prefetcher = Callable[[SessionConfig, "Environment"], "BackgroundInstall | None"]


def _real_prefetch(config: SessionConfig, env: Environment) -> BackgroundInstall | None:
    from .._install._prefetch import start_prefetch

    return start_prefetch(config, env)


def _call_here(
    fn: Callable[..., Any], args: tuple[object, ...], kwargs: Mapping[str, object]
) -> Any:
    return fn(*args, **kwargs)
