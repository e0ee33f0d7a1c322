"""The PyTorch side: the job's own ``torch.distributed`` store, and its process group.

Nothing here imports torch at module level, and :func:`open_store` imports it only when
it is already loaded or the user named a store: ``import vscode_interactive`` never
imports torch, and a job that does not use it never pays for it.

Which store the ranks agree through, first match wins:

1. the store the user named (``VSCODE_INTERACTIVE_STORE``): ``tcp://host:port`` (a client
   of a running ``TCPStore``) or ``file:///shared/path`` (a ``FileStore``);
2. under torchrun, the rendezvous store its agent hosts at ``MASTER_ADDR:MASTER_PORT``
   (it outlives every worker, so a failing rank cannot take it down);
3. the store of the job's default process group, when one is initialized.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .._errors import ConfigError
from .._ports import Clock
from ._ranks import ENV_STORE, RankInfo

if TYPE_CHECKING:
    import torch.distributed

__all__ = ["OpenedStore", "TorchStore", "open_store", "rebuild_process_group"]

logger = logging.getLogger("vscode_interactive")

#: How long connecting to a store may take (torch retries until then).
CONNECT_TIMEOUT = timedelta(seconds=60)
_FIRST_POLL, _MAX_POLL = 0.01, 0.25


class TorchStore:
    """A :class:`~._store.CoordinationStore` over a ``torch.distributed.Store``.

    :meth:`wait` polls :meth:`check` through ``clock`` instead of calling torch's own
    ``wait``, whose timeouts print two C++ warnings each: a parked rank waits in short
    slices for hours.
    """

    def __init__(self, store: torch.distributed.Store, clock: Clock) -> None:
        self.raw = store
        self._clock = clock

    def set(self, key: str, value: bytes) -> None:
        self.raw.set(key, value)

    def get(self, key: str) -> bytes:
        return self.raw.get(key)

    def add(self, key: str, amount: int) -> int:
        return self.raw.add(key, amount)

    def compare_set(self, key: str, expected: bytes, desired: bytes) -> bytes:
        return self.raw.compare_set(key, expected, desired)

    def check(self, keys: Sequence[str]) -> bool:
        return self.raw.check(list(keys))

    def wait(self, keys: Sequence[str], timeout: float) -> bool:
        deadline = self._clock.monotonic() + timeout
        pause = _FIRST_POLL
        while not self.raw.check(list(keys)):
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                return False
            self._clock.sleep(min(pause, remaining))
            pause = min(pause * 2, _MAX_POLL)
        return True


@dataclass(frozen=True)
class OpenedStore:
    """A store the ranks agree through, and what to call it in messages."""

    store: TorchStore
    description: str


# One client per store and process: a job that calls a decorated function often reports
# each successful call, and must not open a connection each time.
_CLIENTS: dict[tuple[str, str, int], torch.distributed.Store] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(kind: str, where: str, port: int = 0) -> torch.distributed.Store:
    import torch.distributed as dist

    key = (kind, where, port)
    with _CLIENTS_LOCK:
        store = _CLIENTS.get(key)
        if store is None:
            if kind == "tcp":
                store = dist.TCPStore(where, port, is_master=False, timeout=CONNECT_TIMEOUT)
            else:
                store = dist.FileStore(where, -1)
            _CLIENTS[key] = store
        return store


def _named_store(spec: str, info: RankInfo) -> torch.distributed.Store:
    parts = urlsplit(spec)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        return _client("tcp", parts.hostname, parts.port)
    if parts.scheme == "file" and parts.path:
        return _client("file", unquote(parts.path))
    raise ConfigError(
        f"{ENV_STORE}={spec!r} is not a store address; use tcp://HOST:PORT (a running "
        f"torch TCPStore) or file:///PATH (a file on a filesystem every rank of "
        f"{info.world_size} sees)"
    )


def open_store(info: RankInfo, spec: str | None, clock: Clock) -> OpenedStore | None:
    """The store the job's ranks agree through (see the module docstring), or ``None``
    when there is none: torch is not loaded, no torchrun agent and no store was named.

    Raises :class:`ConfigError` for a malformed ``spec`` and lets torch's connection
    errors (``RuntimeError``, ``TimeoutError``) through.
    """
    if spec:
        return OpenedStore(TorchStore(_named_store(spec, info), clock), f"the store at {spec}")
    if "torch" not in sys.modules:
        return None
    import torch.distributed as dist

    if not dist.is_available():
        return None
    if info.agent_store and info.master_addr and info.master_port:
        client = _client("tcp", info.master_addr, info.master_port)
        where = f"{info.master_addr}:{info.master_port}"
        return OpenedStore(TorchStore(client, clock), f"torchrun's rendezvous store at {where}")
    if dist.is_initialized():
        from torch.distributed import distributed_c10d

        store = distributed_c10d._get_default_store()
        return OpenedStore(TorchStore(store, clock), "the default process group's store")
    return None


def _timeout_of_default_group(backend: str) -> timedelta:
    import torch
    from torch.distributed import distributed_c10d

    group = distributed_c10d._get_default_group()
    for device in ("cpu", "cuda"):
        try:
            return group._get_backend(torch.device(device)).options._timeout
        except (AttributeError, RuntimeError, ValueError):
            continue
    return distributed_c10d._get_default_timeout(backend)


def rebuild_process_group(prefix: str) -> bool:
    """Replace the default process group by a new one with the same backend, rank,
    world size and timeout, rendezvousing under ``prefix`` of its own store; False when
    no group is initialized (or torch is not loaded). Every rank must call it together.

    A collective that timed out leaves gloo's pairs (and NCCL's communicators) closed, so
    the call after a resume would fail at its first collective; the old keys in the store
    would also mislead a second rendezvous under the same names, hence the new prefix.
    """
    if "torch" not in sys.modules:
        return False
    import torch.distributed as dist
    from torch.distributed import distributed_c10d

    if not dist.is_available() or not dist.is_initialized():
        return False
    backend = dist.get_backend()
    config = dist.get_backend_config()
    if len({part.split(":")[-1] for part in config.split(",")}) > 1:
        backend = config  # e.g. "cpu:gloo,cuda:nccl": keep the per-device split
    rank, world_size = dist.get_rank(), dist.get_world_size()
    timeout = _timeout_of_default_group(backend)
    base = distributed_c10d._get_default_store()
    dist.destroy_process_group()
    dist.init_process_group(
        backend,
        store=dist.PrefixStore(prefix, base),
        rank=rank,
        world_size=world_size,
        timeout=timeout,
    )
    logger.info(
        "rebuilt the default process group (%s, rank %d of %d, timeout %s) for the resume",
        backend,
        rank,
        world_size,
        timeout,
    )
    return True
