"""JSON with comments, as VS Code writes ``launch.json`` and ``settings.json``.

Accepted on top of strict JSON: ``// line`` and ``/* block */`` comments, trailing commas
before ``}`` or ``]``, and a leading byte-order mark. Comments and trailing commas are
replaced by spaces (newlines kept), so the text handed to :func:`json.loads` has the same
length and line breaks as the original and every error position points into the file the
user wrote. Text inside strings is never touched, so ``"http://host"`` stays intact.
"""

from __future__ import annotations

import json

__all__ = ["parse_jsonc", "strip_jsonc"]


def strip_jsonc(text: str) -> str:
    """``text`` with comments and trailing commas blanked out, same length and lines.

    Raises :class:`json.JSONDecodeError` for a block comment that never ends.
    """
    out = list(text)
    i, n = 0, len(text)
    pending_comma = -1  # index of the last comma outside strings, until the next token
    while i < n:
        char = text[i]
        if char == '"':
            pending_comma = -1
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if char == "/" and i + 1 < n and text[i + 1] in "/*":
            end = _comment_end(text, i)
            for j in range(i, end):
                if out[j] not in "\r\n":
                    out[j] = " "
            i = end
            continue
        if char == ",":
            pending_comma = i
        elif char in "}]":
            if pending_comma >= 0:
                out[pending_comma] = " "
            pending_comma = -1
        elif not char.isspace():
            pending_comma = -1
        i += 1
    return "".join(out)


def _comment_end(text: str, start: int) -> int:
    """Index just past the comment that starts at ``start``."""
    if text[start + 1] == "/":
        newline = text.find("\n", start)
        return len(text) if newline < 0 else newline
    close = text.find("*/", start + 2)
    if close < 0:
        raise json.JSONDecodeError("Unterminated /* comment", text, start)
    return close + 2


def parse_jsonc(text: str) -> object:
    """Parse JSON with comments; ``None`` when the text holds only whitespace and comments.

    Raises :class:`json.JSONDecodeError` (a ``ValueError``) whose ``lineno``/``colno``
    point into ``text``.
    """
    if text.startswith("\ufeff"):
        text = " " + text[1:]
    stripped = strip_jsonc(text)
    if not stripped.strip():
        return None
    return json.loads(stripped)
