"""The election/parking protocol, with threads as ranks on an in-memory store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.fakes import FakeClock, FakeStore
from vscode_interactive._distributed._protocol import (
    CoordinationError,
    Coordinator,
    Election,
    SessionEnd,
)
from vscode_interactive._distributed._report import RankReport
from vscode_interactive._distributed._store import PrefixedStore
from vscode_interactive._system._os import SystemClock

DEADLINE = 30.0  # generous: threads on a loaded 2-core machine


def elect(coordinator: Coordinator, me: RankReport) -> Election:
    """``coordinator.elect(me)``, in a job whose session has not ended."""
    election = coordinator.elect(me)
    assert isinstance(election, Election), election
    return election


def report(rank: int, exception: str | None = "ValueError: boom") -> RankReport:
    return RankReport(rank=rank, host=f"node-{rank}", pid=100 + rank, exception=exception)


def coordinator(store: FakeStore, world_size: int, **options: float) -> Coordinator:
    settings: dict[str, float] = {"tie_window": 5.0, "poll_interval": 0.05, "elect_timeout": 20.0}
    settings.update(options)
    return Coordinator(store, world_size=world_size, clock=SystemClock(), **settings)


def wait_for_key(store: FakeStore, key: str) -> None:
    assert store.wait([key], DEADLINE), f"{key} never appeared"


class Ranks:
    """Runs one rank's side of a round per thread: elect, then host or park."""

    def __init__(self, store: FakeStore, world_size: int, **options: float) -> None:
        self.store = store
        self.world_size = world_size
        self.options = options
        self.pool = ThreadPoolExecutor(max_workers=world_size)
        self.elections: dict[int, Election] = {}

    def start(
        self, rank: int, host: Callable[[Coordinator, Election], SessionEnd]
    ) -> Future[SessionEnd]:
        def run() -> SessionEnd:
            coord = coordinator(self.store, self.world_size, **self.options)
            election = elect(coord, report(rank))
            self.elections[rank] = election
            if election.hosting:
                end = host(coord, election)
                coord.conclude(election, end)
                return end
            return coord.park(election)

        return self.pool.submit(run)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


def resume(coord: Coordinator, election: Election) -> SessionEnd:
    return SessionEnd("resumed", participants=coord.gather(election))


def idle(coord: Coordinator, election: Election) -> SessionEnd:
    return SessionEnd("idle_timeout", detail="idle for 60 s", url="http://127.0.0.1:8080/")


def test_first_failing_rank_hosts_and_a_later_rank_parks(store: FakeStore) -> None:
    """Rank 1 fails alone and hosts; rank 0 stops later, parks, and both resume together."""
    ranks = Ranks(store, 2, tie_window=0.05)
    try:
        release = threading.Event()

        def host(coord: Coordinator, election: Election) -> SessionEnd:
            assert release.wait(DEADLINE)
            return resume(coord, election)

        first = ranks.start(1, host)
        wait_for_key(store, "r0/host")
        second = ranks.start(0, host)
        wait_for_key(store, "r0/arrival/2")
        release.set()
        ends = [first.result(DEADLINE), second.result(DEADLINE)]
    finally:
        ranks.close()
    assert store.data["r0/host"] == b"1"
    assert ranks.elections[0].host == report(1)
    assert not ranks.elections[0].hosting and ranks.elections[1].hosting
    assert ends == [SessionEnd("resumed", participants=(0, 1))] * 2
    assert all(end.includes(0) and end.includes(1) for end in ends)


def test_ranks_failing_at_once_elect_the_lowest(store: FakeStore) -> None:
    """Rank 1 arrives first, rank 0 within the tie window: rank 0 hosts, rank 1 parks."""
    ranks = Ranks(store, 2, tie_window=DEADLINE)
    try:
        hosted: list[int] = []

        def host(coord: Coordinator, election: Election) -> SessionEnd:
            hosted.append(election.me.rank)
            assert [r.rank for r in coord.reports(election)] == [0, 1]
            return resume(coord, election)

        first = ranks.start(1, host)
        wait_for_key(store, "r0/arrival/1")
        second = ranks.start(0, host)
        assert first.result(DEADLINE).participants == (0, 1)
        assert second.result(DEADLINE).participants == (0, 1)
    finally:
        ranks.close()
    assert hosted == [0]


