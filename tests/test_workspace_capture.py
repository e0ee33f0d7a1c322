"""Input capture: pickled together when possible, argument by argument when not."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import threading
from typing import Any

import pytest

from vscode_interactive._workspace._capture import (
    argument_names,
    capture_inputs,
    short_repr,
    type_name,
)


def _f(a: object, b: object, *rest: object, key: object = None) -> None:
    """A function with positional, star and keyword parameters."""


def _load(payload: bytes) -> tuple[dict[str, Any], list[Any]]:
    """The header record, and what the pickles after it load to (as the entry script
    reads them: one unpickler per run of arguments)."""
    stream = io.BytesIO(payload)
    record = pickle.load(stream)
    assert isinstance(record, dict)
    parts = [*record["args"], *record["kwargs"].values()]
    values: list[object] = []
    unpickler: pickle.Unpickler | None = None
    for part in parts:
        if part["error"]:
            continue
        if part["restart"] or unpickler is None:
            unpickler = pickle.Unpickler(stream)
        values.append(unpickler.load())
    assert stream.tell() == len(payload)
    return record, values


def test_all_picklable_inputs_are_stored_once_each_and_keep_sharing() -> None:
    """Objects shared between arguments are still one object after loading."""
    shared = [1, 2]
    captured = capture_inputs(_f, (shared, shared), {"key": {"x": shared}})
    record, values = _load(captured.payload)
    assert record["format"] == 2
    assert [part["restart"] for part in record["args"]] == [True, False]
    a, b, key = values
    assert a == [1, 2] and a is b is key["x"]
    assert captured.uncaptured == ()


def test_an_unpicklable_argument_is_recorded_by_name_type_and_error() -> None:
    """A lock among the inputs is named with its type and error; the others are saved."""
    lock = threading.Lock()
    shared = [3]
    captured = capture_inputs(_f, (shared, lock), {"key": shared})
    record, values = _load(captured.payload)
    args, kwargs = record["args"], record["kwargs"]
    assert isinstance(args, list) and isinstance(kwargs, dict)
    assert args[1]["name"] == "b" and args[1]["type"] == "_thread.lock"
    assert "pickle" in args[1]["error"] and "TypeError" in args[1]["error"]
    assert kwargs["key"]["restart"] is True  # a fresh pickler after the failure
    assert values == [[3], [3]]
    [missing] = captured.uncaptured
    assert (missing.name, missing.type_name) == ("b", "_thread.lock")
    assert missing.error == args[1]["error"]


def test_a_failure_inside_an_argument_leaves_nothing_of_it_behind() -> None:
    """An argument that fails half-way (after a shared object) does not corrupt the next."""
    shared = {"w": 1}
    captured = capture_inputs(_f, ([shared, threading.Lock()], shared), {})
    record, values = _load(captured.payload)
    assert record["args"][0]["error"] and values == [{"w": 1}]


def test_positional_arguments_are_named_after_parameters() -> None:
    """Positional values take parameter names, extras the ``*args`` name with an index."""
    assert argument_names(_f, 4) == ["a", "b", "*rest[0]", "*rest[1]"]
    assert argument_names(_f, 1) == ["a"]
    assert argument_names(len, 1) == ["obj"]


def test_arguments_of_a_callable_without_signature_are_numbered() -> None:
    """When no signature can be read, positional values are ``args[i]``."""

    class NoSignature:
        __signature__ = "broken"

        def __call__(self) -> None: ...

    assert argument_names(NoSignature(), 2) == ["args[0]", "args[1]"]


def test_summaries_list_every_input_in_call_order() -> None:
    """The summaries name positional then keyword inputs, with types and previews."""
    captured = capture_inputs(_f, (1, "two"), {"key": [3]})
    assert [(s.name, s.type_name, s.preview) for s in captured.summaries] == [
        ("a", "int", "1"),
        ("b", "str", "'two'"),
        ("key", "list", "[3]"),
    ]


def test_previews_are_short_whatever_the_value() -> None:
    """Huge values are cut to a short line; a failing ``__repr__`` is reported, not raised."""

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert len(short_repr("x" * 10_000)) <= 80
    assert short_repr(b"\x01" * 50_000_000) == "<50000000 bytes: b'" + "\\x01" * 12 + "'...>"
    assert short_repr(bytearray(b"ab" * 100)).startswith("<bytearray of 200 bytes: b'abab")
    assert len(short_repr(list(range(100_000)))) <= 80
    assert "Broken" in short_repr(Broken())
    assert "\n" not in short_repr("a\nb" * 3)
    assert type_name(Broken()).endswith("Broken")


@pytest.mark.integration
def test_capture_imports_nothing_beyond_the_standard_library() -> None:
    """Importing the package and capturing a call loads no third-party module."""
    code = (
        "import sys; before = set(sys.modules)\n"
        "import vscode_interactive\n"
        "from vscode_interactive._workspace._capture import capture_inputs\n"
        "capture_inputs(print, (1, b'x'), {'k': [2]})\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(n for n in new if n not in sys.stdlib_module_names))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "['vscode_interactive']"


class _CountsPickling:
    """Counts how often pickle asks it to reduce itself (once per pickling pass)."""

    calls = 0

    def __reduce__(self) -> tuple[object, ...]:
        type(self).calls += 1
        return (_CountsPickling, ())


def test_each_argument_is_pickled_once_even_when_another_cannot_be() -> None:
    """A large input before an unpicklable one is pickled once, not twice (peak memory)."""
    _CountsPickling.calls = 0
    captured = capture_inputs(_f, (_CountsPickling(), threading.Lock()), {"key": 3})
    assert _CountsPickling.calls == 1
    assert [s.name for s in captured.uncaptured] == ["b"]
