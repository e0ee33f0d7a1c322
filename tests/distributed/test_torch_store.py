"""The torch adapter: real torch stores behave like the fake, and the group rebuild."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from tests.fakes import FakeStore
from vscode_interactive._distributed._protocol import Coordinator, Election, SessionEnd
from vscode_interactive._distributed._ranks import RankInfo
from vscode_interactive._distributed._report import RankReport
from vscode_interactive._distributed._store import CoordinationStore, PrefixedStore
from vscode_interactive._distributed._torch import TorchStore, open_store, rebuild_process_group
from vscode_interactive._errors import ConfigError
from vscode_interactive._system._os import SystemClock

pytestmark = pytest.mark.distributed

TIMEOUT = datetime.timedelta(seconds=30)


def elect(coordinator: Coordinator, me: RankReport) -> Election:
    """``coordinator.elect(me)``, in a job whose session has not ended."""
    election = coordinator.elect(me)
    assert isinstance(election, Election), election
    return election


@pytest.fixture
def tcp_master() -> dist.TCPStore:
    """A TCPStore server on loopback (a free port), like torchrun's agent hosts."""
    return dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False, timeout=TIMEOUT)


def _client(master: dist.TCPStore) -> dist.TCPStore:
    return dist.TCPStore("127.0.0.1", master.port, is_master=False, timeout=TIMEOUT)


StoreFactory = Callable[[Path, dist.TCPStore], CoordinationStore]

FACTORIES: dict[str, StoreFactory] = {
    "fake": lambda tmp, master: FakeStore(),
    "hash": lambda tmp, master: TorchStore(dist.HashStore(), SystemClock()),
    "tcp": lambda tmp, master: TorchStore(_client(master), SystemClock()),
    "file": lambda tmp, master: TorchStore(dist.FileStore(str(tmp / "store"), -1), SystemClock()),
}


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_store_semantics_match_torch(kind: str, tmp_path: Path, tcp_master: dist.TCPStore) -> None:
    """compare_set, add, check and wait mean the same on the fake and on torch's stores."""
    store = FACTORIES[kind](tmp_path, tcp_master)
    assert store.compare_set("host", b"", b"1") == b"1"
    assert store.compare_set("host", b"", b"2") == b"1"
    assert store.compare_set("host", b"1", b"3") == b"3"
    assert store.compare_set("absent", b"x", b"y") == b"x"
    assert not store.check(["absent"])
    assert store.add("n", 1) == 1 and store.add("n", 0) == 1 and store.add("n", 5) == 6
    assert store.get("n") == b"6"
    store.set("k", b"\x00\xffbytes")
    assert store.get("k") == b"\x00\xffbytes"
    assert store.check(["k", "host"]) and not store.check(["k", "absent"])
    assert store.wait(["k"], 0.0)
    assert not store.wait(["absent"], 0.05)


def test_protocol_over_a_real_tcp_store(tcp_master: dist.TCPStore) -> None:
    """Two threads with their own TCPStore clients elect one host and share its outcome."""

    def rank(number: int) -> SessionEnd:
        store = PrefixedStore(
            TorchStore(_client(tcp_master), SystemClock()), "vscode_interactive/t"
        )
        coord = Coordinator(store, world_size=2, clock=SystemClock(), tie_window=30.0)
        election = elect(coord, RankReport(rank=number, host="h", pid=number))
        if not election.hosting:
            return coord.park(election)
        assert [r.rank for r in coord.reports(election)] == [0, 1]
        end = SessionEnd("resumed", participants=coord.gather(election))
        coord.conclude(election, end)
        return end

    with ThreadPoolExecutor(max_workers=2) as pool:
        ends = list(pool.map(rank, [1, 0]))
    assert ends == [SessionEnd("resumed", participants=(0, 1))] * 2
    assert tcp_master.get("vscode_interactive/t/r0/host") == b"0"


