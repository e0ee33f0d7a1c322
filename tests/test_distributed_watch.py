"""The host's watcher: the front page's ranks table and the URL announcement."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes import FakeClock, FakeStore
from vscode_interactive._distributed._protocol import Coordinator, Election
from vscode_interactive._distributed._report import RankReport
from vscode_interactive._distributed._watch import HostWatcher, patch_ranks_section

PAGE = "# Debugging `f`\n\nintro\n\n## Next steps\n\n1. x\n\n## Traceback\n\ntb\n"


def elect(coordinator: Coordinator, me: RankReport) -> Election:
    """``coordinator.elect(me)``, in a job whose session has not ended."""
    election = coordinator.elect(me)
    assert isinstance(election, Election), election
    return election


def test_section_is_inserted_before_the_first_heading() -> None:
    """A page without a ranks section gets one right before its first '## ' heading."""
    patched = patch_ranks_section(PAGE, "## Ranks\n\nrows\n")
    assert patched == (
        "# Debugging `f`\n\nintro\n\n## Ranks\n\nrows\n\n## Next steps\n\n1. x\n\n"
        "## Traceback\n\ntb\n"
    )


def test_section_is_replaced_in_place() -> None:
    """Patching again replaces the old section and nothing else."""
    once = patch_ranks_section(PAGE, "## Ranks\n\nold\n")
    assert patch_ranks_section(once, "## Ranks\n\nnew\n") == once.replace("old", "new")
    assert patch_ranks_section(once, "## Ranks\n\nold\n") == once


def test_page_without_headings_gets_the_section_appended() -> None:
    """A page with no '## ' heading at all ends with the section."""
    assert patch_ranks_section("# T\n\ntext", "## Ranks\n\nr") == "# T\n\ntext\n\n## Ranks\n\nr\n"
    last = patch_ranks_section("# T\n\n## Ranks\n\nold\n", "## Ranks\n\nnew")
    assert last == "# T\n\n## Ranks\n\nnew\n"


def test_tick_announces_the_url_once_and_lists_new_ranks(tmp_path: Path) -> None:
    """Once session.json says running, the URL goes to the store; each rank that parks
    appears in the page."""
    clock = FakeClock()
    store = FakeStore(clock)
    coordinator = Coordinator(store, world_size=2, clock=clock, tie_window=0.0)
    election = elect(coordinator, RankReport(rank=1, host="b", pid=1, exception="E: x"))
    page, session = tmp_path / "DEBUGGING.md", tmp_path / "session.json"
    page.write_text(PAGE)
    writes: list[str] = []

    def write(path: Path, text: str) -> None:
        writes.append(text)
        path.write_text(text)

    watcher = HostWatcher(
        coordinator,
        election,
        front_page=page,
        session_file=session,
        render=lambda reports: "## Ranks\n\n" + ",".join(str(r.rank) for r in reports) + "\n",
        write=write,
    )
    watcher.tick()
    assert "## Ranks\n\n1\n" in page.read_text() and not store.check(["r0/session"])
    session.write_text(json.dumps({"state": "starting", "url": ""}))
    watcher.tick()
    assert not store.check(["r0/session"]) and len(writes) == 1
    session.write_text(json.dumps({"state": "running", "url": "http://127.0.0.1:5/?folder=/w"}))
    elect(coordinator, RankReport(rank=0, host="a", pid=2))
    watcher.tick()
    assert store.get("r0/session") == b"http://127.0.0.1:5/?folder=/w"
    assert "## Ranks\n\n0,1\n" in page.read_text() and len(writes) == 2
    store.set("r0/session", b"seen")
    watcher.tick()
    assert store.get("r0/session") == b"seen" and len(writes) == 2


def test_the_thread_runs_until_the_phase_ends(tmp_path: Path) -> None:
    """As a context manager the watcher ticks in the background and stops on exit."""
    clock = FakeClock()
    store = FakeStore(clock)
    coordinator = Coordinator(store, world_size=1, clock=clock)
    election = elect(coordinator, RankReport(rank=0, host="a", pid=1))
    page = tmp_path / "DEBUGGING.md"
    page.write_text(PAGE)
    with HostWatcher(
        coordinator,
        election,
        front_page=page,
        session_file=tmp_path / "missing.json",
        render=lambda reports: "## Ranks\n\nall\n",
        write=lambda path, text: path.write_text(text),
        interval=3600,
    ):
        pass
    assert "## Ranks\n\nall\n" in page.read_text()
