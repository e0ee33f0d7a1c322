"""The supervisor's decisions, as a pure state machine.

``step(state, observation, limits) -> (state, action)`` is the whole policy: the loop in
:mod:`._supervisor` observes the world (process exit code, ``/healthz``, heartbeat
file, resume and interrupt flags), calls :func:`step`, and performs the one
action it returns (wait, signal the process group, or finish). Phases::

    STARTING --/healthz answers--> RUNNING
    STARTING --exit | timeout | interrupt | resume--> STOPPING
    RUNNING  --exit | idle | lifetime | interrupt | resume--> STOPPING
    STOPPING --SIGTERM, grace, SIGKILL, group gone--> DONE

Priorities when several things happen at once: an interrupt beats a resume request, which
beats an exit, which beats readiness or timeouts. A server exit is never a resume: code-server
exits with code 0 on its own idle timeout, so only an explicit request yields ``RESUMED``.

Idle means nobody works in the IDE. The idle clock runs from the last activity, or from
readiness when there was none. Activity is what the library's own extension reports (typing,
cursor, editors, terminals, the debugger: see :mod:`._activity`); as soon as any window with
the extension has connected, that is the only source (``IdleSource.EXTENSION``), for good.
Until then code-server's heartbeat is the fallback (``IdleSource.HEARTBEAT``): it beats while
any connection is open, so an untouched tab counts as activity there. An activity that
arrives before the loop noticed the deadline still counts; one that arrives while stopping
does not undo the stop.

Times are ``monotonic`` seconds. Reports are stamped with the supervisor's monotonic clock
on arrival; a heartbeat (wall-clock milliseconds) is turned into a monotonic instant through
its age at the moment it was observed, so wall-clock jumps do not move the idle deadline.
"""

from __future__ import annotations

import enum
import signal
from dataclasses import dataclass, replace

from .._ports import Health
from ._activity import IdleSource

__all__ = [
    "Action",
    "ActionKind",
    "IdleSource",
    "Limits",
    "Observation",
    "Outcome",
    "Phase",
    "StartFailure",
    "State",
    "initial_state",
    "step",
]


class Outcome(enum.Enum):
    """How a supervised session ended."""

    RESUMED = "resumed"
    """Someone asked explicitly (resume script, ``vscode-interactive resume``)."""
    IDLE_TIMEOUT = "idle_timeout"
    """Nobody used the IDE for ``max_idle_seconds`` (or the maximum lifetime was reached)."""
    SERVER_EXITED = "server_exited"
    """code-server ended on its own (its own idle timeout exits with code 0)."""
    INTERRUPTED = "interrupted"
    """The supervising process got SIGTERM/SIGINT (or :meth:`interrupt` was called)."""
    ABORTED = "aborted"
    """Someone asked explicitly to end the job with its failure (``vscode-interactive abort``)."""


class StartFailure(enum.Enum):
    """Why code-server never became ready."""

    EXITED = "exited"
    PORT_TAKEN = "port_taken"
    TIMEOUT = "timeout"


