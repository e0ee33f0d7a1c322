"""The idle clock in the pure policy: extension activity first, heartbeat only as fallback."""

from __future__ import annotations

import signal
from dataclasses import replace
from typing import Any

from vscode_interactive._ports import Health
from vscode_interactive._supervision._policy import (
    Action,
    ActionKind,
    IdleSource,
    Limits,
    Observation,
    Outcome,
    Phase,
    State,
    initial_state,
    step,
)

LIMITS = Limits(start_timeout=30, max_idle_seconds=100, check_interval=10, grace_seconds=5)
T0 = 1000.0
WALL0 = 1_700_000_000.0


def obs(at: float, *, wall_shift: float = 0.0, **fields: Any) -> Observation:
    """An observation at monotonic ``at``; the wall clock runs alongside (plus a jump)."""
    return replace(Observation(monotonic=at, wall=WALL0 + (at - T0) + wall_shift), **fields)


def beat(at_wall_offset: float) -> Health:
    """code-server's /healthz with a heartbeat at WALL0 + offset."""
    return Health("alive", int((WALL0 + at_wall_offset) * 1000))


def ready(at: float = T0 + 2) -> State:
    state, _ = step(initial_state(T0), obs(at, probed=True, health=Health("expired", 0)), LIMITS)
    assert state.phase is Phase.RUNNING
    return state


def test_the_idle_clock_starts_when_the_ide_is_ready() -> None:
    """A slow start does not eat into the idle limit: idle counts from readiness."""
    state = ready(T0 + 25)
    assert state.last_activity == T0 + 25
    alive, _ = step(state, obs(T0 + 124, probed=True), LIMITS)
    assert alive.phase is Phase.RUNNING
    done, _ = step(alive, obs(T0 + 125, probed=True), LIMITS)
    assert done.outcome is Outcome.IDLE_TIMEOUT


def test_without_an_extension_window_the_heartbeat_is_the_source() -> None:
    """Fallback: while no window with the extension connected, heartbeats count."""
    state, _ = step(ready(), obs(T0 + 60, probed=True, health=beat(55)), LIMITS)
    assert state.idle_source is IdleSource.HEARTBEAT
    assert state.last_activity == T0 + 55


def test_extension_activity_moves_the_idle_clock() -> None:
    """A report from the extension is activity at the instant it arrived."""
    state, _ = step(ready(), obs(T0 + 50, extension_activity=T0 + 48), LIMITS)
    assert state.idle_source is IdleSource.EXTENSION
    assert state.last_activity == T0 + 48
    alive, _ = step(state, obs(T0 + 147, probed=True, extension_activity=T0 + 48), LIMITS)
    assert alive.phase is Phase.RUNNING
    done, _ = step(alive, obs(T0 + 148, extension_activity=T0 + 48), LIMITS)
    assert done.outcome is Outcome.IDLE_TIMEOUT
    assert "idle source: extension" in done.detail


def test_an_open_untouched_tab_is_idle_once_the_extension_connected() -> None:
    """The heartbeat of an open tab keeps beating; with the extension in use it is ignored."""
    state, _ = step(ready(), obs(T0 + 10, extension_activity=T0 + 10), LIMITS)
    for at in range(20, 110, 10):  # code-server re-beats while the socket is open
        state, _ = step(
            state, obs(T0 + at, probed=True, health=beat(at), extension_activity=T0 + 10), LIMITS
        )
    assert state.phase is Phase.RUNNING and state.last_activity == T0 + 10
    done, _ = step(
        state, obs(T0 + 110, probed=True, health=beat(110), extension_activity=T0 + 10), LIMITS
    )
    assert done.outcome is Outcome.IDLE_TIMEOUT


