"""VscodeConfig defaults and the pure source resolution with its environment overrides."""

from __future__ import annotations

import pytest

from tests.fakes import FakeEnvironment
from vscode_interactive._errors import ConfigError, UnsupportedPlatformError
from vscode_interactive._install._arch import Arch
from vscode_interactive._install._config import (
    CODE_SERVER_VERSION,
    ENV_CODE_SERVER,
    ENV_CODE_SERVER_SHA256,
    ENV_CODE_SERVER_URL,
    ENV_EXTENSIONS,
    Artifact,
    VscodeConfig,
    format_extensions_value,
    parse_extensions_value,
    resolve_sources,
)
from vscode_interactive._install._extensions import identity_from_name

PIN_A = "a" * 64
PIN_B = "b" * 64


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_default_release_is_recent_and_per_arch() -> None:
    """The default archive is a code-server >= 4.106 GitHub release for amd64 and arm64,
    and each dir name matches the archive name."""
    config = VscodeConfig()
    assert _version_tuple(CODE_SERVER_VERSION) >= (4, 106, 0)
    assert set(config.code_server_remote_paths) == {"amd64", "arm64"}
    for arch, url in config.code_server_remote_paths.items():
        assert url.startswith("https://github.com/coder/code-server/releases/download/")
        assert url.endswith(f"/{config.code_server_dir_names[arch]}.tar.gz")
        assert f"-{CODE_SERVER_VERSION}-linux-{arch}" in url


@pytest.mark.parametrize(
    ("arch", "platform"), [(Arch.AMD64, "linux-x64"), (Arch.ARM64, "linux-arm64")]
)
def test_default_extensions_are_python_and_debugpy_for_the_arch(arch: Arch, platform: str) -> None:
    """Defaults bring ms-python.python and ms-python.debugpy from Open VSX; debugpy's
    platform-specific .vsix is chosen for the arch."""
    sources = resolve_sources(VscodeConfig(), FakeEnvironment(), arch)
    ids = {}
    for item in sources.extensions:
        assert item.url.startswith("https://open-vsx.org/api/")
        identity = identity_from_name(item.url)
        assert identity is not None
        ids[identity.id] = item.url
    assert set(ids) == {"ms-python.python", "ms-python.debugpy"}
    assert ids["ms-python.debugpy"].endswith(f"@{platform}.vsix")
    assert f"/debugpy/{platform}/" in ids["ms-python.debugpy"]


def test_add_extensions_accepts_one_or_many() -> None:
    """add_extensions appends a single URL or a list, keeping the defaults before them."""
    config = VscodeConfig()
    before = list(config.extension_remote_paths)
    config.add_extensions("https://example.test/a.b-1.0.0.vsix")
    config.add_extensions(["https://example.test/c.d-1.0.0.vsix", "file:///e.f-2.0.vsix"])
    assert config.extension_remote_paths == [
        *before,
        "https://example.test/a.b-1.0.0.vsix",
        "https://example.test/c.d-1.0.0.vsix",
        "file:///e.f-2.0.vsix",
    ]
    assert VscodeConfig().extension_remote_paths == before  # defaults are not shared


def test_config_pins_and_aliased_arch_keys_are_used() -> None:
    """Pins from the config reach the sources; arch keys may use aliases like x86_64."""
    config = VscodeConfig(
        code_server_remote_paths={"x86_64": "https://m.test/cs.tar.gz"},
        code_server_dir_names={"x86_64": "cs"},
        extension_remote_paths=["https://m.test/{target_platform}/p.n-1.0.0.vsix"],
        code_server_sha256={"amd64": PIN_A.upper()},
        extension_sha256={"https://m.test/{target_platform}/p.n-1.0.0.vsix": PIN_B},
    )
    sources = resolve_sources(config, FakeEnvironment(), Arch.AMD64)
    assert sources.archive == Artifact("https://m.test/cs.tar.gz", PIN_A)
    assert sources.dir_name == "cs"
    assert sources.extensions == (Artifact("https://m.test/linux-x64/p.n-1.0.0.vsix", PIN_B),)
    assert sources.executable is None