class Phase(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    DONE = "done"


class ActionKind(enum.Enum):
    WAIT = "wait"
    SIGNAL = "signal"
    FINISH = "finish"


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    seconds: float = 0.0
    signum: int = 0

    @classmethod
    def wait(cls, seconds: float) -> Action:
        return cls(ActionKind.WAIT, seconds=max(seconds, 0.0))

    @classmethod
    def send(cls, signum: int) -> Action:
        return cls(ActionKind.SIGNAL, signum=signum)


FINISH = Action(ActionKind.FINISH)


@dataclass(frozen=True, slots=True)
class Limits:
    """The knobs of the policy, in seconds."""

    start_timeout: float
    max_idle_seconds: float
    check_interval: float
    grace_seconds: float
    max_lifetime_seconds: float | None = None
    start_poll_interval: float = 0.02
    """While starting, /healthz is asked this often: the banner comes at most this late after
    code-server answers (a refused connection costs microseconds; a probe about 3 ms)."""
    stop_poll_interval: float = 0.05
    kill_timeout: float = 10.0
    """After SIGKILL, how long to wait for the group to vanish before giving up."""


@dataclass(frozen=True, slots=True)
class Observation:
    """What the loop saw just before calling :func:`step`."""

    monotonic: float
    wall: float
    exit_code: int | None = None
    group_alive: bool = True
    probed: bool = False
    health: Health | None = None
    heartbeat_file_mtime: float | None = None
    resume_requested: bool = False
    abort_requested: bool = False
    interrupts: int = 0
    last_signal: int | None = None
    port_taken: bool = False
    extension_activity: float | None = None
    """The latest activity the IDE extension reported (monotonic); ``None`` while no window
    with the extension has ever connected."""


@dataclass(frozen=True, slots=True)
class State:
    phase: Phase
    launched_at: float
    last_activity: float
    next_probe_at: float
    ready_at: float | None = None
    last_heartbeat_ms: int = 0
    last_heartbeat_file_mtime: float | None = None
    outcome: Outcome | None = None
    failure: StartFailure | None = None
    detail: str = ""
    exit_code: int | None = None
    signum: int | None = None
    interrupts_seen: int = 0
    term_sent_at: float | None = None
    kill_sent_at: float | None = None
    survivors: bool = False
    idle_source: IdleSource = IdleSource.HEARTBEAT
    last_report: float | None = None

    def probe_due(self, now: float) -> bool:
        """Whether the loop should ask ``/healthz`` (and the heartbeat file) now."""
        if self.phase is Phase.STARTING:
            return True
        return self.phase is Phase.RUNNING and now >= self.next_probe_at

    def idle_seconds(self, now: float) -> float:
        return max(0.0, now - self.last_activity)


def initial_state(now: float, *, phase: Phase = Phase.STARTING) -> State:
    """The state right after launch: the idle clock starts now."""
    return State(phase=phase, launched_at=now, last_activity=now, next_probe_at=now)


def _absorb_activity(state: State, obs: Observation, limits: Limits) -> State:
    """Move ``last_activity`` for what is new since the previous step.

    Extension reports count whenever they are new (and never as later than now); once one
    came, heartbeats no longer count. While they do, only a heartbeat that *advanced*
    counts, and never as later than now: a timestamp in the future (the wall clock stepped
    back after it was written) counts once, as "now", instead of keeping the session busy
    until our clock catches up with it.
    """
    activity = state.last_activity
    source, report = state.idle_source, state.last_report
    if obs.extension_activity is not None and (report is None or obs.extension_activity > report):
        source, report = IdleSource.EXTENSION, obs.extension_activity
        activity = max(activity, min(report, obs.monotonic))
    if not obs.probed:
        return replace(state, last_activity=activity, idle_source=source, last_report=report)
    heartbeat_ms = state.last_heartbeat_ms
    file_mtime = state.last_heartbeat_file_mtime
    counts = source is IdleSource.HEARTBEAT
    if obs.health is not None and obs.health.last_heartbeat_ms > heartbeat_ms:
        heartbeat_ms = obs.health.last_heartbeat_ms
        age = max(0.0, obs.wall - heartbeat_ms / 1000)
        if counts:
            activity = max(activity, obs.monotonic - age)
    if obs.heartbeat_file_mtime is not None and obs.heartbeat_file_mtime != file_mtime:
        file_mtime = obs.heartbeat_file_mtime
        age = max(0.0, obs.wall - file_mtime)
        if counts:
            activity = max(activity, obs.monotonic - age)
    next_probe = min(obs.monotonic + limits.check_interval, activity + limits.max_idle_seconds)
    return replace(
        state,
        last_activity=activity,
        last_heartbeat_ms=heartbeat_ms,
        last_heartbeat_file_mtime=file_mtime,
        next_probe_at=next_probe,
        idle_source=source,
        last_report=report,
    )


def _stop_reason(
    state: State, obs: Observation, limits: Limits, new_interrupt: bool
) -> tuple[Outcome | None, StartFailure | None, str] | None:
    now = obs.monotonic
    starting = state.phase is Phase.STARTING
    if new_interrupt:
        name = _signal_name(obs.last_signal)
        return Outcome.INTERRUPTED, None, f"the supervising process received {name}"
    if obs.abort_requested:
        return Outcome.ABORTED, None, "abort requested"
    if obs.resume_requested:
        return Outcome.RESUMED, None, "resume requested"
    if obs.exit_code is not None:
        if starting:
            failure = StartFailure.PORT_TAKEN if obs.port_taken else StartFailure.EXITED
            return None, failure, f"code-server exited with code {obs.exit_code} before ready"
        return Outcome.SERVER_EXITED, None, f"code-server exited with code {obs.exit_code}"
    if starting:
        if obs.health is None and now - state.launched_at >= limits.start_timeout:
            return (
                None,
                StartFailure.TIMEOUT,
                (f"/healthz did not answer within {limits.start_timeout:g} s"),
            )
        return None
    lifetime = limits.max_lifetime_seconds
    if lifetime is not None and now - state.launched_at >= lifetime:
        return Outcome.IDLE_TIMEOUT, None, f"maximum lifetime of {lifetime:g} s reached"
    decided = obs.probed or state.idle_source is IdleSource.EXTENSION
    if decided and state.idle_seconds(now) >= limits.max_idle_seconds:
        return (
            Outcome.IDLE_TIMEOUT,
            None,
            (
                f"no activity for {state.idle_seconds(now):.0f} s "
                f"(max_idle_seconds={limits.max_idle_seconds:g}; idle source: "
                f"{state.idle_source.value})"
            ),
        )
    return None


def _signal_name(signum: int | None) -> str:
    if signum is None:
        return "an interrupt"
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _stopping(state: State, obs: Observation, limits: Limits, hurry: bool) -> tuple[State, Action]:
    now = obs.monotonic
    if not obs.group_alive:
        return replace(state, phase=Phase.DONE), FINISH
    if state.term_sent_at is None:
        return replace(state, term_sent_at=now), Action.send(signal.SIGTERM)
    if state.kill_sent_at is None:
        if hurry or now - state.term_sent_at >= limits.grace_seconds:
            return replace(state, kill_sent_at=now), Action.send(signal.SIGKILL)
        remaining = state.term_sent_at + limits.grace_seconds - now
        return state, Action.wait(min(limits.stop_poll_interval, remaining))
    if now - state.kill_sent_at >= limits.kill_timeout:
        return replace(state, phase=Phase.DONE, survivors=True), FINISH
    return state, Action.wait(limits.stop_poll_interval)


def step(state: State, obs: Observation, limits: Limits) -> tuple[State, Action]:
    """Decide what to do next. Pure: same inputs, same answer."""
    if state.phase is Phase.DONE:
        return state, FINISH
    if state.phase is not Phase.STOPPING:  # activity does not undo a stop
        state = _absorb_activity(state, obs, limits)
    if state.exit_code is None and obs.exit_code is not None:
        state = replace(state, exit_code=obs.exit_code)
    new_interrupt = obs.interrupts > state.interrupts_seen
    if new_interrupt:
        state = replace(state, interrupts_seen=obs.interrupts, signum=obs.last_signal)

    if state.phase is Phase.STOPPING:
        hurry = new_interrupt and state.outcome is Outcome.INTERRUPTED
        if new_interrupt and not hurry:
            # Asked to end while stopping for another reason: do not go on to resume.
            state = replace(
                state,
                outcome=Outcome.INTERRUPTED,
                failure=None,
                detail=f"the supervising process received {_signal_name(obs.last_signal)}",
            )
        # A second interrupt while already stopping for one: no more grace, SIGKILL now.
        return _stopping(state, obs, limits, hurry=hurry)

    reason = _stop_reason(state, obs, limits, new_interrupt)
    if reason is not None:
        outcome, failure, detail = reason
        state = replace(
            state, phase=Phase.STOPPING, outcome=outcome, failure=failure, detail=detail
        )
        return _stopping(state, obs, limits, hurry=False)

    now = obs.monotonic
    if state.phase is Phase.STARTING:
        if obs.health is not None:
            # The idle clock starts when the IDE is ready, not while it was starting.
            activity = max(state.last_activity, now)
            state = replace(
                state,
                phase=Phase.RUNNING,
                ready_at=now,
                last_activity=activity,
                next_probe_at=min(now + limits.check_interval, activity + limits.max_idle_seconds),
            )
        else:
            remaining = state.launched_at + limits.start_timeout - now
            return state, Action.wait(min(limits.start_poll_interval, remaining))
    deadline = state.next_probe_at
    if limits.max_lifetime_seconds is not None:
        deadline = min(deadline, state.launched_at + limits.max_lifetime_seconds)
    return state, Action.wait(min(deadline - now, limits.check_interval))
