"""Capture a call's arguments so the debug entry script can make the same call again.

The file starts with a pickle of plain containers (``dict``, ``list``, ``str``,
``bytes``), so reading it needs none of the user's classes::

    {"format": 1, "whole": bool,
     "args": [part, ...], "kwargs": {name: part}}      # parts only when "whole" is False
    part = {"name": str, "type": str, "data": <pickle bytes> or None, "error": str}

When ``whole`` is True, a second pickle follows in the same file: ``(args, kwargs)``.
It is written as it is, not wrapped in the first one, so a large input is not copied
again.

All arguments are pickled together when possible, which keeps objects shared between
arguments shared. When that fails, each argument is pickled on its own; one that still
fails is recorded with its name, type and the error, and the entry script reports it
instead of calling the function with a wrong value. Only the standard library is used:
capture runs in the failing job, where nothing heavy should be imported.
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

CAPTURE_FORMAT = 1
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


def _part(name: str, value: object) -> tuple[dict[str, object], InputSummary]:
    try:
        data: bytes | None = _dumps(value)
        error = ""
    except Exception as exc:  # any failure of pickling: lambdas, locks, sockets, ...
        data, error = None, f"{type(exc).__name__}: {exc}"
    part: dict[str, object] = {"name": name, "type": type_name(value), "data": data}
    part["error"] = error
    return part, InputSummary(name, type_name(value), short_repr(value), error)


def capture_inputs(
    function: Callable[..., object],
    args: Sequence[object],
    kwargs: Mapping[str, object],
) -> CapturedInputs:
    """Pickle ``args`` and ``kwargs`` of a call to ``function``; never raises for a value."""
    names = argument_names(function, len(args))
    record: dict[str, object] = {"format": CAPTURE_FORMAT, "whole": True, "args": [], "kwargs": {}}
    whole: bytes | None
    try:
        whole = _dumps((tuple(args), dict(kwargs)))
    except Exception:  # one argument or more cannot be pickled: go argument by argument
        whole = None
    whole_failed = whole is None
    record["whole"] = not whole_failed
    arg_parts: list[dict[str, object]] = []
    kwarg_parts: dict[str, dict[str, object]] = {}
    summaries: list[InputSummary] = []
    for name, value in zip(names, args, strict=True):
        if whole_failed:
            part, summary = _part(name, value)
            arg_parts.append(part)
        else:
            summary = InputSummary(name, type_name(value), short_repr(value))
        summaries.append(summary)
    for name, value in kwargs.items():
        if whole_failed:
            part, summary = _part(name, value)
            kwarg_parts[name] = part
        else:
            summary = InputSummary(name, type_name(value), short_repr(value))
        summaries.append(summary)
    record["args"], record["kwargs"] = arg_parts, kwarg_parts
    chunks = (_dumps(record),) if whole is None else (_dumps(record), whole)
    return CapturedInputs(chunks, tuple(summaries))
