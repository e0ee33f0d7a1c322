"""Architecture detection: every alias, every error."""

from __future__ import annotations

import pytest

from vscode_interactive import Arch, UnsupportedPlatformError, get_code_server_info
from vscode_interactive._install._arch import current_arch, parse_arch

URLS = {"amd64": "https://example.invalid/amd64.tgz", "arm64": "https://example.invalid/arm64.tgz"}


@pytest.mark.parametrize("machine", ["x86_64", "AMD64", "amd64", "X86_64", " x86_64 "])
def test_amd64_aliases(machine: str) -> None:
    """Every spelling of 64-bit x86 maps to amd64."""
    assert parse_arch(machine) is Arch.AMD64


@pytest.mark.parametrize("machine", ["aarch64", "arm64", "ARM64", "armv8l", "armv8b", "AARCH64"])
def test_arm64_aliases(machine: str) -> None:
    """Every spelling of 64-bit ARM (including armv8*) maps to arm64."""
    assert parse_arch(machine) is Arch.ARM64


@pytest.mark.parametrize("machine", ["i686", "armv7l", "ppc64le", "s390x", "riscv64", ""])
def test_unknown_machine_names_machine_supported_and_fix(machine: str) -> None:
    """An unknown machine string raises with the string, the supported arches and a fix."""
    with pytest.raises(UnsupportedPlatformError) as info:
        parse_arch(machine, "Linux")
    message = str(info.value)
    assert repr(machine) in message
    assert "amd64" in message and "arm64" in message
    assert "VSCODE_INTERACTIVE_CODE_SERVER_URL" in message
    assert info.value.machine == machine
    assert info.value.supported == ("amd64", "arm64")


def test_unsupported_platform_is_a_runtime_error() -> None:
    """Callers catching RuntimeError also catch an unsupported platform."""
    with pytest.raises(RuntimeError):
        parse_arch("sparc")


@pytest.mark.parametrize(
    ("machine", "expected"), [("x86_64", URLS["amd64"]), ("aarch64", URLS["arm64"])]
)
def test_get_code_server_info_picks_current_arch(machine: str, expected: str) -> None:
    """The mapping entry of the running arch is returned."""
    assert get_code_server_info(URLS, system="Linux", machine=machine) == expected


def test_get_code_server_info_accepts_alias_and_enum_keys() -> None:
    """Keys may be aliases or Arch members, not only code-server's spelling."""
    assert get_code_server_info({"x86_64": 1, "aarch64": 2}, machine="amd64") == 1
    assert get_code_server_info({Arch.ARM64: "a"}, machine="arm64") == "a"


def test_get_code_server_info_missing_arch_names_arch_and_configured_keys() -> None:
    """A mapping without the current arch raises, naming the arch and what is configured."""
    with pytest.raises(UnsupportedPlatformError) as info:
        get_code_server_info({"amd64": "x"}, machine="aarch64")
    message = str(info.value)
    assert "'arm64'" in message and "aarch64" in message and "configured: amd64" in message


def test_get_code_server_info_unknown_machine_raises() -> None:
    """An unknown machine raises even when the mapping is non-empty."""
    with pytest.raises(UnsupportedPlatformError, match="ppc64le"):
        get_code_server_info(URLS, machine="ppc64le")


def test_current_arch_detects_this_machine() -> None:
    """Without overrides the running machine is detected (tests run on amd64 or arm64)."""
    assert current_arch() in (Arch.AMD64, Arch.ARM64)


def test_arch_str_is_code_server_spelling() -> None:
    """str(Arch) is the spelling used in code-server archive names."""
    assert f"linux-{Arch.ARM64}" == "linux-arm64"
