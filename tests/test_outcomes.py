"""One mapping from how a supervision ended to what its caller raises."""

from __future__ import annotations

import signal

import pytest

from vscode_interactive import IdleTimeoutError, Outcome, ServerExitedError, SupervisionResult
from vscode_interactive._supervision._outcomes import raise_for_outcome


def _result(outcome: Outcome, **changes: object) -> SupervisionResult:
    fields: dict[str, object] = {
        "outcome": outcome,
        "url": "http://127.0.0.1:8080",
        "port": 8080,
        "exit_code": None,
        "log_tail": "",
        "idle_seconds": 0.0,
        "server_pid": 4321,
    }
    fields.update(changes)
    return SupervisionResult(**fields)  # type: ignore[arg-type]  # test plumbing


def test_idle_timeout_names_url_limit_and_detail_and_chains_the_failure() -> None:
    """IDLE_TIMEOUT: IdleTimeoutError with the idle seconds, chained to the task's failure."""
    failure = ZeroDivisionError("division by zero")
    result = _result(Outcome.IDLE_TIMEOUT, idle_seconds=61.2, detail="no activity for 61 s")
    with pytest.raises(IdleTimeoutError) as info:
        raise_for_outcome(result, max_idle_seconds=60, failure=failure)
    message = str(info.value)
    assert "http://127.0.0.1:8080" in message
    assert "idle for 61 s (limit 60 s)" in message
    assert "no activity for 61 s" in message
    assert "the original failure follows" in message
    assert info.value.idle_seconds == 61.2
    assert info.value.__cause__ is failure


def test_server_exited_carries_exit_code_port_and_log_tail() -> None:
    """SERVER_EXITED (even with code 0) is ServerExitedError with the end of the log."""
    result = _result(Outcome.SERVER_EXITED, exit_code=0, log_tail="bye\n")
    with pytest.raises(ServerExitedError, match="exited with code 0") as info:
        raise_for_outcome(result, max_idle_seconds=60)
    assert info.value.exit_code == 0
    assert info.value.port == 8080
    assert info.value.log_tail == "bye\n"
    assert "bye" in str(info.value)
    assert "not run again" in str(info.value)
    assert info.value.__cause__ is None


def test_an_attached_server_without_url_is_named_by_pid() -> None:
    """Without a URL (exit_handler with url=None) the message names the server's pid, and
    an unknown port (0) is reported as None."""
    result = _result(Outcome.SERVER_EXITED, url="", port=0, exit_code=3)
    with pytest.raises(ServerExitedError, match="code-server at pid 4321 exited") as info:
        raise_for_outcome(result, max_idle_seconds=60)
    assert info.value.port is None


@pytest.mark.parametrize(
    ("signum", "expected"),
    [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit), (None, SystemExit)],
)
def test_interrupted_is_keyboard_interrupt_or_shell_exit_status(
    signum: int | None, expected: type[BaseException]
) -> None:
    """INTERRUPTED: KeyboardInterrupt for SIGINT, else SystemExit(128 + n) (SIGTERM if
    the signal is unknown)."""
    with pytest.raises(expected) as info:
        raise_for_outcome(_result(Outcome.INTERRUPTED, signal=signum), max_idle_seconds=60)
    if isinstance(info.value, SystemExit):
        assert info.value.code == 128 + (signum or signal.SIGTERM)


def test_resumed_is_not_an_error_to_raise() -> None:
    """RESUMED has no exception: asking for one is a programming error (ValueError)."""
    with pytest.raises(ValueError, match="not a failure"):
        raise_for_outcome(_result(Outcome.RESUMED), max_idle_seconds=60)
