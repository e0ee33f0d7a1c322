"""`vscode-interactive install`: its summary and its paste-ready pin lines."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.fakes import FakeEnvironment
from vscode_interactive._cli.install import format_pins, format_summary
from vscode_interactive._install._arch import Arch, current_arch
from vscode_interactive._install._config import Artifact, VscodeConfig, resolve_sources
from vscode_interactive._install._ensure import Installation, InstallSource
from vscode_interactive.cli import build_parser

PIN_A, PIN_B, PIN_C = "a" * 64, "b" * 64, "c" * 64


_ARCHIVE = Artifact("https://m.test/cs 9.tar.gz", PIN_A)


def _installation(
    *,
    archive: Artifact | None = _ARCHIVE,
    source: InstallSource = "download",
    arch: Arch = Arch.AMD64,
    installed: tuple[str, ...] = ("a.b", "c.d"),
    pending: tuple[str, ...] = (),
) -> Installation:
    return Installation(
        executable=Path("/cache/cs/bin/code-server"),
        version="9.9.9",
        user_data_dir=Path("/data/user-data"),
        extensions_dir=Path("/data/extensions"),
        source=source,
        arch=arch,
        heartbeat_path=Path("/home/u/.local/share/code-server/heartbeat"),
        archive=archive,
        extensions=(
            Artifact("https://m.test/a.b-1.vsix", PIN_B),
            Artifact("file:///c.d-2.vsix", PIN_C),
        ),
        installed_extensions=installed,
        pending_extensions=pending,
    )


def _parse_env_lines(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, _, raw = line.partition("=")
        (values[name],) = shlex.split(raw)
    return values


def test_pins_are_paste_ready_and_round_trip() -> None:
    """The printed lines, read back as environment values, pin the same URLs and hashes."""
    values = _parse_env_lines(format_pins(_installation()))
    assert values == {
        "VSCODE_INTERACTIVE_CODE_SERVER_URL": "https://m.test/cs 9.tar.gz",
        "VSCODE_INTERACTIVE_CODE_SERVER_SHA256": PIN_A,
        "VSCODE_INTERACTIVE_EXTENSIONS": f"https://m.test/a.b-1.vsix#sha256={PIN_B} "
        f"file:///c.d-2.vsix#sha256={PIN_C}",
    }
    sources = resolve_sources(VscodeConfig(), FakeEnvironment(values), current_arch())
    assert sources.archive == Artifact("https://m.test/cs 9.tar.gz", PIN_A)
    assert [item.sha256 for item in sources.extensions] == [PIN_B, PIN_C]


def test_pins_without_archive_say_why() -> None:
    """When code-server came from PATH there is no archive line, only a comment."""
    text = format_pins(_installation(archive=None, source="path"))
    assert "VSCODE_INTERACTIVE_CODE_SERVER_SHA256" not in text
    assert "# code-server came from path" in text


def test_summary_says_when_extensions_were_not_installed() -> None:
    """For another arch the summary lists the extensions that still need installing."""
    other = next(arch for arch in Arch if arch is not current_arch())
    text = format_summary(_installation(arch=other, installed=(), pending=("a.b@1",)))
    assert "NOT installed: a.b@1" in text and other.value in text


def test_install_command_is_registered() -> None:
    """`install` parses --arch (amd64/arm64 only) and --print-pins."""
    args = build_parser().parse_args(["install", "--arch", "arm64", "--print-pins"])
    assert (args.arch, args.print_pins) == ("arm64", True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["install", "--arch", "s390x"])
