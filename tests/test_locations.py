"""Data directories and the HOME fallback (the reference dies on `mkdir '/.config'`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.fakes import FakeEnvironment
from vscode_interactive._install._locations import (
    code_server_heartbeat_path,
    resolve_locations,
    which_in,
)


def test_default_dirs_follow_xdg_data_home(tmp_path: Path) -> None:
    """With XDG_DATA_HOME set, our dirs and the heartbeat live under it; nothing is
    overridden for children."""
    (tmp_path / "h").mkdir()
    env = FakeEnvironment({"HOME": str(tmp_path / "h"), "XDG_DATA_HOME": str(tmp_path / "xd")})
    locations = resolve_locations(env)
    assert locations.extensions_dir == tmp_path / "xd" / "vscode-interactive" / "extensions"
    assert locations.user_data_dir.is_dir() and locations.extensions_dir.is_dir()
    assert locations.heartbeat_path == tmp_path / "xd" / "code-server" / "heartbeat"
    assert (locations.child_env, locations.fallback_reason) == ({}, None)


def test_relative_xdg_value_is_ignored(tmp_path: Path) -> None:
    """A relative XDG_DATA_HOME is invalid per the XDG spec and falls back to HOME."""
    (tmp_path / "h").mkdir()
    env = FakeEnvironment({"HOME": str(tmp_path / "h"), "XDG_DATA_HOME": "relative/dir"})
    assert resolve_locations(env).data_dir == tmp_path / "h/.local/share/vscode-interactive"


def test_heartbeat_path_follows_code_server_for_a_relative_xdg_value(tmp_path: Path) -> None:
    """code-server takes a relative XDG_DATA_HOME under its working directory (its
    env-paths does not apply the XDG rule), so the heartbeat path does the same."""
    env = {"HOME": "/home/u", "XDG_DATA_HOME": "relative/dir"}
    assert code_server_heartbeat_path(env, tmp_path) == (
        tmp_path / "relative/dir/code-server/heartbeat"
    )
    (tmp_path / "h").mkdir()
    locations = resolve_locations(FakeEnvironment({**env, "HOME": str(tmp_path / "h")}))
    assert locations.heartbeat_path == Path.cwd() / "relative/dir/code-server/heartbeat"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HOME": "/home/u", "XDG_DATA_HOME": "/data"}, "/data/code-server/heartbeat"),
        ({"HOME": "/home/u", "XDG_DATA_HOME": ""}, "/home/u/.local/share/code-server/heartbeat"),
        ({"HOME": "/home/u"}, "/home/u/.local/share/code-server/heartbeat"),
    ],
)
def test_heartbeat_path_absolute_and_default(env: dict[str, str], expected: str) -> None:
    """An absolute XDG_DATA_HOME is used as is; unset or empty means ~/.local/share."""
    assert code_server_heartbeat_path(env, Path("/elsewhere")) == Path(expected)


def test_heartbeat_path_without_home_uses_the_accounts_home() -> None:
    """With HOME unset, code-server (Node's os.homedir) uses the passwd entry's home."""
    import pwd

    home = pwd.getpwuid(os.getuid()).pw_dir
    assert code_server_heartbeat_path({}, Path("/x")) == (
        Path(home) / ".local/share/code-server/heartbeat"
    )


@pytest.mark.parametrize("home", [None, "", "not/absolute", "BLOCKED"])
def test_missing_or_unwritable_home_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, home: str | None
) -> None:
    """HOME unset, empty, relative or impossible to create (below a regular file — root
    ignores permission bits, a file does not): a fallback in TMPDIR is used, a warning
    says why, and HOME/XDG_* for code-server point into it."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    values = {"TMPDIR": str(tmp_path / "tmp")}
    if home is not None:
        values["HOME"] = str(blocker / "home") if home == "BLOCKED" else home
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        locations = resolve_locations(FakeEnvironment(values))
    base = tmp_path / "tmp" / f"vscode-interactive-{os.getuid()}"
    assert (locations.data_dir, locations.fallback_dir) == (base / "data", base)
    assert locations.extensions_dir.is_dir()
    assert set(locations.child_env) == {
        "HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
    }
    for value in locations.child_env.values():
        assert Path(value).is_dir() and Path(value).is_relative_to(base)
    assert (
        locations.heartbeat_path
        == Path(locations.child_env["XDG_DATA_HOME"]) / "code-server/heartbeat"
    )
    assert locations.fallback_reason is not None
    assert "HOME" in caplog.text and str(base) in caplog.text


def test_explicit_data_dir_still_checks_home(tmp_path: Path) -> None:
    """data_dir moves our files, but an unusable HOME still gets overrides for code-server."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = FakeEnvironment({"HOME": str(blocker / "h"), "TMPDIR": str(tmp_path / "tmp")})
    locations = resolve_locations(env, tmp_path / "mine")
    assert locations.extensions_dir == tmp_path / "mine" / "extensions"
    assert "HOME" in locations.child_env


def test_unwritable_data_dir_is_an_install_error(tmp_path: Path) -> None:
    """A data_dir that cannot be created raises InstallError naming it."""
    from vscode_interactive._errors import InstallError

    blocker = tmp_path / "file"
    blocker.write_text("")
    env = FakeEnvironment({"HOME": str(tmp_path / "h")})
    with pytest.raises(InstallError, match="file/d/user-data"):
        resolve_locations(env, blocker / "d")


def test_which_searches_the_given_environment(tmp_path: Path) -> None:
    """which_in looks in the PATH of the injected environment, not of this process."""
    exe = tmp_path / "bin" / "code-server"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert which_in(FakeEnvironment({"PATH": str(exe.parent)}))("code-server") == str(exe)
    assert which_in(FakeEnvironment({"PATH": str(tmp_path)}))("code-server") is None


def test_data_dir_variable_moves_our_files(tmp_path: Path) -> None:
    """VSCODE_INTERACTIVE_DATA_DIR places the extensions and user-data directories (for
    images baked at a fixed path); an explicit argument still wins."""
    env = FakeEnvironment(
        {"HOME": str(tmp_path / "h"), "VSCODE_INTERACTIVE_DATA_DIR": str(tmp_path / "baked")}
    )
    assert resolve_locations(env).extensions_dir == tmp_path / "baked" / "extensions"
    assert resolve_locations(env, tmp_path / "arg").data_dir == tmp_path / "arg"


# -- the fallback directory must be ours (issue 18, points 3 and 10) ---------------------------


@pytest.mark.parametrize("planted", ["other-user", "world-writable", "symlink"])
def test_a_fallback_dir_planted_by_someone_else_is_not_used(tmp_path: Path, planted: str) -> None:
    """``$TMPDIR/vscode-interactive-<uid>`` is used only if it is a real directory of ours
    that nobody else can write; otherwise a fresh private (0700) directory is made, so a
    ``.bashrc`` planted there never runs in the IDE's terminal."""
    if planted == "other-user" and os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    fixed = tmpdir / f"vscode-interactive-{os.getuid()}"
    target = tmp_path / "elsewhere" if planted == "symlink" else fixed
    (target / "home").mkdir(parents=True)
    (target / "home" / ".bashrc").write_text("echo planted\n")
    target.chmod(0o777)
    if planted == "other-user":
        for path in (target, target / "home", target / "home" / ".bashrc"):
            os.chown(path, 65534, 65534)
    if planted == "symlink":
        target.chmod(0o700)
        fixed.symlink_to(target)
    locations = resolve_locations(FakeEnvironment({"TMPDIR": str(tmpdir)}))
    base = locations.fallback_dir
    assert base is not None and base != fixed and base.parent == tmpdir
    info = base.lstat()
    assert info.st_uid == os.geteuid() and (info.st_mode & 0o777) == 0o700
    assert not (Path(locations.child_env["HOME"]) / ".bashrc").exists()
    assert Path(locations.child_env["HOME"]).is_relative_to(base)


def test_our_own_private_fallback_dir_is_used_again(tmp_path: Path) -> None:
    """The fixed fallback directory, ours and private, is reused (extensions stay installed)."""
    env = FakeEnvironment({"TMPDIR": str(tmp_path)})
    first = resolve_locations(env).fallback_dir
    assert first == tmp_path / f"vscode-interactive-{os.getuid()}"
    assert (first.stat().st_mode & 0o777) == 0o700
    assert resolve_locations(env).fallback_dir == first


def test_a_home_that_does_not_exist_falls_back_without_creating_it(tmp_path: Path) -> None:
    """HOME=/nonexistent (as root too): the documented fallback, and nothing is created at
    HOME."""
    home = tmp_path / "nonexistent"
    env = FakeEnvironment({"HOME": str(home), "TMPDIR": str(tmp_path / "tmp")})
    locations = resolve_locations(env)
    assert not home.exists()
    assert locations.fallback_reason is not None and "does not exist" in locations.fallback_reason
    assert locations.child_env["HOME"].startswith(str(tmp_path / "tmp"))
