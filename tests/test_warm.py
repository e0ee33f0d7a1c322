"""The cheap check on a real cache and the stand-in code-server (``tests/artifacts.py``):
it tells warm from cold and never downloads or starts anything."""

from __future__ import annotations

from tests.artifacts import build_vsix, read_invocations
from tests.fakes import FakeEnvironment
from tests.test_prefetch_integration import ARCHIVE, VSIX, World, world
from vscode_interactive import VscodeConfig, ensure_installed
from vscode_interactive._install._warm import installed_already

__all__ = ["world"]  # the fixture, shared with the prefetch tests


def test_cold_is_false_and_warm_is_true_without_a_request_or_a_process(world: World) -> None:
    """False on a cold cache, True once installed; no request reaches the server and
    code-server is never started by the check."""
    env = FakeEnvironment(world.env())
    assert installed_already(VscodeConfig(), None, env) is False
    assert world.server.count(ARCHIVE) == world.server.count(VSIX) == 0
    assert read_invocations(world.starts) == []
    ensure_installed(env=env)
    starts = len(read_invocations(world.starts))
    assert installed_already(VscodeConfig(), None, env) is True
    assert world.server.count(ARCHIVE) == world.server.count(VSIX) == 1
    assert len(read_invocations(world.starts)) == starts


def test_a_missing_extension_is_not_warm(world: World) -> None:
    """code-server is cached and installed, but a newly configured extension is not: the
    check says so without fetching it."""
    env = FakeEnvironment(world.env())
    ensure_installed(env=env)
    extra = world.server.add("/vsx/pub.beta-2.0.0.vsix", build_vsix("pub", "beta", "2.0.0"))
    env.values["VSCODE_INTERACTIVE_EXTENSIONS"] += " " + extra
    assert installed_already(VscodeConfig(), None, env) is False
    assert world.server.count("/vsx/pub.beta-2.0.0.vsix") == 0


def test_an_explicit_cache_directory_is_the_one_checked(world: World) -> None:
    """With a session's ``cache_dir`` the check looks there, not at $VSCODE_INTERACTIVE_CACHE."""
    env = FakeEnvironment(world.env())
    ensure_installed(env=env)
    elsewhere = str(world.tmp / "another-cache")
    assert installed_already(VscodeConfig(), elsewhere, env) is False
    assert installed_already(VscodeConfig(), str(world.tmp / "cache"), env) is True