def test_tie_window_ends_the_election_without_the_missing_ranks(store: FakeStore) -> None:
    """With ranks 2 and 1 stopped and rank 0 still running, rank 1 hosts after the window."""
    ranks = Ranks(store, 3, tie_window=0.2, gather_timeout=0.0)
    try:
        first = ranks.start(2, resume)
        wait_for_key(store, "r0/arrival/1")
        second = ranks.start(1, resume)
        ends = {first.result(DEADLINE), second.result(DEADLINE)}
    finally:
        ranks.close()
    assert store.data["r0/host"] == b"1"
    assert ends == {SessionEnd("resumed", participants=(1, 2))}


def test_idle_timeout_reaches_every_parked_rank(store: FakeStore) -> None:
    """A round that ends idle ends every rank's wait with the same outcome, no resume."""
    ranks = Ranks(store, 3, tie_window=DEADLINE)
    try:
        futures = [ranks.start(rank, idle) for rank in (2, 0, 1)]
        ends = [future.result(DEADLINE) for future in futures]
    finally:
        ranks.close()
    assert {end.kind for end in ends} == {"idle_timeout"}
    assert not any(end.includes(rank) for end in ends for rank in range(3))


def test_host_announces_its_url_to_parked_ranks() -> None:
    """A parked rank learns the IDE's URL once, as soon as the host publishes it."""
    clock = FakeClock()
    store = FakeStore(clock)
    host, parked = (
        Coordinator(store, world_size=2, clock=clock),
        Coordinator(store, world_size=2, clock=clock, poll_interval=1.0),
    )
    election_1 = elect(host, report(1))
    election_0 = elect(parked, report(0))
    urls: list[str] = []
    steps: list[Callable[[], None]] = [
        lambda: host.announce(election_1, "http://127.0.0.1:9000/"),
        lambda: None,
        lambda: host.conclude(election_1, SessionEnd("aborted")),
    ]
    clock.on_sleep.append(lambda _: steps.pop(0)())
    end = parked.park(election_0, on_url=urls.append)
    assert urls == ["http://127.0.0.1:9000/"]
    assert end == SessionEnd("aborted")


def test_gather_waits_for_late_ranks_only_up_to_its_timeout() -> None:
    """A resume does not wait forever for a rank that never parks: it goes on without it."""
    clock = FakeClock()
    store = FakeStore(clock)
    coord = Coordinator(store, world_size=2, clock=clock, gather_timeout=10.0, tie_window=1.0)
    election = elect(coord, report(1))
    started = clock.monotonic()
    assert coord.gather(election) == (1,)
    assert clock.monotonic() - started == pytest.approx(10.0, abs=1.0)


def test_gather_does_not_wait_for_finished_ranks() -> None:
    """A rank whose call returned counts as present: the resume needs no wait for it."""
    clock = FakeClock()
    store = FakeStore(clock)
    Coordinator(store, world_size=2, clock=clock).finished()
    coord = Coordinator(store, world_size=2, clock=clock, tie_window=1.0)
    election = elect(coord, report(1))
    started = clock.monotonic()
    assert coord.gather(election) == (1,)
    assert clock.monotonic() - started <= 1.0


def test_concluding_opens_the_next_round() -> None:
    """After a round ends, the next failure starts a new election with its own host."""
    clock = FakeClock()
    store = FakeStore(clock)
    first = Coordinator(store, world_size=2, clock=clock, tie_window=1.0)
    election = elect(first, report(1))
    first.conclude(election, SessionEnd("resumed", participants=(1,)))
    again = elect(first, report(0, "KeyError: 'x'"))
    assert (again.round, again.host.rank, again.hosting) == (1, 0, True)
    assert SessionEnd.from_bytes(store.data["r0/outcome"]).participants == (1,)


def test_a_rank_left_out_of_a_resume_sees_it_and_can_elect_again() -> None:
    """A rank that parks in a round that resumed without it is told so (not included)."""
    clock = FakeClock()
    store = FakeStore(clock)
    coord = Coordinator(store, world_size=2, clock=clock, tie_window=1.0)
    host = elect(coord, report(1))
    late = Election(round=0, me=report(0), host=host.host)
    coord.conclude(host, SessionEnd("resumed", participants=(1,)))
    end = coord.park(late)
    assert end.resumed and not end.includes(0)
    assert elect(coord, report(0)).round == 1


