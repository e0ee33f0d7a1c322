"""The IDE phase of a session: from a held workspace to the function to resume with.

:class:`IdePhases` serves one enabled run of :class:`~._run.Session` (every phase and
round of it): claim the workspace and port, install (joining the background install),
then rounds of::

    plan the landing (pure) -> start code-server on it
        while it boots: post-mortem listener (first round) -> note the workspace (_edits,
        once per run) -> write workspace + captured inputs
    -> banner once code-server is ready -> supervise -> RESUMED: re-import the function
                                                    (a broken edit: another round on it)

code-server starting first is what makes the IDE ready in about its own start time after
a failure: the debugger, the edit record and the workspace cost more than 0.3 s and are
done meanwhile (``bench/bench_prefetch.py``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._errors import ReloadError
from ._config import SessionConfig, _logger
from ._steps import SessionSteps

if TYPE_CHECKING:
    from .._distributed._job import HostHooks
    from .._edits._record import EditRecord
    from .._install._ensure import Installation
    from .._install._prefetch import BackgroundInstall
    from .._ports import Environment, Interrupts, PostMortemHandle
    from .._supervision._seams import SupervisionResult, WhileStarting
    from .._supervision._server import ServerOptions
    from .._workspace import WorkspaceLanding

__all__ = ["IdePhases", "summarize_failure"]


def summarize_failure(failure: BaseException | None) -> str | None:
    """``ZeroDivisionError: division by zero`` (first line, at most 200 characters)."""
    if failure is None:
        return None
    text = str(failure).strip().splitlines()
    summary = f"{type(failure).__name__}: {text[0]}" if text else type(failure).__name__
    return summary if len(summary) <= 200 else summary[:197] + "..."


def name_of(fn: Callable[..., object]) -> str:
    """How logs and the IDE name the user's function."""
    return getattr(fn, "__qualname__", None) or repr(fn)


