"""torch is there for the distributed tests (this fails, never skips, when it is not)."""

from __future__ import annotations

import importlib.util

import pytest

pytestmark = pytest.mark.distributed


def test_torch_is_installed() -> None:
    """The distributed tests need torch: install the extra or deselect them."""
    assert importlib.util.find_spec("torch") is not None, (
        "torch is not installed: install the test extra with "
        "pip install -e '.[test,distributed-test]' (the CPU build, Python 3.11), "
        'or deselect these tests with -m "not distributed"'
    )