def test_an_extension_connecting_late_takes_over_from_the_heartbeat() -> None:
    """Heartbeats count until the first report; after it, only reports do, for good."""
    state, _ = step(ready(), obs(T0 + 90, probed=True, health=beat(85)), LIMITS)
    assert state.last_activity == T0 + 85
    state, _ = step(state, obs(T0 + 150, extension_activity=T0 + 150), LIMITS)
    assert (state.idle_source, state.last_activity) == (IdleSource.EXTENSION, T0 + 150)
    state, _ = step(
        state, obs(T0 + 240, probed=True, health=beat(239), extension_activity=T0 + 150), LIMITS
    )
    assert state.last_activity == T0 + 150
    done, _ = step(state, obs(T0 + 250, probed=True, extension_activity=T0 + 150), LIMITS)
    assert done.outcome is Outcome.IDLE_TIMEOUT


def test_a_report_older_than_the_heartbeat_does_not_move_the_clock_back() -> None:
    """Switching source keeps the latest activity seen so far."""
    state, _ = step(ready(), obs(T0 + 60, probed=True, health=beat(58)), LIMITS)
    state, _ = step(state, obs(T0 + 61, extension_activity=T0 + 40), LIMITS)
    assert state.idle_source is IdleSource.EXTENSION and state.last_activity == T0 + 58


def test_wall_clock_jumps_do_not_move_the_deadline() -> None:
    """With the extension as source, the wall clock jumping an hour either way changes nothing."""
    state, _ = step(ready(), obs(T0 + 10, extension_activity=T0 + 10), LIMITS)
    for shift in (3600.0, -3600.0):
        moved, _ = step(
            state,
            obs(T0 + 50, wall_shift=shift, probed=True, health=beat(50 + shift)),
            LIMITS,
        )
        assert moved.last_activity == T0 + 10
        assert moved.next_probe_at <= T0 + 110


def test_a_monotonic_jump_past_the_deadline_stops_at_the_next_step() -> None:
    """Time jumping far ahead (a stalled loop) ends the session at once, as idle."""
    state, _ = step(ready(), obs(T0 + 10, extension_activity=T0 + 10), LIMITS)
    done, action = step(state, obs(T0 + 5000, extension_activity=T0 + 10), LIMITS)
    assert done.outcome is Outcome.IDLE_TIMEOUT
    assert action == Action.send(signal.SIGTERM)


def test_a_report_from_the_future_counts_as_now() -> None:
    """A report stamped later than the observation never keeps the session up beyond now."""
    state, _ = step(ready(), obs(T0 + 10, extension_activity=T0 + 500), LIMITS)
    assert state.last_activity == T0 + 10


def test_activity_after_the_deadline_but_before_the_stop_still_counts() -> None:
    """Someone typed just after the deadline, before the loop woke: the session stays up."""
    state, _ = step(ready(), obs(T0 + 10, extension_activity=T0 + 10), LIMITS)
    saved, action = step(state, obs(T0 + 111, extension_activity=T0 + 110.5), LIMITS)
    assert saved.phase is Phase.RUNNING
    assert saved.last_activity == T0 + 110.5
    assert action.kind is ActionKind.WAIT


def test_activity_while_stopping_does_not_undo_the_stop() -> None:
    """Once the idle stop began, a late report changes nothing."""
    state, _ = step(ready(), obs(T0 + 10, extension_activity=T0 + 10), LIMITS)
    stopping, _ = step(state, obs(T0 + 120, extension_activity=T0 + 10), LIMITS)
    assert stopping.phase is Phase.STOPPING
    after, _ = step(stopping, obs(T0 + 121, extension_activity=T0 + 121), LIMITS)
    assert after.phase is Phase.STOPPING and after.outcome is Outcome.IDLE_TIMEOUT
    assert after.last_activity == T0 + 10


def test_with_the_extension_the_stop_needs_no_fresh_probe() -> None:
    """Reports are in memory: past the deadline the session stops without waiting to probe."""
    state, _ = step(ready(), obs(T0 + 10, extension_activity=T0 + 10), LIMITS)
    done, _ = step(state, obs(T0 + 110, probed=False, extension_activity=T0 + 10), LIMITS)
    assert done.outcome is Outcome.IDLE_TIMEOUT
