"""The patch of a session's edits: a pure renderer from (before, after) pairs to bytes.

The output is a unified diff in git's extended form, applicable from the workspace's
root by ``git apply changes.patch`` and by ``patch -p1 < changes.patch``:

* every file starts with ``diff --git a/<path> b/<path>``; an added file has ``new file
  mode``, a deleted one ``deleted file mode`` (``--- /dev/null`` / ``+++ /dev/null``), a
  changed executable bit ``old mode``/``new mode``;
* hunks carry three lines of context; a last line without a newline is followed by
  ``\\ No newline at end of file``; lines are compared as bytes, so any encoding and
  ``\\r\\n`` endings survive;
* a path with a quote, a backslash, a control character, a non-ASCII byte or a space is
  written C-quoted, as git does (both tools read that form);
* a binary file (a NUL byte in its first 8000 bytes, git's rule) or one whose content was
  not recorded (too large) is never inlined: it is *named* in the header, the text before
  the first ``diff --git``, which both tools skip. Every header line starts with ``#``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "FileChange",
    "Patch",
    "PatchHeader",
    "PatchSummary",
    "Side",
    "is_binary",
    "quote_path",
    "render_patch",
]

_CONTEXT = 3
_BINARY_PROBE = 8000
_NO_NEWLINE = b"\\ No newline at end of file\n"
_ESCAPES = {
    0x07: b"\\a",
    0x08: b"\\b",
    0x09: b"\\t",
    0x0A: b"\\n",
    0x0B: b"\\v",
    0x0C: b"\\f",
    0x0D: b"\\r",
    0x22: b'\\"',
    0x5C: b"\\\\",
}


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a change: the content (``None``: not recorded) and the executable bit."""

    content: bytes | None
    executable: bool = False


@dataclass(frozen=True, slots=True)
class FileChange:
    """One path that differs between the start and the end of a session.

    ``before``/``after`` are ``None`` when the file did not exist then. ``reason`` says why
    a side's content is missing (``"larger than 4 MiB"``), for the header.
    """

    path: str
    before: Side | None
    after: Side | None
    reason: str = ""

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "deleted"
        return "modified"


@dataclass(frozen=True, slots=True)
class PatchHeader:
    """What the header says about the session (each value one line, shown as given)."""

    lines: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class PatchSummary:
    """Counts for the one-line log: files in the patch, lines added and removed, and the
    files only named (binary or not recorded)."""

    files: int
    added: int
    removed: int
    named: tuple[str, ...]

    def describe(self) -> str:
        """``3 files changed (+12 -4); 1 binary or large file named, not included``."""
        if not self.files and not self.named:
            return "no files changed"
        plural = "" if self.files == 1 else "s"
        text = f"{self.files} file{plural} changed (+{self.added} -{self.removed})"
        if self.named:
            text += f"; {len(self.named)} binary or large file(s) named, not included"
        return text


def is_binary(content: bytes) -> bool:
    """git's rule: a NUL byte among the first 8000 bytes."""
    return b"\0" in content[:_BINARY_PROBE]


def quote_path(path: bytes) -> bytes:
    """``path`` as git writes it: bare, or C-quoted when it holds a quote, a backslash, a
    control character, a space or a byte of 0x80 and above."""
    if not any(byte < 0x21 or byte >= 0x7F or byte in (0x22, 0x5C) for byte in path):
        return path
    out = bytearray(b'"')
    for byte in path:
        if byte in _ESCAPES:
            out += _ESCAPES[byte]
        elif byte < 0x20 or byte >= 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b'"')


def _lines(content: bytes) -> list[bytes]:
    """Lines split at ``\\n`` only, each keeping it (the last may lack it)."""
    lines = content.split(b"\n")
    last = lines.pop()
    result = [line + b"\n" for line in lines]
    if last:
        result.append(last)
    return result


