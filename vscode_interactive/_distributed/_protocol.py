"""One IDE for the whole job: electing its host, parking the others, one outcome for all.

Every rank that stops (its own exception, a collective that timed out, or a session that
opens before the call) goes through :meth:`Coordinator.elect`; exactly one rank per round
hosts the IDE and the others park in :meth:`Coordinator.park` until the host concludes.
All agreement goes through a :class:`~._store.CoordinationStore` (keys relative to the
job's namespace)::

    round                   the open round (a counter; the host bumps it when it concludes)
    r<N>/report/<rank>      that rank's RankReport (JSON)
    r<N>/arrivals           how many ranks stopped in round N (a counter)
    r<N>/arrival/<i>        the rank that arrived i-th (1-based)
    r<N>/host               the rank that hosts the IDE of round N
    r<N>/session            the URL of that IDE, once it answers
    r<N>/beat               the host's heartbeat (a counter it bumps every second or so)
    r<N>/outcome            how round N ended (SessionEnd, JSON)
    ended                   the outcome that ended the job's session (anything but a resume)
    departed                ranks that saw that end and are about to stop (a counter)
    finished                ranks whose call returned (they will not park)

The election: the first arrival waits until every rank arrived or ``tie_window`` passed,
then names the lowest rank among the arrivals so far (ties go to the lowest rank). On a
resume the host first waits for every rank that has not finished to park, so that all
of them call the function again together and their collectives line up. Any other end
ends the session for the whole job: a rank that stops later does not open a new IDE but
stops too; every leaving rank waits (briefly) until all the others are leaving as well, so
that they raise together and the launcher, which kills the whole job when the first rank
exits, does not kill one before it reported its own failure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from .._errors import VscodeInteractiveError
from .._ports import Clock
from ._report import RankReport
from ._store import CoordinationStore

__all__ = [
    "RESUMED",
    "CoordinationError",
    "Coordinator",
    "Election",
    "SessionEnd",
]

logger = logging.getLogger("vscode_interactive")

#: The outcome that makes every participant call the function again.
RESUMED = "resumed"
# Leaving ranks look this often whether the others leave too: they should exit together.
_DEPART_POLL = 0.05


class CoordinationError(VscodeInteractiveError, RuntimeError):
    """The ranks could not agree through the store (it stopped answering, or a rank
    that had to answer never did)."""


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """How a round ended, as the host publishes it.

    ``kind`` is ``resumed`` or the reason the IDE stopped (``idle_timeout``,
    ``server_exited``, ``interrupted``, ``aborted``, ``failed``); ``participants`` are
    the ranks that call the function again after a resume.
    """

    kind: str
    detail: str = ""
    url: str = ""
    participants: tuple[int, ...] = ()

    @property
    def resumed(self) -> bool:
        return self.kind == RESUMED

    def includes(self, rank: int) -> bool:
        """Whether ``rank`` calls the function again (a resume it took part in)."""
        return self.resumed and rank in self.participants

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "kind": self.kind,
                "detail": self.detail,
                "url": self.url,
                "participants": list(self.participants),
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> SessionEnd:
        """Decode an outcome; an unreadable one ends the round as ``failed``."""
        try:
            raw = json.loads(data.decode())
            if not isinstance(raw, dict):
                raise TypeError(type(raw).__name__)
            return cls(
                kind=str(raw["kind"]),
                detail=str(raw.get("detail", "")),
                url=str(raw.get("url", "")),
                participants=tuple(int(rank) for rank in raw.get("participants", [])),
            )
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
            return cls(kind="failed", detail=f"unreadable outcome in the store ({error})")


@dataclass(frozen=True, slots=True)
class Election:
    """The result of :meth:`Coordinator.elect`: this rank, the host, the round."""

    round: int
    me: RankReport
    host: RankReport

    @property
    def hosting(self) -> bool:
        return self.me.rank == self.host.rank


def elect_host(ranks: list[int]) -> int:
    """The host among the ranks that arrived within the tie window: the lowest."""
    if not ranks:
        raise ValueError("no rank arrived")
    return min(ranks)


class Coordinator:
    """This rank's side of the protocol (see the module docstring).

    ``store`` is already scoped to the job. Waits are at most ``poll_interval`` long, so
    a waiting rank logs what it waits for and notices Ctrl-C; ``elect_timeout`` bounds
    the wait for a host to be named, ``gather_timeout`` the host's wait for the other
    ranks to park after a resume; a parked rank gives up on a host whose heartbeat did
    not move for ``host_silence`` seconds (it died without concluding).
    """

    def __init__(
        self,
        store: CoordinationStore,
        *,
        world_size: int,
        clock: Clock,
        tie_window: float = 2.0,
        poll_interval: float = 1.0,
        elect_timeout: float = 120.0,
        gather_timeout: float = 600.0,
        host_silence: float = 60.0,
        log_every: float = 30.0,
    ) -> None:
        self.store = store
        self.world_size = world_size
        self.clock = clock
        self.tie_window = tie_window
        self.poll_interval = poll_interval
        self.elect_timeout = elect_timeout
        self.gather_timeout = gather_timeout
        self.host_silence = host_silence
        self.log_every = log_every

    # -- every rank -------------------------------------------------------------------

    def ended(self) -> SessionEnd | None:
        """How the job's session ended, once it ended without a resume."""
        if not self.store.check(["ended"]):
            return None
        return SessionEnd.from_bytes(self.store.get("ended"))

    def elect(self, me: RankReport) -> Election | SessionEnd:
        """Register ``me`` in the open round and return who hosts its IDE, or how the
        job's session ended when it already did."""
        number = self.store.add("round", 0)
        end = self.ended()
        if end is not None:
            return end
        prefix = f"r{number}/"
        self.store.set(f"{prefix}report/{me.rank}", me.to_bytes())
        seq = self.store.add(f"{prefix}arrivals", 1)
        self.store.set(f"{prefix}arrival/{seq}", str(me.rank).encode())
        if seq == 1:
            self.store.wait([f"{prefix}arrival/{self.world_size}"], self.tie_window)
            host = elect_host(self._arrived(number))
            self.store.compare_set(f"{prefix}host", b"", str(host).encode())
        if not self._wait_for([f"{prefix}host"], self.elect_timeout, "a host to be named"):
            raise CoordinationError(
                f"rank {me.rank}: no rank was named to host the IDE of round {number} within "
                f"{self.elect_timeout:g} s; the rank that arrived first there stopped answering"
            )
        host_rank = int(self.store.get(f"{prefix}host"))
        return Election(round=number, me=me, host=self.report(number, host_rank))

    def report(self, number: int, rank: int) -> RankReport:
        """The report rank ``rank`` left in round ``number``."""
        return RankReport.from_bytes(self.store.get(f"r{number}/report/{rank}"), rank=rank)

    def reports(self, election: Election) -> list[RankReport]:
        """Every rank that stopped in the election's round so far, lowest rank first."""
        return [self.report(election.round, rank) for rank in self._arrived(election.round)]

    def finished(self) -> None:
        """This rank's call returned: the host need not wait for it to park."""
        self.store.add("finished", 1)

    # -- parked ranks -----------------------------------------------------------------

    def park(
        self, election: Election, *, on_url: Callable[[str], None] | None = None
    ) -> SessionEnd:
        """Wait for the host to conclude the round; call ``on_url`` once its IDE answers.

        A host whose heartbeat stops for ``host_silence`` ends the round as ``failed``."""
        prefix = f"r{election.round}/"
        url_seen = False
        started = last_log = heard_at = self.clock.monotonic()
        beats = self.store.add(f"{prefix}beat", 0)
        while not self.store.check([f"{prefix}outcome"]):
            if not url_seen and self.store.check([f"{prefix}session"]):
                url_seen = True
                if on_url is not None:
                    on_url(self.store.get(f"{prefix}session").decode())
            now = self.clock.monotonic()
            latest = self.store.add(f"{prefix}beat", 0)
            if latest != beats:
                beats, heard_at = latest, now
            elif now - heard_at >= self.host_silence:
                return SessionEnd(
                    "failed",
                    detail=f"{election.host.describe()} stopped answering (no heartbeat for "
                    f"{now - heard_at:.0f} s)",
                )
            if now - last_log >= self.log_every:
                last_log = now
                logger.info(
                    "rank %d still parked after %.0f s: %s holds the IDE",
                    election.me.rank,
                    now - started,
                    election.host.describe(),
                )
            self.store.wait([f"{prefix}outcome"], self.poll_interval)
        return SessionEnd.from_bytes(self.store.get(f"{prefix}outcome"))

    # -- the host ---------------------------------------------------------------------

    def beat(self, election: Election) -> None:
        """The host is alive (call it every second or so until the round concludes)."""
        self.store.add(f"r{election.round}/beat", 1)

    def announce(self, election: Election, url: str) -> None:
        """Tell the parked ranks where the IDE is."""
        self.store.set(f"r{election.round}/session", url.encode())

    def gather(self, election: Election) -> tuple[int, ...]:
        """Wait until every rank that has not finished has parked (at most
        ``gather_timeout``); the ranks that will call the function again."""
        number = election.round
        deadline = self.clock.monotonic() + self.gather_timeout
        logged_at: float | None = None
        while True:
            arrived = self._arrived(number)
            finished = self.store.add("finished", 0)
            now = self.clock.monotonic()
            if len(arrived) + finished >= self.world_size or now >= deadline:
                break
            if logged_at is None or now - logged_at >= self.log_every:
                logged_at = now
                missing = sorted(set(range(self.world_size)) - set(arrived))
                logger.info(
                    "resume: waiting up to %.0f s more for rank(s) %s to stop and park "
                    "(still running, or stuck in a collective until it times out)",
                    deadline - now,
                    _ranks(missing),
                )
            self.store.wait(
                [f"r{number}/arrival/{self.world_size - finished}"],
                min(self.poll_interval, deadline - now),
            )
        if len(arrived) + finished < self.world_size:
            missing = sorted(set(range(self.world_size)) - set(arrived))
            logger.warning(
                "resume: rank(s) %s did not park within %.0f s; resuming rank(s) %s without "
                "them (their collectives will not line up)",
                _ranks(missing),
                self.gather_timeout,
                _ranks(arrived),
            )
        return tuple(arrived)

    def conclude(self, election: Election, end: SessionEnd) -> None:
        """Publish how the round ended and open the next one (after a resume)."""
        # Order matters to a rank electing meanwhile (it reads the round, then "ended"):
        # the outcome first, then "ended", then the new round.
        self.store.set(f"r{election.round}/outcome", end.to_bytes())
        if not end.resumed:
            self.store.set("ended", end.to_bytes())
        self.store.add("round", 1)

    def depart(self, timeout: float) -> int:
        """This rank stops after an end without resume: wait up to ``timeout`` until every
        rank that has not finished departs too; how many did not."""
        self.store.add("departed", 1)
        deadline = self.clock.monotonic() + timeout
        while True:
            missing = (
                self.world_size - self.store.add("departed", 0) - self.store.add("finished", 0)
            )
            remaining = deadline - self.clock.monotonic()
            if missing <= 0 or remaining <= 0:
                return max(missing, 0)
            self.clock.sleep(min(_DEPART_POLL, remaining))

    # -- helpers ----------------------------------------------------------------------

    def _arrived(self, number: int) -> list[int]:
        """The ranks that arrived in round ``number`` (sorted, each once)."""
        count = self.store.add(f"r{number}/arrivals", 0)
        keys = [f"r{number}/arrival/{seq}" for seq in range(1, count + 1)]
        # A rank increments the counter before it writes its arrival key: wait briefly.
        self._wait_for(keys, self.elect_timeout, "ranks to finish arriving")
        return sorted({int(self.store.get(key)) for key in keys if self.store.check([key])})

    def _wait_for(self, keys: list[str], timeout: float, what: str) -> bool:
        deadline = self.clock.monotonic() + timeout
        while not self.store.check(keys):
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                logger.debug("gave up waiting for %s after %.0f s", what, timeout)
                return False
            self.store.wait(keys, min(self.poll_interval, remaining))
        return True


def _ranks(ranks: list[int] | tuple[int, ...]) -> str:
    return ", ".join(str(rank) for rank in ranks) or "none"
