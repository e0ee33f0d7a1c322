"""Tests that need torch; every module here sets ``pytestmark = pytest.mark.distributed``.

torch is a test-only extra (``pip install -e '.[test,distributed-test]'``) pinned to the
CPU build this machine image carries for Python 3.11. A test here FAILS when torch is
missing, never skips: deselect the folder with ``-m "not distributed"`` on interpreters
where torch cannot be installed.
"""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(autouse=True)
def _torch_installed() -> None:
    if importlib.util.find_spec("torch") is None:
        pytest.fail(
            "torch is not installed: install the test extra with "
            "pip install -e '.[test,distributed-test]' (the CPU build, Python 3.11), "
            'or deselect these tests with -m "not distributed"'
        )
