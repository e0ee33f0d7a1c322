"""Lazy package exports (PEP 562), shared by the package and its subpackages.

A package ``__init__`` names each public attribute and the module it lives in; the module
is imported on first access, so naming a package costs nothing until its contents are
used (``import vscode_interactive`` loads no submodule, ``@vscode`` no installer)::

    __getattr__ = lazy_getattr(__name__, {"Session": "._session"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``exports[name]`` (relative to ``package``)."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value: object = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # later lookups skip __getattr__
        return value

    return __getattr__
