"""The library's own extension in ensure_installed: always there, in the one install call,
recognised by identity, and one switch turns it off."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.test_install import EXT_A, EXT_B, OTHER, World, make_world
from vscode_interactive._errors import ConfigError
from vscode_interactive._extension._pack import own_extension, vsix_bytes
from vscode_interactive._install._extensions import read_installed

OWN = own_extension()


@pytest.fixture
def ours(tmp_path: Path) -> World:
    """The world of tests/test_install.py with the library's own extension on (the default)."""
    world = make_world(tmp_path)
    world.config = dataclasses.replace(world.config, own_extension=True)
    return world


def installed_files(world: World) -> list[str]:
    return [
        Path(argv[i + 1]).name
        for argv in world.installs()
        for i, arg in enumerate(argv)
        if arg == "--install-extension"
    ]


def test_it_is_installed_with_the_others_in_one_call(ours: World) -> None:
    """A cold install puts the downloaded extensions and ours into one code-server call."""
    installation = ours.install()
    assert len(ours.installs()) == 1
    assert installed_files(ours) == ["pub.alpha-1.0.0.vsix", "pub.beta-2.0.0.vsix", OWN.file_name]
    assert read_installed(installation.extensions_dir)[OWN.id] == OWN.version
    assert installation.installed_extensions == ("pub.alpha", "pub.beta", OWN.id)
    assert OWN.id not in {item.url for item in installation.extensions}  # never downloaded


def test_the_vsix_is_the_packed_extension(ours: World) -> None:
    """What code-server is given is the deterministic .vsix of the shipped files."""
    ours.install()
    (argv,) = ours.installs()
    assert Path(argv[-1]).read_bytes() == vsix_bytes(OWN)


def test_no_downloaded_extensions_still_gives_ours(ours: World) -> None:
    """VSCODE_INTERACTIVE_EXTENSIONS="" empties the download list, not the library's part."""
    ours.env.values["VSCODE_INTERACTIVE_EXTENSIONS"] = ""
    installation = ours.install()
    assert installed_files(ours) == [OWN.file_name]
    assert installation.installed_extensions == (OWN.id,)
    assert EXT_A not in ours.store.downloads and EXT_B not in ours.store.downloads


def test_a_warm_install_starts_nothing(ours: World) -> None:
    """Everything installed: the second call runs no code-server at all."""
    ours.install()
    calls = len(ours.runner.calls)
    again = ours.install()
    assert len(ours.runner.calls) == calls
    assert again.installed_extensions == ("pub.alpha", "pub.beta", OWN.id)


def test_another_version_installed_is_replaced(ours: World) -> None:
    """An older build of ours in extensions.json (another content hash) is installed again."""
    installation = ours.install()
    record = installation.extensions_dir / "extensions.json"
    record.write_text(record.read_text().replace(OWN.version, "0.0.1-000000000000"))
    ours.install()
    assert installed_files(ours)[-1] == OWN.file_name and len(ours.installs()) == 2


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("off", False), ("1", True)])
def test_the_environment_switch(ours: World, value: str, expected: bool) -> None:
    """VSCODE_INTERACTIVE_OWN_EXTENSION=0 leaves it out; 1 keeps it even if the config says no."""
    ours.config = dataclasses.replace(ours.config, own_extension=not expected)
    ours.env.values["VSCODE_INTERACTIVE_OWN_EXTENSION"] = value
    installation = ours.install()
    assert (OWN.id in installation.installed_extensions) is expected
    assert (OWN.file_name in installed_files(ours)) is expected


def test_the_config_switch(ours: World) -> None:
    """VscodeConfig(own_extension=False) leaves it out."""
    ours.config = dataclasses.replace(ours.config, own_extension=False)
    assert OWN.id not in ours.install().installed_extensions


def test_a_bad_switch_value_is_a_config_error(ours: World) -> None:
    """Anything but a yes/no word is refused, naming the variable."""
    ours.env.values["VSCODE_INTERACTIVE_OWN_EXTENSION"] = "maybe"
    with pytest.raises(ConfigError, match="VSCODE_INTERACTIVE_OWN_EXTENSION='maybe'"):
        ours.install()


def test_for_another_arch_it_is_pending_like_the_others(ours: World) -> None:
    """Baking an image for another arch runs nothing; ours is listed as pending too."""
    installation = ours.install(arch=OTHER.value)
    assert ours.installs() == []
    assert f"{OWN.id}@{OWN.version}" in installation.pending_extensions