def test_no_host_named_in_time_raises_coordination_error() -> None:
    """If the first arrival stops answering before naming a host, the others give up."""
    clock = FakeClock()
    store = FakeStore(clock)
    store.add("r0/arrivals", 1)  # a rank arrived first and died before naming the host
    store.set("r0/arrival/1", b"3")
    coord = Coordinator(store, world_size=4, clock=clock, elect_timeout=30.0)
    with pytest.raises(CoordinationError, match="no rank was named to host"):
        elect(coord, report(0))
    assert clock.monotonic() >= 1_030.0


def test_unreadable_values_do_not_crash_the_protocol() -> None:
    """Garbage in the store decodes to a report/outcome that says it was unreadable."""
    assert SessionEnd.from_bytes(b"\xff").kind == "failed"
    assert SessionEnd.from_bytes(b"[1]").kind == "failed"
    broken = RankReport.from_bytes(b"{}", rank=4)
    assert broken.rank == 4 and "unreadable" in (broken.exception or "")


def test_round_trip_of_reports_and_outcomes() -> None:
    """Reports and outcomes survive the store's bytes unchanged."""
    rep = RankReport(rank=2, host="h", pid=7, exception="E: x", frame="/a.py:3 in f")
    assert RankReport.from_bytes(rep.to_bytes(), rank=0) == rep
    end = SessionEnd("resumed", detail="d", url="u", participants=(0, 2))
    assert SessionEnd.from_bytes(end.to_bytes()) == end


def test_prefixed_store_scopes_every_key() -> None:
    """Two jobs on one store see only their own keys."""
    shared = FakeStore()
    a, b = PrefixedStore(shared, "vscode_interactive/a/"), PrefixedStore(shared, "vi/b")
    a.set("k", b"1")
    assert a.add("n", 2) == 2 and b.add("n", 1) == 1
    assert a.compare_set("h", b"", b"x") == b"x"
    assert a.check(["k"]) and not b.check(["k"])
    assert a.wait(["k"], 0.0) and not b.wait(["k"], 0.0)
    assert a.get("k") == b"1"
    assert sorted(shared.data) == [
        "vi/b/n",
        "vscode_interactive/a/h",
        "vscode_interactive/a/k",
        "vscode_interactive/a/n",
    ]


def test_after_an_end_without_resume_no_rank_opens_another_ide() -> None:
    """Once the session ended (idle), a rank that stops later is told so, not elected."""
    clock = FakeClock()
    store = FakeStore(clock)
    coord = Coordinator(store, world_size=2, clock=clock, tie_window=1.0)
    election = elect(coord, report(1))
    coord.conclude(election, SessionEnd("idle_timeout", detail="idle"))
    assert coord.elect(report(0)) == SessionEnd("idle_timeout", detail="idle")
    assert coord.ended() == SessionEnd("idle_timeout", detail="idle")
    assert not store.check(["r1/arrivals"])


def test_leaving_ranks_wait_for_each_other() -> None:
    """A rank that stops after the end leaves once every other rank left (or finished),
    else at its timeout."""
    clock = FakeClock()
    store = FakeStore(clock)
    coord = Coordinator(store, world_size=3, clock=clock)
    others: list[Callable[[], object]] = [coord.finished, lambda: store.add("departed", 1)]

    def the_others_leave(_: FakeClock) -> None:
        if others:
            others.pop(0)()

    clock.on_sleep.append(the_others_leave)
    started = clock.monotonic()
    assert coord.depart(timeout=60.0) == 0
    assert clock.monotonic() - started == pytest.approx(0.1)
    lonely = Coordinator(FakeStore(clock), world_size=3, clock=clock)
    assert lonely.depart(timeout=5.0) == 2


def test_a_parked_rank_gives_up_on_a_silent_host() -> None:
    """No heartbeat from the host for host_silence: the round ends as failed for this rank."""
    clock = FakeClock()
    store = FakeStore(clock)
    host = Coordinator(store, world_size=2, clock=clock, tie_window=1.0)
    parked = Coordinator(store, world_size=2, clock=clock, host_silence=30.0)
    host_election = elect(host, report(1))
    election = elect(parked, report(0))
    beats = [1, 1, 1]  # the host beats during the first three polls, then dies

    def maybe_beat(_: FakeClock) -> None:
        if beats:
            beats.pop()
            host.beat(host_election)

    clock.on_sleep.append(maybe_beat)
    started = clock.monotonic()
    end = parked.park(election)
    assert end.kind == "failed" and "rank 1 on node-1 (pid 101) stopped answering" in end.detail
    assert clock.monotonic() - started == 33.0
