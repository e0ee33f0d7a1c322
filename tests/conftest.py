"""Shared fixtures, and the ``flytekit`` marker put on every test that needs flytekit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.httpserver import LoopbackServer


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A :class:`LoopbackServer` on 127.0.0.1, closed after the test."""
    with LoopbackServer() as server:
        yield server


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the ``flytekit_installed`` fixture (directly or through another
    fixture) needs flytekit: it gets the ``flytekit`` marker, so ``-m "not flytekit"``
    deselects it where no flytekit release installs (Python 3.13+)."""
    for item in items:
        if "flytekit_installed" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.flytekit)
