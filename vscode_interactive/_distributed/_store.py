"""The coordination store: the few key-value operations the ranks agree through.

:class:`CoordinationStore` is the subset of ``torch.distributed.Store`` the protocol
needs (the torch adapter is :mod:`._torch`; the in-memory fake for tests lives in
``tests/fakes.py``). Values are bytes. :class:`PrefixedStore` scopes every key of one
job under a namespace, so jobs (and elastic restarts) sharing a store never mix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["CoordinationStore", "PrefixedStore"]


class CoordinationStore(Protocol):
    """A key-value store every rank of a job reaches (and that outlives a failing rank)."""

    def set(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` (overwrites)."""
        ...

    def get(self, key: str) -> bytes:
        """The value of ``key``; call only for a key known to exist (after :meth:`wait`
        or :meth:`check`): a missing key may block until the store's own timeout."""
        ...

    def add(self, key: str, amount: int) -> int:
        """Add ``amount`` to the integer at ``key`` (missing counts as 0); the new value.
        ``add(key, 0)`` reads a counter."""
        ...

    def compare_set(self, key: str, expected: bytes, desired: bytes) -> bytes:
        """Set ``key`` to ``desired`` if it holds ``expected``, or if it is missing and
        ``expected`` is empty; return the value it holds afterwards (``expected`` when it
        is missing and ``expected`` is not empty, as torch does)."""
        ...

    def check(self, keys: Sequence[str]) -> bool:
        """True when every key exists; never blocks."""
        ...

    def wait(self, keys: Sequence[str], timeout: float) -> bool:
        """Block until every key exists (True) or ``timeout`` seconds passed (False)."""
        ...


class PrefixedStore:
    """``store`` with ``prefix`` in front of every key."""

    def __init__(self, store: CoordinationStore, prefix: str) -> None:
        self.store = store
        self.prefix = prefix.rstrip("/") + "/"

    def _key(self, key: str) -> str:
        return self.prefix + key

    def set(self, key: str, value: bytes) -> None:
        self.store.set(self._key(key), value)

    def get(self, key: str) -> bytes:
        return self.store.get(self._key(key))

    def add(self, key: str, amount: int) -> int:
        return self.store.add(self._key(key), amount)

    def compare_set(self, key: str, expected: bytes, desired: bytes) -> bytes:
        return self.store.compare_set(self._key(key), expected, desired)

    def check(self, keys: Sequence[str]) -> bool:
        return self.store.check([self._key(key) for key in keys])

    def wait(self, keys: Sequence[str], timeout: float) -> bool:
        return self.store.wait([self._key(key) for key in keys], timeout)
