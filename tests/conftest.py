"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.httpserver import LoopbackServer


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A :class:`LoopbackServer` on 127.0.0.1, closed after the test."""
    with LoopbackServer() as server:
        yield server
