"""Owns one code-server from launch to the end of its process group.

:class:`Supervisor` is the thin effect loop around the pure policy in
:mod:`vscode_interactive._supervision._policy`: observe (exit code, ``/healthz``, heartbeat file,
resume and interrupt flags), ``step``, act (wait on the :class:`Wakeup`, signal the group,
or finish). Every side effect comes through :class:`SupervisorSeams`.

The controls other threads use (resume, abort, interrupt, status, activity reports) and
the state they share with the loop are in :mod:`._controls`.

It returns a :class:`SupervisionResult` for the four outcomes and raises only
:class:`ServerStartError` (never ready) or :class:`ConfigError` (bad options). Either way it
returns or raises only after no process of the server's group is left, and after removing
the session file, the password file and the resume socket.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .._errors import ServerStartError
from .._ports import ProcessHandle
from .._system._files import (
    create_dir,
    ensure_private_dir,
    make_socket_private,
    mtime_or_none,
    read_log_tail,
)
from .._system._os import PipeWakeup
from ._activity import IdleSource
from ._channel import ChannelServer, channel_env_value, command_handler
from ._controls import SupervisorControls
from ._landing import Greeting
from ._launch import choose_port, launch_server, resolve_executable
from ._policy import (
    ActionKind,
    Limits,
    Observation,
    Outcome,
    Phase,
    StartFailure,
    State,
    initial_state,
    step,
)
from ._seams import SupervisionResult, SupervisorSeams, WhileStarting
from ._server import (
    ServerOptions,
    base_url,
    build_env,
    looks_like_port_taken,
    render_banner,
    start_error,
    validate_options,
)

__all__ = ["Outcome", "SupervisionResult", "Supervisor", "SupervisorSeams"]

logger = logging.getLogger("vscode_interactive.supervisor")


@dataclass(frozen=True, slots=True)
class _StartFailed:
    failure: StartFailure
    state: State
    log_tail: str


def _announce_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Supervisor(SupervisorControls):
    """Runs code-server for one session: ``Supervisor(options).run()``.

    Thread-safe controls, usable while :meth:`run` blocks in another thread:
    :meth:`request_resume`, :meth:`interrupt` (deliver SIGTERM/SIGINT yourself when running
    outside the main thread, where signal handlers cannot be installed) and :meth:`status`.
    ``announce`` receives the connection banner once (default: printed to stderr);
    ``failure_summary`` is one line shown next to the URL. With ``options.open_files`` the
    URL shown (banner, ``status``) is the landing URL, and new IDE windows are greeted
    with those files (:mod:`vscode_interactive._supervision._landing`). ``_seams`` (private)
    replaces the real clock, launcher, probe, ... with fakes in tests.
    """

    def __init__(
        self,
        options: ServerOptions,
        *,
        announce: Callable[[str], None] | None = None,
        failure_summary: str | None = None,
        _seams: SupervisorSeams | None = None,
    ) -> None:
        self._warnings = validate_options(options)
        super().__init__(options, _seams if _seams is not None else SupervisorSeams())
        self._announce = announce if announce is not None else _announce_stderr
        self._failure_summary = failure_summary
        self._limits = Limits(
            start_timeout=options.start_timeout,
            max_idle_seconds=options.max_idle_seconds,
            check_interval=min(options.check_interval, options.max_idle_seconds),
            grace_seconds=options.grace_seconds,
            max_lifetime_seconds=options.max_lifetime_seconds,
        )
        self._announced = False
        self._greeting: Greeting | None = None
        self._channel_address: str | bytes = ""

    # -- running -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _scope(self) -> Iterator[None]:
        """Channel, interrupts and the wakeup for the duration of a run; files removed after."""
        layout = self.options.layout
        owned = PipeWakeup() if self._seams.wakeup is None else None
        if owned is not None:
            self._wakeup = owned
        handler = command_handler(
            resume=self.request_resume,
            status=self.status,
            activity=self.record_activity,
            abort=self.request_abort,
        )
        channel = ChannelServer(layout.root, handler)
        unsubscribe: Callable[[], None] = lambda: None  # noqa: E731
        try:
            channel.start()
            self._channel_address = channel.address
            unsubscribe = self._seams.interrupts.subscribe(self.interrupt)
            yield
        finally:
            if self._greeting is not None:
                self._greeting.close()
            unsubscribe()
            channel.close()
            self._files.remove()
            if owned is not None:
                self._wakeup = self._seams.wakeup  # late notify() calls must not reach it
                owned.close()

    def run(self, *, _while_starting: WhileStarting | None = None) -> SupervisionResult:
        """Launch code-server and supervise it to the end.

        ``_while_starting`` (private: a session's) runs once, after the launch and before
        readiness is awaited: work done while code-server boots; its ``Prepared`` fills
        the banner."""
        while_starting = _while_starting
        options, layout = self.options, self.options.layout
        for warning in self._warnings:
            logger.warning(warning)
        executable = resolve_executable(options.executable, self._seams.environment.get("PATH"))
        ensure_private_dir(layout.root)
        create_dir(options.xdg_data_home, mode=0o700)
        with self._scope():
            if options.open_files:
                self._greeting = Greeting(
                    self._seams.editor_windows,
                    options.open_files,
                    preferred=layout.editor_registry,
                )
            if options.auth == "password":
                self._files.create_password()  # code-server reads it from its config file
            env = build_env(
                self._seams.environment.snapshot(),
                options,
                channel=channel_env_value(self._channel_address),
            )
            attempts = 0
            while True:
                outcome = self._launch_once(executable, env, while_starting)
                while_starting = None  # a relaunch on another port does not prepare again
                if isinstance(outcome, SupervisionResult):
                    return outcome
                retry = (
                    outcome.failure is StartFailure.PORT_TAKEN
                    and options.port == 0
                    and attempts < options.port_retries
                )
                if not retry:
                    raise self._start_error(outcome)
                attempts += 1
                logger.info("port %d was taken before code-server bound it; retrying", self._port)

    def attach(self, handle: ProcessHandle, *, url: str | None) -> SupervisionResult:
        """Supervise an already-running server (``exit_handler``): no launch, no readiness
        wait; idle is measured from now. With ``url=None`` only the heartbeat file counts."""
        self._url, self._server_pid = url or "", handle.pid
        with self._scope():
            result = self._supervise(handle, Phase.RUNNING, log_offset=0)
        assert isinstance(result, SupervisionResult)  # a RUNNING start cannot fail to start
        return result

    def _launch_once(
        self, executable: str, env: dict[str, str], while_starting: WhileStarting | None
    ) -> SupervisionResult | _StartFailed:
        options = self.options
        port = choose_port(options, self._seams.port_allocator)
        self._port, self._url = port, base_url(options.host, port)
        handle, log_offset = launch_server(
            options,
            self._seams.launcher,
            executable=executable,
            port=port,
            env=env,
            registry=self._greeting.registry if self._greeting is not None else None,
        )
        self._server_pid = handle.pid
        logger.info("started code-server (pid %d) on %s", handle.pid, self._url)
        if while_starting is not None:
            self._prepare_while_starting(handle, while_starting)
        return self._supervise(handle, Phase.STARTING, log_offset)

    def _prepare_while_starting(self, handle: ProcessHandle, work: WhileStarting) -> None:
        try:
            prepared = work()
        except BaseException:
            self._kill_now(handle)  # nothing announced yet: code-server goes with the error
            raise
        self.options = dataclasses.replace(
            self.options, post_mortem=prepared.post_mortem, edits_note=prepared.edits_note
        )

    def _start_error(self, failed: _StartFailed) -> ServerStartError:
        return start_error(
            self.options,
            failed.failure,
            port=self._port,
            exit_code=failed.state.exit_code,
            log_tail=failed.log_tail,
        )

    # -- the loop ----------------------------------------------------------------------

    def _observe(self, state: State, handle: ProcessHandle, log_offset: int) -> Observation:
        clock = self._seams.clock
        probed = state.probe_due(clock.monotonic())
        health, mtime = None, None
        if probed:
            if self._url:
                timeout = min(2.0, self._limits.check_interval)
                health = self._seams.probe.check(self._url, timeout=timeout)
            mtime = mtime_or_none(self.options.heartbeat_file)
        exit_code = handle.poll()
        stopping = state.phase is Phase.STOPPING or exit_code is not None
        port_taken = (
            exit_code is not None
            and state.phase is Phase.STARTING
            and looks_like_port_taken(read_log_tail(self.options.layout.server_log, log_offset))
        )
        with self._lock:
            resume = self._resume_requested
            abort = self._abort_requested
        return Observation(
            monotonic=clock.monotonic(),
            wall=clock.now(),
            exit_code=exit_code,
            group_alive=handle.group_alive() if stopping else True,
            probed=probed,
            health=health,
            heartbeat_file_mtime=mtime,
            resume_requested=resume,
            abort_requested=abort,
            interrupts=self._interrupts,
            last_signal=self._last_signal,
            port_taken=port_taken,
            extension_activity=self._activity.seen().last_at,
        )

    def _supervise(
        self, handle: ProcessHandle, phase: Phase, log_offset: int
    ) -> SupervisionResult | _StartFailed:
        assert self._wakeup is not None
        state = initial_state(self._seams.clock.monotonic(), phase=phase)
        self._set_state(state)
        logger.info(
            "idle clock: code-server's heartbeat until an IDE window with the vscode-interactive "
            "extension connects; then only what the extension reports as activity"
        )
        if phase is Phase.RUNNING:
            self._on_ready()
        else:
            self._files.write_info(self.status())
        try:
            while True:
                observation = self._observe(state, handle, log_offset)
                new_state, action = step(state, observation, self._limits)
                self._after_step(state, new_state, observation)
                state = new_state
                if action.kind is ActionKind.SIGNAL:
                    handle.signal_group(action.signum)
                elif action.kind is ActionKind.WAIT:
                    self._wakeup.wait(action.seconds)
                else:
                    break
        finally:
            if state.phase is not Phase.DONE:  # our own bug or a BaseException: no orphans
                self._kill_now(handle)
        tail = read_log_tail(self.options.layout.server_log, log_offset)
        if state.failure is not None:
            return _StartFailed(state.failure, state, tail)
        assert state.outcome is not None
        exit_code = state.exit_code if state.exit_code is not None else handle.poll()
        result = SupervisionResult(
            outcome=state.outcome,
            url=self._url,
            port=self._port,
            exit_code=exit_code,
            log_tail=tail,
            idle_seconds=state.idle_seconds(self._seams.clock.monotonic()),
            signal=state.signum if state.outcome is Outcome.INTERRUPTED else None,
            detail=state.detail,
            server_pid=handle.pid,
            stray_processes=state.survivors,
        )
        if state.survivors:
            logger.error("processes of code-server's group %d survived SIGKILL", handle.pid)
        logger.info("code-server session ended: %s (%s)", result.outcome.value, result.detail)
        return result

    def _after_step(self, old: State, new: State, observation: Observation) -> None:
        self._set_state(new)
        if new.idle_source is not old.idle_source and new.idle_source is IdleSource.EXTENSION:
            logger.info(
                "idle clock: an IDE window with the vscode-interactive extension connected; "
                "from now on only typing, cursor, editors, terminals and the debugger count "
                "as activity (not code-server's heartbeat)"
            )
            self._files.write_info(self.status())
        if old.phase is Phase.STARTING and new.phase is Phase.RUNNING:
            self._on_ready()
        elif new.phase is not old.phase and new.phase is Phase.STOPPING:
            logger.info("stopping code-server: %s", new.detail)
        elif new.phase is Phase.RUNNING and observation.probed:
            self._files.write_info(self.status())  # refresh last activity and idle deadline

    def _on_ready(self) -> None:
        self._files.write_info(self.status())
        make_socket_private(self.options.layout.editor_registry)  # code-server made it
        if self._announced or not self._url:
            return
        self._announced = True
        if self._greeting is not None:
            self._greeting.start()
        env, layout = self._seams.environment, self.options.layout
        files = self.options.open_files
        banner = render_banner(
            url=self.landing_url,
            port=self._port,
            password_file=self._files.password_file,
            state_dir=layout.root,
            in_kubernetes=env.get("KUBERNETES_SERVICE_HOST") is not None,
            pod_name=env.get("HOSTNAME"),
            failure_summary=self._failure_summary,
            max_idle_seconds=self.options.max_idle_seconds,
            lands_on=files[-1].goto if files else None,
            edits_note=self.options.edits_note,
            post_mortem=self.options.post_mortem,
        )
        logger.info("code-server is ready at %s (state directory %s)", self._url, layout.root)
        self._announce(banner)

    def _kill_now(self, handle: ProcessHandle) -> None:
        clock = self._seams.clock
        handle.signal_group(signal.SIGKILL)
        deadline = clock.monotonic() + self._limits.kill_timeout
        while handle.group_alive() and clock.monotonic() < deadline:
            if self._wakeup is None:
                break
            self._wakeup.wait(self._limits.stop_poll_interval)
