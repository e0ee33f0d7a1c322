"""Work done while code-server boots (``Supervisor.run(_while_starting=...)``), on fakes:
it runs once, after the launch and before the banner, which shows what it prepared; if it
fails, code-server is stopped and nothing is announced."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.fakes import FakeProcess
from tests.test_supervisor import Rig
from vscode_interactive._supervision._policy import Outcome
from vscode_interactive._supervision._seams import Prepared


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_runs_after_the_launch_and_before_the_banner_which_shows_its_facts(rig: Rig) -> None:
    """code-server is already launched (and nothing announced) when the work runs; the
    banner then offers the post-mortem and says where the edits go."""
    seen: list[tuple[int, int]] = []

    def prepare() -> Prepared:
        seen.append((len(rig.launcher.launches), len(rig.announced)))
        return Prepared(post_mortem=True, edits_note="a patch goes to /tmp/x.patch")

    sup = rig.supervisor(FakeProcess(rig.clock))
    rig.at(40, sup.request_resume)
    result = sup.run(_while_starting=prepare)
    assert seen == [(1, 0)]
    assert result.outcome is Outcome.RESUMED
    (banner,) = rig.announced
    assert "press F5" in banner and "Your edits: a patch goes to /tmp/x.patch" in banner
    assert sup.options.post_mortem and sup.options.edits_note == "a patch goes to /tmp/x.patch"


def test_without_a_post_mortem_the_banner_does_not_offer_one(rig: Rig) -> None:
    """What was prepared decides the banner, not the options given at construction."""
    sup = rig.supervisor(FakeProcess(rig.clock), post_mortem=True, edits_note="old note")
    rig.at(40, sup.request_resume)
    sup.run(_while_starting=lambda: Prepared(post_mortem=False, edits_note=None))
    (banner,) = rig.announced
    assert "press F5" not in banner and "old note" not in banner


def test_a_failure_stops_code_server_and_announces_nothing(rig: Rig) -> None:
    """The work raising (say the workspace is not writable) kills code-server's group at
    once, removes the session's files and raises that error."""
    process = FakeProcess(rig.clock)
    sup = rig.supervisor(process)

    def prepare() -> Prepared:
        raise PermissionError("the workspace is read-only")

    with pytest.raises(PermissionError, match="read-only"):
        sup.run(_while_starting=prepare)
    assert process.signals == [signal.SIGKILL] and not process.group_alive()
    assert rig.announced == []
    assert not rig.layout.session_info.exists() and not rig.layout.resume_socket.exists()


def test_a_relaunch_on_another_port_does_not_prepare_again(rig: Rig) -> None:
    """The first port lost a race and code-server starts again: the work ran once."""
    rig.free_ports = (41000, 41001)
    lost = FakeProcess(
        rig.clock, exits_at=rig.start + 0.2, exit_code=1, log_text="listen EADDRINUSE\n"
    )
    calls: list[int] = []

    def prepare() -> Prepared:
        calls.append(len(rig.launcher.launches))
        return Prepared()

    sup = rig.supervisor(lost, FakeProcess(rig.clock, pid=5))
    rig.at(5, sup.request_resume)
    result = sup.run(_while_starting=prepare)
    assert calls == [1] and len(rig.launcher.launches) == 2
    assert (result.outcome, result.port) == (Outcome.RESUMED, 41001)