def test_open_store_connects_to_a_named_tcp_store(tcp_master: dist.TCPStore) -> None:
    """VSCODE_INTERACTIVE_STORE=tcp://host:port makes a client of that store."""
    info = RankInfo(rank=0, world_size=2, launcher="slurm")
    opened = open_store(info, f"tcp://127.0.0.1:{tcp_master.port}", SystemClock())
    assert opened is not None and opened.description.startswith("the store at tcp://")
    opened.store.set("seen", b"1")
    assert tcp_master.get("seen") == b"1"


def test_open_store_uses_a_named_file_store(tmp_path: Path) -> None:
    """file:///path is a FileStore every rank on a shared filesystem opens."""
    info = RankInfo(rank=0, world_size=2, launcher="pmi")
    opened = open_store(info, (tmp_path / "s t").as_uri(), SystemClock())
    assert opened is not None
    opened.store.set("x", b"1")
    assert dist.FileStore(str(tmp_path / "s t"), -1).get("x") == b"1"


@pytest.mark.parametrize("spec", ["http://h:1", "tcp://host", "file://", "nonsense"])
def test_open_store_rejects_a_malformed_address(spec: str) -> None:
    """A store address that is neither tcp://HOST:PORT nor file:///PATH is a ConfigError."""
    with pytest.raises(ConfigError, match="VSCODE_INTERACTIVE_STORE"):
        open_store(RankInfo(rank=0, world_size=2, launcher="env"), spec, SystemClock())


def test_open_store_finds_the_torchrun_agent_store(tcp_master: dist.TCPStore) -> None:
    """Under torchrun the agent's rendezvous store at MASTER_ADDR:MASTER_PORT is used."""
    info = RankInfo(
        rank=1,
        world_size=2,
        launcher="torchrun",
        master_addr="127.0.0.1",
        master_port=tcp_master.port,
        agent_store=True,
    )
    opened = open_store(info, None, SystemClock())
    assert opened is not None and "torchrun's rendezvous store" in opened.description
    opened.store.add("c", 2)
    assert tcp_master.add("c", 0) == 2


def test_open_store_without_a_store_is_none() -> None:
    """No agent, no named store and no process group: there is nothing to agree through."""
    assert not dist.is_initialized()
    info = RankInfo(rank=0, world_size=2, launcher="openmpi")
    assert open_store(info, None, SystemClock()) is None


def test_rebuild_keeps_backend_rank_world_and_timeout() -> None:
    """The rebuilt default group has the old group's settings and runs collectives."""
    assert rebuild_process_group("vscode_interactive/none") is False
    dist.init_process_group(
        "gloo",
        store=dist.HashStore(),
        rank=0,
        world_size=1,
        timeout=datetime.timedelta(seconds=7),
    )
    try:
        opened = open_store(RankInfo(rank=0, world_size=1, launcher="env"), None, SystemClock())
        assert opened is not None and opened.description == "the default process group's store"
        assert rebuild_process_group("vscode_interactive/job/r0/pg") is True
        assert (dist.get_backend(), dist.get_rank(), dist.get_world_size()) == ("gloo", 0, 1)
        group = dist.distributed_c10d._get_default_group()
        backend = group._get_backend(torch.device("cpu"))
        assert backend.options._timeout == datetime.timedelta(seconds=7)
        tensor = torch.ones(1) * 3
        dist.all_reduce(tensor)
        assert tensor.item() == 3.0
    finally:
        dist.destroy_process_group()


def test_a_process_opens_one_client_per_store(tcp_master: dist.TCPStore) -> None:
    """Opening the same store again reuses the connection (a success is reported per call)."""
    info = RankInfo(
        rank=0,
        world_size=2,
        launcher="torchrun",
        master_addr="127.0.0.1",
        master_port=tcp_master.port,
        agent_store=True,
    )
    first, again = (open_store(info, None, SystemClock()) for _ in range(2))
    assert first is not None and again is not None
    assert first.store.raw is again.store.raw