def _range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _emit(prefix: bytes, line: bytes, out: list[bytes]) -> None:
    out.append(prefix + line)
    if not line.endswith(b"\n"):
        out.append(b"\n" + _NO_NEWLINE)


def _hunks(before: list[bytes], after: list[bytes]) -> tuple[list[bytes], int, int]:
    """Hunks of ``before`` -> ``after``: (lines of output, lines added, lines removed)."""
    out: list[bytes] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, before, after)
    for group in matcher.get_grouped_opcodes(_CONTEXT):
        first, last = group[0], group[-1]
        old = _range(first[1], last[2])
        new = _range(first[3], last[4])
        out.append(f"@@ -{old} +{new} @@\n".encode())
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in before[i1:i2]:
                    _emit(b" ", line, out)
                continue
            for line in before[i1:i2]:
                _emit(b"-", line, out)
            for line in after[j1:j2]:
                _emit(b"+", line, out)
            removed += i2 - i1
            added += j2 - j1
    return out, added, removed


def _mode(side: Side) -> bytes:
    return b"100755" if side.executable else b"100644"


def _file_diff(change: FileChange) -> tuple[list[bytes], int, int]:
    """One file's diff (empty when nothing differs)."""
    raw = change.path.encode("utf-8", "surrogateescape")
    a, b = quote_path(b"a/" + raw), quote_path(b"b/" + raw)
    before, after = change.before, change.after
    out = [b"diff --git " + a + b" " + b + b"\n"]
    if before is None and after is not None:
        out.append(b"new file mode " + _mode(after) + b"\n")
    elif after is None and before is not None:
        out.append(b"deleted file mode " + _mode(before) + b"\n")
    elif before is not None and after is not None and before.executable != after.executable:
        out += [b"old mode " + _mode(before) + b"\n", b"new mode " + _mode(after) + b"\n"]
    old_lines = _lines(before.content or b"") if before is not None else []
    new_lines = _lines(after.content or b"") if after is not None else []
    hunks, added, removed = _hunks(old_lines, new_lines)
    if hunks:
        out.append(b"--- " + (a if before is not None else b"/dev/null") + b"\n")
        out.append(b"+++ " + (b if after is not None else b"/dev/null") + b"\n")
        out += hunks
    elif len(out) == 1:
        return [], 0, 0
    return out, added, removed


def _named(change: FileChange) -> str | None:
    """Why ``change`` cannot be inlined, or ``None`` when it can."""
    sides = [side for side in (change.before, change.after) if side is not None]
    if any(side.content is None for side in sides):
        return change.reason or "content not recorded"
    if any(is_binary(side.content or b"") for side in sides):
        return "binary"
    return None


@dataclass(frozen=True, slots=True)
class Patch:
    """The patch's bytes and what they hold."""

    data: bytes
    summary: PatchSummary


def render_patch(changes: Sequence[FileChange], header: PatchHeader) -> Patch:
    """The patch of ``changes`` (sorted by path), with ``header`` and the named files first."""
    body: list[bytes] = []
    named: list[str] = []
    files = added = removed = 0
    for change in sorted(changes, key=lambda item: item.path):
        why = _named(change)
        if why is not None:
            named.append(f"{change.path} ({why}, {change.kind})")
            continue
        lines, plus, minus = _file_diff(change)
        if lines:
            body += lines
            files, added, removed = files + 1, added + plus, removed + minus
    summary = PatchSummary(files, added, removed, tuple(named))
    head = [f"# {line}" for line in header.lines]
    head.append(f"# {summary.describe()}")
    if named:
        head.append("# Not in this patch (copy them from the workspace if you need them):")
        head += [f"#   {_printable(item)}" for item in named]
    text = "\n".join(head) + "\n"
    if body:
        text += "\n"
    return Patch(text.encode("utf-8", "replace") + b"".join(body), summary)


def _printable(text: str) -> str:
    """``text`` on one line: control characters (a newline in a file name) escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