def test_environment_overrides_the_config() -> None:
    """The four environment variables replace executable, archive, pin and extensions; a
    mirror URL's top directory is left to be found from the archive."""
    env = FakeEnvironment(
        {
            ENV_CODE_SERVER: "/opt/cs/bin/code-server",
            ENV_CODE_SERVER_URL: "s3://mirror/cs.tar.gz",
            ENV_CODE_SERVER_SHA256: PIN_A,
            ENV_EXTENSIONS: f"  file:///x/a.b-1.0.vsix#sha256={PIN_B}\n http://h/c.d-2.vsix ",
        }
    )
    config = VscodeConfig(code_server_path="/elsewhere/code-server")
    sources = resolve_sources(config, env, Arch.ARM64)
    assert (sources.executable_origin, str(sources.executable)) == (
        "env",
        env.values[ENV_CODE_SERVER],
    )
    assert sources.archive == Artifact("s3://mirror/cs.tar.gz", PIN_A)
    assert sources.dir_name is None
    assert sources.extensions == (
        Artifact("file:///x/a.b-1.0.vsix", PIN_B),
        Artifact("http://h/c.d-2.vsix", None),
    )
    assert (sources.archive_origin, sources.extensions_origin) == ("env", "env")


def test_config_executable_used_without_env() -> None:
    """code_server_path from the config is the explicit executable when the env has none."""
    config = VscodeConfig(code_server_path="/opt/cs/bin/code-server")
    sources = resolve_sources(config, FakeEnvironment({ENV_CODE_SERVER: " "}), Arch.AMD64)
    assert (sources.executable_origin, str(sources.executable)) == (
        "config",
        "/opt/cs/bin/code-server",
    )


def test_empty_extensions_variable_means_none() -> None:
    """VSCODE_INTERACTIVE_EXTENSIONS set to an empty string installs no extensions."""
    sources = resolve_sources(VscodeConfig(), FakeEnvironment({ENV_EXTENSIONS: ""}), Arch.AMD64)
    assert sources.extensions == ()


def test_sha256_variable_pins_the_configured_url() -> None:
    """VSCODE_INTERACTIVE_CODE_SERVER_SHA256 alone pins the configured archive."""
    env = FakeEnvironment({ENV_CODE_SERVER_SHA256: PIN_B})
    sources = resolve_sources(VscodeConfig(), env, Arch.AMD64)
    assert sources.archive == Artifact(VscodeConfig().code_server_remote_paths["amd64"], PIN_B)
    assert sources.dir_name == VscodeConfig().code_server_dir_names["amd64"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (ENV_CODE_SERVER_SHA256, "abc123"),
        (ENV_EXTENSIONS, "http://h/a.vsix#sha256=nothex"),
        (ENV_EXTENSIONS, "http://h/a.vsix#md5=" + "0" * 32),
        (ENV_EXTENSIONS, f"#sha256={PIN_A}"),
    ],
)
def test_invalid_values_name_the_variable_and_value(variable: str, value: str) -> None:
    """A bad pin or fragment raises ConfigError naming the variable and the bad value."""
    with pytest.raises(ConfigError) as info:
        resolve_sources(VscodeConfig(), FakeEnvironment({variable: value}), Arch.AMD64)
    assert variable in str(info.value)
    assert value.split("#")[-1].split("=")[-1] in str(info.value)


def test_invalid_config_pin_names_the_field() -> None:
    """A bad pin in the config names the config field."""
    config = VscodeConfig(code_server_sha256={"amd64": "xyz"})
    with pytest.raises(ConfigError, match=r"code_server_sha256.*'xyz'"):
        resolve_sources(config, FakeEnvironment(), Arch.AMD64)


def test_missing_arch_url_is_reported_only_when_needed() -> None:
    """No URL for the arch is fine until the archive is needed, then it says how to fix it."""
    config = VscodeConfig(code_server_remote_paths={"amd64": "https://m.test/a.tar.gz"})
    sources = resolve_sources(config, FakeEnvironment(), Arch.ARM64)
    assert sources.archive is None
    with pytest.raises(UnsupportedPlatformError, match=ENV_CODE_SERVER_URL):
        sources.require_archive()


def test_extensions_value_round_trips() -> None:
    """format_extensions_value writes what parse_extensions_value reads back."""
    items = (Artifact("http://h/a.b-1.vsix", PIN_A), Artifact("file:///c.d-2.vsix"))
    assert parse_extensions_value(format_extensions_value(items), Arch.AMD64) == items
