"""JSON with comments: what VS Code accepts in launch.json and settings.json."""

from __future__ import annotations

import json

import pytest

from vscode_interactive._workspace._jsonc import parse_jsonc, strip_jsonc


def test_line_and_block_comments_are_ignored() -> None:
    """``//`` and ``/* */`` comments, anywhere between tokens, do not change the value."""
    text = """// leading
    {
        /* block
           over lines */ "a": 1, // after a value
        "b": /* inline */ [1, 2]
    }
    """
    assert parse_jsonc(text) == {"a": 1, "b": [1, 2]}


def test_trailing_commas_in_objects_and_arrays_are_accepted() -> None:
    """A comma before ``}`` or ``]``, even with a comment in between, is dropped."""
    text = '{"a": [1, 2,], "b": {"c": 3,}, // last\n}'
    assert parse_jsonc(text) == {"a": [1, 2], "b": {"c": 3}}


def test_comment_markers_and_commas_inside_strings_are_untouched() -> None:
    """``//``, ``/*`` and ``,}`` inside strings (and escaped quotes) stay as written."""
    text = r'{"url": "http://host/*x*/", "s": "a,}", "q": "say \"//hi\"", }'
    assert parse_jsonc(text) == {"url": "http://host/*x*/", "s": "a,}", "q": 'say "//hi"'}


def test_stripping_keeps_length_and_line_breaks() -> None:
    """The stripped text lines up with the original, so error positions stay true."""
    text = '{\n  // c\n  "a": 1, /* x\n y */\n}\n'
    stripped = strip_jsonc(text)
    assert len(stripped) == len(text)
    assert [i for i, c in enumerate(stripped) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"
    ]


def test_error_position_points_into_the_original_file() -> None:
    """A syntax error after comments is reported at its line and column in the user's text."""
    text = '{\n  // a comment, with "quotes"\n  "a": 1\n  "b": 2\n}'
    with pytest.raises(json.JSONDecodeError) as caught:
        parse_jsonc(text)
    assert (caught.value.lineno, caught.value.colno) == (4, 3)


def test_unterminated_block_comment_is_an_error_where_it_starts() -> None:
    """A ``/*`` that never closes fails at the comment's position."""
    with pytest.raises(json.JSONDecodeError) as caught:
        parse_jsonc('{"a": 1}\n/* open')
    assert (caught.value.lineno, caught.value.colno) == (2, 1)


@pytest.mark.parametrize("text", ["", "   \n", "// only a comment\n", "/* x */"])
def test_only_whitespace_and_comments_is_no_value(text: str) -> None:
    """A file holding nothing but whitespace and comments parses to ``None``."""
    assert parse_jsonc(text) is None


def test_byte_order_mark_is_accepted() -> None:
    """A UTF-8 BOM at the start (some Windows editors write one) is skipped."""
    assert parse_jsonc('\ufeff{"a": true}') == {"a": True}
