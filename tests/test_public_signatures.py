"""Public signatures name only public types: a caller never has to import a private module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable, Iterator

import pytest
import typing_extensions

import vscode_interactive

PUBLIC_MODULES = ("vscode_interactive", "vscode_interactive.cache")


def _public_objects() -> dict[int, str]:
    found: dict[int, str] = {}
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            found.setdefault(id(getattr(module, attr)), f"{name}.{attr}")
    return found


def _namespace() -> dict[str, object]:
    """Every name defined in the package, to resolve annotations that modules import only
    under ``TYPE_CHECKING``."""
    names: dict[str, object] = {**vars(typing_extensions)}
    for info in pkgutil.walk_packages(vscode_interactive.__path__, "vscode_interactive."):
        if info.name.endswith(("__main__", ".cli")) or "._cli" in info.name:
            continue
        module = importlib.import_module(info.name)
        names.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    return names


def _leaves(annotation: object) -> Iterator[object]:
    if isinstance(annotation, (typing.TypeVar, typing.ParamSpec)):
        return  # a type parameter names no type
    args = typing.get_args(annotation)
    if not args:
        yield annotation
        return
    yield typing.get_origin(annotation)
    for arg in args:
        if not isinstance(arg, (str, int, bool, type(None))) or isinstance(arg, type):
            yield from _leaves(arg)


def _callables(obj: object) -> Iterator[tuple[str, Callable[..., object]]]:
    if not inspect.isclass(obj):
        if inspect.isroutine(obj):
            yield "", obj
        return
    for name, member in vars(obj).items():
        if isinstance(member, property) and member.fget is not None:
            yield f".{name}", member.fget
        elif inspect.isfunction(member) and (name == "__init__" or not name.startswith("_")):
            yield f".{name}", member
        elif isinstance(member, (classmethod, staticmethod)) and not name.startswith("_"):
            yield f".{name}", member.__func__


def _private_types_in_public_signatures() -> list[str]:
    public = _public_objects()
    namespace = _namespace()
    problems = []
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            for suffix, function in _callables(getattr(module, attr)):
                hints = typing.get_type_hints(function, globalns={**namespace})
                for parameter, annotation in hints.items():
                    if parameter.startswith("_"):
                        continue  # a private keyword (a test seam) may take private types
                    for leaf in _leaves(annotation):
                        owner = getattr(leaf, "__module__", "") or ""
                        if not owner.startswith("vscode_interactive") or id(leaf) in public:
                            continue
                        problems.append(f"{name}.{attr}{suffix}({parameter}): {leaf!r}")
    return problems


def test_public_signatures_use_only_public_types() -> None:
    """Every parameter, return and field type of a public name is public itself (or from
    outside the package), so the Protocols a caller implements are importable by name."""
    assert _private_types_in_public_signatures() == []


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("vscode_interactive", "ArtifactStore"),
        ("vscode_interactive", "CommandRunner"),
        ("vscode_interactive", "Environment"),
        ("vscode_interactive.cache", "Fetcher"),
        ("vscode_interactive.cache", "Clock"),
    ],
)
def test_seams_a_caller_implements_are_runtime_protocols_by_name(module: str, name: str) -> None:
    """The exported seams are typing.Protocol classes, not concrete bases to inherit."""
    seam = getattr(importlib.import_module(module), name)
    assert typing.Protocol in seam.__mro__
