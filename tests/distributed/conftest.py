"""Tests that need torch; every module here sets ``pytestmark = pytest.mark.distributed``.

torch is a test-only extra (``pip install -e '.[test,distributed-test]'``) pinned to the
CPU build this machine image carries for Python 3.11. Without torch the modules that import
it are not collected (so ``-m "not distributed"`` works on any interpreter) and
``test_torch_installed.py`` FAILS instead: these tests never skip.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

if importlib.util.find_spec("torch") is None:
    # They import torch at module level: collecting them would be an error even when
    # deselected. test_torch_installed.py stays and says what is missing.
    collect_ignore = [
        path.name
        for path in Path(__file__).parent.glob("test_*.py")
        if path.name != "test_torch_installed.py"
    ]
