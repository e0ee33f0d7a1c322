"""Capture a call's arguments so the debug entry script can make the same call again.

The file is a header pickle of plain containers (``dict``, ``list``, ``str``, ``bool``),
so reading it needs none of the user's classes, followed by one pickle per captured
argument, in call order (positional, then keyword)::

    {"format": 2, "args": [part, ...], "kwargs": {name: part}}
    part = {"name": str, "type": str, "error": str, "restart": bool}

A part with an ``error`` could not be pickled and has no pickle after the header. The
pickles come from one :class:`pickle.Pickler`, so an object shared between arguments is
written once and is one object again after loading (the reader uses one
:class:`pickle.Unpickler` for them). When an argument cannot be pickled, what it wrote is
dropped and the next arguments continue with a fresh pickler (``restart``: the reader
starts a fresh unpickler there), so each argument is pickled exactly once: a large input
is never pickled a second time because another one failed.

Cost: the pickles are held in memory until the file is written, so capturing needs about
as much memory again as the pickled size of the inputs; a large ``bytes`` value is
referenced, not copied. Only the standard library is used: capture runs in the failing
job, where nothing heavy should be imported.
"""

from __future__ import annotations

import inspect
import pickle
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "CAPTURE_FORMAT",
    "CapturedInputs",
    "InputSummary",
    "argument_names",
    "capture_inputs",
    "short_repr",
    "type_name",
]

CAPTURE_FORMAT = 2
_PREVIEW_CHARS = 80


class _Preview(reprlib.Repr):
    """reprlib, plus byte strings cut before ``repr()`` (a 1 GB blob is not printed)."""

    def repr_bytes(self, value: bytes, level: int) -> str:
        if len(value) <= 16:
            return repr(value)
        return f"<{len(value)} bytes: {value[:12]!r}...>"

    def repr_bytearray(self, value: bytearray, level: int) -> str:
        if len(value) <= 16:
            return repr(value)
        return f"<bytearray of {len(value)} bytes: {bytes(value[:12])!r}...>"


_repr = _Preview()
_repr.maxstring = _PREVIEW_CHARS
_repr.maxother = _PREVIEW_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6


@dataclass(frozen=True, slots=True)
class InputSummary:
    """One argument as the front page shows it: never the full value."""

    name: str
    type_name: str
    preview: str
    error: str = ""

    @property
    def captured(self) -> bool:
        return not self.error


@dataclass(frozen=True, slots=True)
class CapturedInputs:
    """The bytes to store, and what they hold."""

    chunks: tuple[bytes, ...]  # written one after the other: the file's content
    summaries: tuple[InputSummary, ...]

    @property
    def payload(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def uncaptured(self) -> tuple[InputSummary, ...]:
        return tuple(item for item in self.summaries if not item.captured)


def type_name(value: object) -> str:
    """``module.Qualname`` of the value's type (builtins without the module)."""
    cls = type(value)
    module = getattr(cls, "__module__", "")
    qualname = getattr(cls, "__qualname__", cls.__name__)
    return qualname if module in ("builtins", "") else f"{module}.{qualname}"


def short_repr(value: object, limit: int = _PREVIEW_CHARS) -> str:
    """A one-line preview of at most ``limit`` characters; never raises."""
    try:
        text = _repr.repr(value)
    except Exception as error:  # a broken __repr__ must not break the session
        text = f"<{type_name(value)}: repr failed: {type(error).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def argument_names(function: Callable[..., object], n_args: int) -> list[str]:
    """Names for ``n_args`` positional arguments: parameter names, then ``*args[i]``."""
    names: list[str] = []
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    star: str | None = None
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            star = parameter.name
            break
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            names.append(parameter.name)
    names = names[:n_args]
    prefix = f"*{star}" if star else "args"
    extra = n_args - len(names)
    names.extend(f"{prefix}[{i}]" for i in range(extra))
    return names


def _dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class _Chunks:
    """What a pickler writes, kept as the chunks it wrote (a large ``bytes`` payload is
    the caller's object itself, not a copy)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(data if type(data) is bytes else bytes(data))
        return len(data)


class _ArgumentWriter:
    """Pickles arguments one after the other with a shared memo; see the module docstring."""

    def __init__(self) -> None:
        self.out = _Chunks()
        self._pickler: pickle.Pickler | None = None

    def add(self, name: str, value: object) -> tuple[dict[str, object], InputSummary]:
        restart = self._pickler is None
        if self._pickler is None:
            self._pickler = pickle.Pickler(self.out, protocol=pickle.HIGHEST_PROTOCOL)
        mark = len(self.out.chunks)
        error = ""
        try:
            self._pickler.dump(value)
        except Exception as exc:  # any failure of pickling: lambdas, locks, sockets, ...
            del self.out.chunks[mark:]
            self._pickler = None  # its memo names objects whose pickle was just dropped
            error, restart = f"{type(exc).__name__}: {exc}", False
        part: dict[str, object] = {"name": name, "type": type_name(value), "error": error}
        part["restart"] = restart
        return part, InputSummary(name, type_name(value), short_repr(value), error)


def capture_inputs(
    function: Callable[..., object],
    args: Sequence[object],
    kwargs: Mapping[str, object],
) -> CapturedInputs:
    """Pickle ``args`` and ``kwargs`` of a call to ``function``, each argument once;
    never raises for a value."""
    names = argument_names(function, len(args))
    writer = _ArgumentWriter()
    arg_parts: list[dict[str, object]] = []
    kwarg_parts: dict[str, dict[str, object]] = {}
    summaries: list[InputSummary] = []
    for name, value in zip(names, args, strict=True):
        part, summary = writer.add(name, value)
        arg_parts.append(part)
        summaries.append(summary)
    for name, value in kwargs.items():
        part, summary = writer.add(name, value)
        kwarg_parts[name] = part
        summaries.append(summary)
    record = {"format": CAPTURE_FORMAT, "args": arg_parts, "kwargs": kwarg_parts}
    return CapturedInputs((_dumps(record), *writer.out.chunks), tuple(summaries))
