"""The supervisor's pure policy: ``step(state, observation, limits)`` for every transition."""

from __future__ import annotations

import signal
from dataclasses import replace
from typing import Any

from vscode_interactive._ports import Health
from vscode_interactive._supervision._policy import (
    Action,
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

LIMITS = Limits(start_timeout=30, max_idle_seconds=100, check_interval=10, grace_seconds=5)
T0 = 1000.0
WALL0 = 1_700_000_000.0


def obs(at: float, **fields: Any) -> Observation:
    """An observation at monotonic time ``at``; the wall clock runs alongside."""
    return replace(Observation(monotonic=at, wall=WALL0 + (at - T0)), **fields)


def running(at: float = T0) -> State:
    state, _ = step(initial_state(T0), obs(at, probed=True, health=Health("expired", 0)), LIMITS)
    assert state.phase is Phase.RUNNING
    return state


def test_starting_waits_briefly_until_healthz_answers() -> None:
    """While /healthz is silent the machine polls at the start interval, still STARTING."""
    state, action = step(initial_state(T0), obs(T0 + 1, probed=True), LIMITS)
    assert state.phase is Phase.STARTING
    assert action == Action.wait(LIMITS.start_poll_interval)


def test_default_start_polling_notices_readiness_within_a_few_tens_of_ms() -> None:
    """By default a silent /healthz is asked again after at most 25 ms, so the banner
    follows code-server's readiness closely (it was 100 ms: +80 ms on every start)."""
    defaults = Limits(start_timeout=30, max_idle_seconds=100, check_interval=10, grace_seconds=5)
    _, action = step(initial_state(T0), obs(T0 + 0.3, probed=True), defaults)
    assert action.kind is ActionKind.WAIT and 0 < action.seconds <= 0.025


def test_healthz_answer_makes_it_running_and_schedules_next_probe() -> None:
    """The first answer means ready; the next probe is one check interval later."""
    state, action = step(
        initial_state(T0), obs(T0 + 2, probed=True, health=Health("expired", 0)), LIMITS
    )
    assert state.phase is Phase.RUNNING and state.ready_at == T0 + 2
    assert action == Action.wait(LIMITS.check_interval)


def test_exit_before_ready_is_a_start_failure_and_stops_the_group() -> None:
    """An exit while STARTING is StartFailure.EXITED (not an outcome); the group gets SIGTERM."""
    state, action = step(initial_state(T0), obs(T0 + 1, probed=True, exit_code=3), LIMITS)
    assert state.phase is Phase.STOPPING
    assert state.failure is StartFailure.EXITED and state.outcome is None
    assert state.exit_code == 3
    assert action == Action.send(signal.SIGTERM)


def test_exit_before_ready_with_port_taken_log_is_port_taken() -> None:
    """The loop's port_taken flag turns an early exit into StartFailure.PORT_TAKEN."""
    state, _ = step(
        initial_state(T0), obs(T0 + 1, probed=True, exit_code=1, port_taken=True), LIMITS
    )
    assert state.failure is StartFailure.PORT_TAKEN


def test_start_timeout() -> None:
    """No answer within start_timeout is StartFailure.TIMEOUT, exactly at the deadline."""
    before, _ = step(initial_state(T0), obs(T0 + 29.9, probed=True), LIMITS)
    assert before.phase is Phase.STARTING
    state, action = step(initial_state(T0), obs(T0 + 30, probed=True), LIMITS)
    assert state.failure is StartFailure.TIMEOUT
    assert action == Action.send(signal.SIGTERM)


def test_resume_while_starting_is_honoured() -> None:
    """An explicit resume before the IDE is ready ends the session as RESUMED."""
    state, _ = step(initial_state(T0), obs(T0 + 1, probed=True, resume_requested=True), LIMITS)
    assert (state.phase, state.outcome) == (Phase.STOPPING, Outcome.RESUMED)


def test_clean_exit_while_running_is_server_exited_never_resumed() -> None:
    """code-server exiting with 0 (its own idle timeout) is SERVER_EXITED with the code."""
    state, _ = step(running(), obs(T0 + 50, exit_code=0), LIMITS)
    assert state.outcome is Outcome.SERVER_EXITED
    assert state.exit_code == 0


def test_idle_timeout_without_any_heartbeat_counts_from_launch() -> None:
    """Heartbeat never seen: idle is measured from launch and ends at max_idle_seconds."""
    state = running()
    almost, _ = step(state, obs(T0 + 99, probed=True, health=Health("expired", 0)), LIMITS)
    assert almost.phase is Phase.RUNNING
    done, _ = step(almost, obs(T0 + 100, probed=True, health=Health("expired", 0)), LIMITS)
    assert done.outcome is Outcome.IDLE_TIMEOUT
    assert "no activity for 100 s" in done.detail


def test_heartbeat_refresh_extends_the_idle_deadline() -> None:
    """A lastHeartbeat 10 s before the probe moves activity there and the deadline with it."""
    beat_ms = int((WALL0 + 70) * 1000)
    state, _ = step(running(), obs(T0 + 80, probed=True, health=Health("alive", beat_ms)), LIMITS)
    assert state.last_activity == T0 + 70
    later, _ = step(state, obs(T0 + 160, probed=True, health=Health("alive", beat_ms)), LIMITS)
    assert later.phase is Phase.RUNNING
    gone, _ = step(later, obs(T0 + 170, probed=True, health=Health("alive", beat_ms)), LIMITS)
    assert gone.outcome is Outcome.IDLE_TIMEOUT


def test_heartbeat_file_is_a_fallback_activity_source() -> None:
    """With /healthz silent, the heartbeat file's mtime counts as activity."""
    state, _ = step(running(), obs(T0 + 90, probed=True, heartbeat_file_mtime=WALL0 + 85), LIMITS)
    assert state.last_activity == T0 + 85
    assert state.idle_seconds(T0 + 90) == 5


def test_heartbeat_before_launch_does_not_count() -> None:
    """A stale heartbeat file from an earlier session does not shorten the idle clock."""
    state, _ = step(running(), obs(T0 + 5, probed=True, heartbeat_file_mtime=WALL0 - 500), LIMITS)
    assert state.last_activity == T0


def test_future_heartbeat_counts_once_not_until_the_clock_catches_up() -> None:
    """A heartbeat from the future (clock stepped back) counts as activity once, as 'now'."""
    future_ms = int((WALL0 + 10_000) * 1000)
    health = Health("alive", future_ms)
    state, _ = step(running(), obs(T0 + 5, probed=True, health=health), LIMITS)
    assert state.last_activity == T0 + 5
    still, _ = step(state, obs(T0 + 60, probed=True, health=health), LIMITS)
    assert still.last_activity == T0 + 5
    done, _ = step(still, obs(T0 + 105, probed=True, health=health), LIMITS)
    assert done.outcome is Outcome.IDLE_TIMEOUT


def test_future_heartbeat_file_counts_once() -> None:
    """The same rule for the heartbeat file: an unchanged future mtime is not new activity."""
    mtime = WALL0 + 10_000
    state, _ = step(running(), obs(T0 + 5, probed=True, heartbeat_file_mtime=mtime), LIMITS)
    done, _ = step(state, obs(T0 + 105, probed=True, heartbeat_file_mtime=mtime), LIMITS)
    assert done.outcome is Outcome.IDLE_TIMEOUT


def test_future_heartbeat_is_clamped_to_now() -> None:
    """A heartbeat ahead of our wall clock counts as 'now', never as the future."""
    future_ms = int((WALL0 + 1_000) * 1000)
    state, _ = step(running(), obs(T0 + 5, probed=True, health=Health("alive", future_ms)), LIMITS)
    assert state.last_activity == T0 + 5


def test_next_probe_is_never_after_the_idle_deadline() -> None:
    """Close to the deadline the wait shrinks so idleness is judged on a fresh probe."""
    state, action = step(running(), obs(T0 + 95, probed=True), LIMITS)
    assert state.next_probe_at == T0 + 100
    assert action == Action.wait(5)


def test_idle_is_only_decided_on_a_fresh_probe() -> None:
    """Past the deadline without a probe, the machine waits to probe instead of stopping."""
    state, action = step(running(), obs(T0 + 100, probed=False), LIMITS)
    assert state.phase is Phase.RUNNING
    assert state.probe_due(T0 + 100)
    assert action.kind is ActionKind.WAIT


def test_max_lifetime_ends_an_active_session() -> None:
    """The hard lifetime cap stops even a busy IDE, reported as IDLE_TIMEOUT with a reason."""
    limits = replace(LIMITS, max_lifetime_seconds=60)
    beat_ms = int((WALL0 + 59) * 1000)
    state, _ = step(running(), obs(T0 + 60, probed=True, health=Health("alive", beat_ms)), limits)
    assert state.outcome is Outcome.IDLE_TIMEOUT
    assert "maximum lifetime of 60 s" in state.detail


def test_wait_is_cut_to_the_lifetime_deadline() -> None:
    """The loop sleeps no later than the lifetime deadline."""
    limits = replace(LIMITS, max_lifetime_seconds=13)
    _, action = step(running(), obs(T0 + 8, probed=True, health=Health("alive", 0)), limits)
    assert action == Action.wait(5)


def test_interrupt_beats_resume_and_exit() -> None:
    """When everything happens at once, the interrupt wins and records the signal."""
    state, _ = step(
        running(),
        obs(T0 + 3, resume_requested=True, exit_code=0, interrupts=1, last_signal=signal.SIGINT),
        LIMITS,
    )
    assert state.outcome is Outcome.INTERRUPTED
    assert state.signum == signal.SIGINT
    assert "SIGINT" in state.detail


def test_resume_beats_exit() -> None:
    """An explicit resume seen together with an exit is still RESUMED."""
    state, _ = step(running(), obs(T0 + 3, resume_requested=True, exit_code=0), LIMITS)
    assert state.outcome is Outcome.RESUMED


def test_stopping_escalates_to_sigkill_after_grace_and_finishes_when_group_is_gone() -> None:
    """SIGTERM, wait the grace period, SIGKILL, then FINISH once no process is left."""
    state, action = step(running(), obs(T0 + 1, resume_requested=True), LIMITS)
    assert action == Action.send(signal.SIGTERM)
    state, action = step(state, obs(T0 + 3), LIMITS)
    assert action == Action.wait(LIMITS.stop_poll_interval)
    state, action = step(state, obs(T0 + 6), LIMITS)
    assert action == Action.send(signal.SIGKILL)
    state, action = step(state, obs(T0 + 6.1, group_alive=False, exit_code=-9), LIMITS)
    assert action.kind is ActionKind.FINISH
    assert (state.phase, state.outcome, state.exit_code) == (Phase.DONE, Outcome.RESUMED, -9)


def test_group_gone_after_sigterm_finishes_without_sigkill() -> None:
    """A server that exits on SIGTERM (with its children) is never SIGKILLed."""
    state, _ = step(running(), obs(T0 + 1, resume_requested=True), LIMITS)
    state, action = step(state, obs(T0 + 1.2, group_alive=False, exit_code=0), LIMITS)
    assert action.kind is ActionKind.FINISH
    assert state.kill_sent_at is None


def test_leader_gone_but_grandchild_alive_keeps_stopping() -> None:
    """The leader's exit is not the end: a surviving grandchild gets the SIGKILL."""
    state, _ = step(running(), obs(T0 + 1, exit_code=0), LIMITS)
    assert state.outcome is Outcome.SERVER_EXITED
    state, action = step(state, obs(T0 + 2, exit_code=0, group_alive=True), LIMITS)
    assert action.kind is ActionKind.WAIT
    state, action = step(state, obs(T0 + 7, exit_code=0, group_alive=True), LIMITS)
    assert action == Action.send(signal.SIGKILL)


def test_interrupt_while_stopping_for_resume_turns_into_interrupted() -> None:
    """A SIGTERM during a resume's shutdown means 'end the job', not 'run the task'."""
    state, _ = step(running(), obs(T0 + 1, resume_requested=True), LIMITS)
    state, action = step(state, obs(T0 + 2, interrupts=1, last_signal=signal.SIGTERM), LIMITS)
    assert state.outcome is Outcome.INTERRUPTED
    assert action.kind is ActionKind.WAIT  # first interrupt: still within the grace period


def test_second_interrupt_skips_the_grace_period() -> None:
    """Interrupted twice: SIGKILL right away."""
    state, _ = step(running(), obs(T0 + 1, interrupts=1, last_signal=signal.SIGINT), LIMITS)
    state, action = step(state, obs(T0 + 1.5, interrupts=2, last_signal=signal.SIGINT), LIMITS)
    assert action == Action.send(signal.SIGKILL)


def test_survivors_after_sigkill_end_the_wait_with_a_flag() -> None:
    """Processes stuck after SIGKILL (uninterruptible sleep) do not hang the caller forever."""
    state, _ = step(running(), obs(T0 + 1, resume_requested=True), LIMITS)
    state, _ = step(state, obs(T0 + 6), LIMITS)
    assert state.kill_sent_at == T0 + 6
    state, action = step(state, obs(T0 + 6 + LIMITS.kill_timeout), LIMITS)
    assert action.kind is ActionKind.FINISH
    assert state.survivors


def test_done_is_terminal() -> None:
    """Once DONE, every step answers FINISH and changes nothing."""
    done = replace(running(), phase=Phase.DONE, outcome=Outcome.RESUMED)
    state, action = step(done, obs(T0 + 9, interrupts=5), LIMITS)
    assert state == done and action.kind is ActionKind.FINISH


def test_abort_request_ends_the_session_as_aborted_before_a_resume() -> None:
    """An explicit abort stops the IDE with ABORTED, even when a resume came at once."""
    both = obs(T0 + 11, abort_requested=True, resume_requested=True)
    state, _ = step(running(), both, LIMITS)
    assert (state.phase, state.outcome) == (Phase.STOPPING, Outcome.ABORTED)