class IdePhases:
    """The IDE phases of one run. ``prefetch`` (a background install, if any) is joined
    by the first install; :meth:`close` cancels it if no phase did and ends the record of
    the edits (a later run records its own)."""

    def __init__(
        self,
        config: SessionConfig,
        env: Environment,
        steps: SessionSteps,
        *,
        installation: Installation | None = None,
        prefetch: BackgroundInstall | None = None,
    ) -> None:
        self.config = config
        self._env = env
        self._steps = steps
        self.installation = installation
        self._prefetch = prefetch
        self._edits: EditRecord | None = None

    def __call__(
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
        """One IDE phase; return the function to resume with. ``first`` is the failure of
        the first phase (an abort chains the latest to it).

        ``hooks`` are a distributed job's additions on the rank that hosts the IDE (the
        banner names the rank; the front page lists every rank). The workspace is claimed
        (and the port checked) before anything else; an error is chained to ``failure``.
        """
        try:
            with self._steps.claim(self.config):
                return self._claimed(
                    fn, args, kwargs, failure, hooks, first=first, interrupts=interrupts
                )
        except Exception as error:
            if failure is not None:
                from .._supervision._outcomes import chain_to_failure

                chain_to_failure(error, failure)
            raise

    def close(self) -> None:
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:  # never joined: a parked rank, a refused claim
            prefetch.cancel()
        edits, self._edits = self._edits, None
        if edits is not None:
            edits.close()

    def _claimed(
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
        """A phase once the workspace is held: rounds until one resumes with a function
        that re-imports (a broken edit opens the IDE again on it)."""
        from .._reload._target import target_of
        from .._supervision._policy import Outcome

        installation = self._install()
        target = target_of(fn)
        held = _HeldFailure(self._steps, failure)
        shown: BaseException | None = failure
        try:
            while True:
                result = self._round(fn, args, kwargs, installation, shown, hooks, held, interrupts)
                # Imported only now: what comes before code-server's launch is kept short.
                from .._reload._reimport import reload_function
                from .._supervision._outcomes import raise_for_outcome

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
            held.close()

    def _install(self) -> Installation:
        """The installation, once per run (a background install is joined first: one
        download, which the install then finds in place)."""
        if self.installation is None:
            prefetch, self._prefetch = self._prefetch, None
            if prefetch is not None:
                prefetch.join()
            self.installation = self._steps.install(self.config)
        return self.installation

    def _round(
        self,
        fn: Callable[..., Any],
        args: tuple[object, ...],
        kwargs: Mapping[str, object],
        installation: Installation,
        shown: BaseException | None,
        hooks: HostHooks | None,
        held: _HeldFailure,
        interrupts: Interrupts | None,
    ) -> SupervisionResult:
        """One IDE showing ``shown``: code-server starts on a landing planned without
        writing anything, the rest is prepared while it boots, the banner waits for both."""
        from .._supervision._seams import Prepared
        from .._workspace._landing import plan_landing

        landing = plan_landing(fn, layout=self.config.layout(), failure=shown)
        options = self._server_options(installation, landing, job=name_of(fn))
        summary = summarize_failure(shown)
        if hooks is not None:
            summary = hooks.summary(summary)

        def prepare() -> Prepared:
            endpoint = held.endpoint()
            edits = self._edit_record(name_of(fn))
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
            if hooks is not None:
                hooks.prepared()
            return Prepared(post_mortem=endpoint is not None, edits_note=edits.note)

        return self._supervise(options, summary, interrupts, prepare)

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
        options: ServerOptions,
        summary: str | None,
        interrupts: Interrupts | None,
        while_starting: WhileStarting,
    ) -> SupervisionResult:
        """One supervision; the patch of the edits is written however it ends."""
        ended = "an error in the session"
        try:
            result = self._steps.supervise(
                options,
                failure_summary=summary,
                interrupts=interrupts,
                while_starting=while_starting,
            )
            ended = result.outcome.value.replace("_", " ")
            return result
        finally:
            if self._edits is not None:
                self._edits.finish(ended)

    def _server_options(
        self, installation: Installation, landing: WorkspaceLanding, *, job: str
    ) -> ServerOptions:
        """code-server's options on ``landing``; the banner's post-mortem step and edits
        note come from what is prepared while it starts."""
        from .._supervision._activity import ENV_JOB, ENV_JOB_PID, ENV_PYTHON
        from .._supervision._server import ServerOptions

        # The IDE extension shows the job's name and pid (status bar, resume confirmation).
        # The extension's debugpy adapter runs from the job's own interpreter.
        job_env = {ENV_JOB: job, ENV_JOB_PID: str(os.getpid()), ENV_PYTHON: sys.executable}
        config = self.config
        return ServerOptions(
            executable=installation.executable,
            layout=config.layout(),
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
            extra_env={**installation.env, **landing.environment, **job_env},
            open_files=landing.open_first,
            workspace_file=landing.workspace_file,
        )


class _HeldFailure:
    """A phase's failure held for a debugger: the listener opens at the first
    :meth:`endpoint` (while code-server starts) and serves every round of the phase."""

    def __init__(self, steps: SessionSteps, failure: BaseException | None) -> None:
        self._steps = steps
        self._failure = failure
        self._handle: PostMortemHandle | None = None
        self._opened = False

    def endpoint(self) -> tuple[str, int] | None:
        """``(host, port)`` of the listener, or ``None`` (nothing failed, or no debugger:
        the session goes on without the Post-mortem configuration)."""
        if not self._opened:
            self._opened = True
            self._handle = self._open()
        handle = self._handle
        return None if handle is None else (handle.host, handle.port)

    def _open(self) -> PostMortemHandle | None:
        if self._failure is None:
            return None
        from .._errors import DebuggerError

        try:
            return self._steps.post_mortem(self._failure)
        except DebuggerError as error:
            _logger().warning("%s; Interactive Debugging still re-runs the function", error)
            return None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _raise_aborted(latest: BaseException, first: BaseException | None) -> None:
    """End the job with ``latest``, chained to ``first`` (the failure that opened the IDE
    the first time) unless it is that failure or already has a cause."""
    if first is not None and first is not latest and latest.__cause__ is None:
        raise latest from first
    raise latest
