"""The public surface: ``__all__`` is sorted and matches what is importable."""

from __future__ import annotations

import importlib

import pytest

PUBLIC_MODULES = ["vscode_interactive", "vscode_interactive.cache"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_unique(name: str) -> None:
    """``__all__`` is kept sorted so additions are reviewed in one obvious place."""
    exported = list(importlib.import_module(name).__all__)
    assert exported == sorted(exported)
    assert len(exported) == len(set(exported))


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_matches_public_attributes(name: str) -> None:
    """Every name in ``__all__`` exists, and every public non-module attribute is listed."""
    module = importlib.import_module(name)
    exported = set(module.__all__)
    for item in exported:
        assert hasattr(module, item), item
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_") and type(value).__name__ != "module" and attr != "annotations"
    }
    assert public <= exported, sorted(public - exported)
