"""README's layout table and docs/architecture.md name exactly the package's tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "vscode_interactive"


def _entries() -> set[str]:
    """Top-level entries of the package: subpackages as ``name/``, modules as ``name.py``."""
    found: set[str] = set()
    for path in PACKAGE.iterdir():
        if path.is_dir() and (path / "__init__.py").exists():
            found.add(f"{path.name}/")
        elif path.suffix == ".py":
            found.add(path.name)
    return found


def _readme_rows() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in re.findall(r"^\| (.+?) \|", section, flags=re.MULTILINE):
        for cell in re.findall(r"`([^`]+)`", row):
            cell = cell.removeprefix("vscode_interactive/")
            if not cell.startswith(("tests", "stubs", "scripts", "bench")):
                names.add(cell)
    return names


def _architecture_rooms() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return text.split("## Rooms\n", 1)[1].split("\n## ", 1)[0]


def test_readme_layout_table_names_every_top_level_entry_and_nothing_else() -> None:
    """Every subpackage and top-level module has a row in README's layout table, and every
    row names something that exists."""
    assert _readme_rows() == _entries()


def test_architecture_names_every_module_of_every_subpackage() -> None:
    """docs/architecture.md's rooms table names each subpackage and each of its modules."""
    rooms = _architecture_rooms()
    missing = []
    for package in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        row = next((line for line in rooms.splitlines() if f"`{package.name}/`" in line), None)
        if row is None:
            missing.append(f"{package.name}/")
            continue
        for module in sorted(package.glob("*.py")):
            stem = module.stem
            if stem == "__init__" or package.name == "_cli":
                continue
            if f"`{stem}`" not in row and f"`{stem}." not in row:
                missing.append(f"{package.name}/{module.name}")
    assert missing == []


def test_architecture_names_only_modules_that_exist() -> None:
    """A module named in a subpackage's row of the rooms table exists in that subpackage."""
    rooms = _architecture_rooms()
    stale = []
    for line in rooms.splitlines():
        match = re.match(r"\| `(\w+)/` \|", line)
        if match is None or match.group(1) == "_cli":
            continue
        package = PACKAGE / match.group(1)
        for stem in re.findall(r"`(_\w+)`", line.split("|", 3)[3]):
            if not (package / f"{stem}.py").exists():
                stale.append(f"{match.group(1)}/{stem}")
    assert stale == []
