"""The patch renderer: exact text for the common cases, and patches that git apply and
GNU patch both apply to the original tree, reproducing the edited one byte for byte."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vscode_interactive._edits._patch import (
    FileChange,
    PatchHeader,
    Side,
    is_binary,
    quote_path,
    render_patch,
)

HEADER = PatchHeader(("vscode-interactive: edits made in /w", "apply: git apply changes.patch"))


def change(path: str, before: bytes | None, after: bytes | None, **kw: bool) -> FileChange:
    return FileChange(
        path,
        None if before is None else Side(before, kw.get("was_exec", False)),
        None if after is None else Side(after, kw.get("exec", False)),
    )


def test_modified_file_is_a_git_style_hunk_with_three_lines_of_context() -> None:
    """One changed line among ten: the header, the summary, then a git-style hunk."""
    before = b"".join(b"%d\n" % n for n in range(1, 11))
    after = before.replace(b"5\n", b"five\n")
    text = render_patch([change("src/a.py", before, after)], HEADER).data.decode()
    assert text == (
        "# vscode-interactive: edits made in /w\n"
        "# apply: git apply changes.patch\n"
        "# 1 file changed (+1 -1)\n"
        "\n"
        "diff --git a/src/a.py b/src/a.py\n"
        "--- a/src/a.py\n"
        "+++ b/src/a.py\n"
        "@@ -2,7 +2,7 @@\n"
        " 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
    )


def test_added_and_deleted_files_use_dev_null_and_file_modes() -> None:
    """A new executable file and a deleted one carry git's mode lines and /dev/null sides."""
    patch = render_patch(
        [change("run.sh", None, b"echo\n", exec=True), change("old.py", b"x\n", None)], HEADER
    )
    text = patch.data.decode()
    assert "diff --git a/run.sh b/run.sh\nnew file mode 100755\n--- /dev/null\n" in text
    assert "+++ b/run.sh\n@@ -0,0 +1 @@\n+echo\n" in text
    assert "diff --git a/old.py b/old.py\ndeleted file mode 100644\n--- a/old.py\n" in text
    assert "+++ /dev/null\n@@ -1 +0,0 @@\n-x\n" in text
    assert text.index("old.py") < text.index("run.sh")  # sorted by path
    assert (patch.summary.files, patch.summary.added, patch.summary.removed) == (2, 1, 1)


def test_missing_final_newline_is_marked_on_each_side() -> None:
    """A last line without newline gets git's marker, before and after."""
    text = render_patch([change("n.txt", b"a\nb", b"a\nc")], HEADER).data.decode()
    assert "-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n" in text


def test_binary_and_unrecorded_files_are_named_not_inlined() -> None:
    """A NUL byte or a side without content: the file is listed in the header only."""
    patch = render_patch(
        [
            change("model.bin", b"\x00\x01", b"\x00\x02"),
            FileChange("data.csv", Side(None), Side(None), reason="larger than 4 MiB, not read"),
            change("ok.py", b"a\n", b"b\n"),
        ],
        HEADER,
    )
    text = patch.data.decode()
    head, body = text.split("\ndiff --git", 1)
    assert "#   data.csv (larger than 4 MiB, not read, modified)" in head
    assert "#   model.bin (binary, modified)" in head
    assert "model.bin" not in body and "data.csv" not in body and "\x00" not in text
    assert patch.summary.named == (
        "data.csv (larger than 4 MiB, not read, modified)",
        "model.bin (binary, modified)",
    )
    assert "1 file changed (+1 -1); 2 binary or large file(s) named" in head


def test_no_changes_is_a_header_saying_so() -> None:
    """Nothing changed: only the header, ending with 'no files changed'."""
    patch = render_patch([], HEADER)
    assert patch.data.decode().splitlines()[-1] == "# no files changed"
    assert patch.summary.describe() == "no files changed"


def test_paths_are_quoted_like_git() -> None:
    """Plain paths stay bare; spaces, quotes, backslashes and non-ASCII are C-quoted."""
    assert quote_path(b"a/src/x.py") == b"a/src/x.py"
    assert quote_path(b"a/my file.py") == b'"a/my file.py"'
    assert quote_path('a/café"\\.py'.encode()) == b'"a/caf\\303\\251\\"\\\\.py"'
    assert quote_path(b"a/tab\there") == b'"a/tab\\there"'


def test_binary_rule_is_a_nul_in_the_first_8000_bytes() -> None:
    """git's heuristic: a NUL early means binary; later, or none, means text."""
    assert is_binary(b"ab\x00c")
    assert not is_binary(b"x" * 8000 + b"\x00")
    assert not is_binary("naïve\r\n".encode())


BEFORE = {
    "a.py": b"".join(b"line %d\n" % n for n in range(30)),
    "b.txt": b"no final newline",
    "crlf.txt": b"one\r\ntwo\r\nthree\r\n",
    "gone.py": b"bye\n",
    "my dir/spaced file.py": b"x = 1\n",
    "caf\u00e9.py": "# café\n".encode(),
    "latin1.txt": b"caf\xe9\n",
    "tool.sh": b"#!/bin/sh\necho\n",
}
AFTER = {
    "a.py": BEFORE["a.py"].replace(b"line 3\n", b"LINE 3\n").replace(b"line 25\n", b"") + b"tail\n",
    "b.txt": b"no final newline\nnow two lines",
    "crlf.txt": b"one\r\nTWO\r\nthree\r\n",
    "new/added.py": b"print('new')\n",
    "my dir/spaced file.py": b"x = 2\n",
    "caf\u00e9.py": "# café au lait\n".encode(),
    "latin1.txt": b"caf\xe9 cr\xe8me\n",
    "tool.sh": b"#!/bin/sh\necho\n",
    "empty.txt": b"",
}
EXECUTABLE_AFTER = {"tool.sh"}


def _changes() -> list[FileChange]:
    changes = []
    for path in sorted(set(BEFORE) | set(AFTER)):
        before, after = BEFORE.get(path), AFTER.get(path)
        if before == after and path not in EXECUTABLE_AFTER:
            continue
        changes.append(change(path, before, after, exec=path in EXECUTABLE_AFTER))
    return changes


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


def _read_tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.mark.integration
@pytest.mark.parametrize("tool", ["git apply", "patch -p1"])
def test_patch_applies_to_the_original_and_reproduces_the_edited_tree(
    tmp_path: Path, tool: str
) -> None:
    """Edited, added, deleted, CRLF, Latin-1, non-ASCII and spaced names, no final newline,
    a new empty file and an exec bit: the tool applies the patch cleanly and the tree equals
    the edited one, byte for byte."""
    if shutil.which(tool.split()[0]) is None:
        pytest.fail(f"{tool.split()[0]} is needed to check the patch (install it)")
    patch_file = tmp_path / "changes.patch"
    patch_file.write_bytes(render_patch(_changes(), HEADER).data)
    tree = tmp_path / "tree"
    tree.mkdir()
    _tree(tree, BEFORE)
    argv = ["git", "apply", str(patch_file)] if tool == "git apply" else ["patch", "-p1"]
    if tool == "git apply":
        subprocess.run(["git", "init", "-q"], cwd=tree, check=True)
    with patch_file.open("rb") as stdin:
        done = subprocess.run(argv, cwd=tree, stdin=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    assert _read_tree(tree) == AFTER
    assert (tree / "tool.sh").stat().st_mode & 0o100
