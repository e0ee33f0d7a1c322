"""Where code-server and its extensions come from: the config and its environment overrides.

:class:`VscodeConfig` keeps the reference's public shape (``code_server_remote_paths``,
``code_server_dir_names``, ``extension_remote_paths``, ``add_extensions``) and adds optional
sha256 pins and an explicit executable. :func:`resolve_sources` is pure: given a config, the
environment and an arch, it returns the :class:`Sources` to use, so an air-gapped user can
point at a mirror without code changes:

=========================================  ================================================
``VSCODE_INTERACTIVE_CODE_SERVER``         path of an existing ``code-server`` executable
``VSCODE_INTERACTIVE_CODE_SERVER_URL``     archive URL for this arch (any fsspec URL)
``VSCODE_INTERACTIVE_CODE_SERVER_SHA256``  sha256 pin of that archive
``VSCODE_INTERACTIVE_EXTENSIONS``          whitespace-separated ``.vsix`` URLs, each
                                           optionally ``URL#sha256=HEX``; replaces the
                                           configured list (empty: no downloaded extensions)
``VSCODE_INTERACTIVE_OWN_EXTENSION``       ``0`` leaves out the library's own extension
                                           (activity, countdown, "Resume job"); ``1`` keeps it
=========================================  ================================================

The library's own extension is not a download: it ships inside the package and is installed
whatever ``VSCODE_INTERACTIVE_EXTENSIONS`` says, unless ``VscodeConfig.own_extension`` is
False or ``VSCODE_INTERACTIVE_OWN_EXTENSION=0``. Without it the idle stop falls back to
code-server's heartbeat, which counts an open browser tab as activity.

An extension URL may contain ``{target_platform}``, replaced by the VS Code platform name of
the arch (``linux-x64``, ``linux-arm64``): platform-specific extensions such as
``ms-python.debugpy`` publish one ``.vsix`` per platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .._errors import ConfigError, UnsupportedPlatformError
from ._arch import Arch, parse_arch

if TYPE_CHECKING:
    from pathlib import Path

    from .._ports import Environment

__all__ = [
    "CODE_SERVER_VERSION",
    "ENV_CODE_SERVER",
    "ENV_CODE_SERVER_SHA256",
    "ENV_CODE_SERVER_URL",
    "ENV_EXTENSIONS",
    "ENV_OWN_EXTENSION",
    "TARGET_PLATFORM_PLACEHOLDER",
    "Artifact",
    "Origin",
    "Sources",
    "VscodeConfig",
    "format_extensions_value",
    "parse_extensions_value",
    "resolve_sources",
]

ENV_CODE_SERVER = "VSCODE_INTERACTIVE_CODE_SERVER"
ENV_CODE_SERVER_URL = "VSCODE_INTERACTIVE_CODE_SERVER_URL"
ENV_CODE_SERVER_SHA256 = "VSCODE_INTERACTIVE_CODE_SERVER_SHA256"
ENV_EXTENSIONS = "VSCODE_INTERACTIVE_EXTENSIONS"
ENV_OWN_EXTENSION = "VSCODE_INTERACTIVE_OWN_EXTENSION"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

TARGET_PLATFORM_PLACEHOLDER = "{target_platform}"
_TARGET_PLATFORMS = {Arch.AMD64: "linux-x64", Arch.ARM64: "linux-arm64"}

# code-server's minor version follows the VS Code it ships (4.139.x carries VS Code 1.139.x).
# The extension versions below declare a VS Code engine range that release satisfies.
CODE_SERVER_VERSION = "4.139.1"
_RELEASE_URL = (
    "https://github.com/coder/code-server/releases/download/v{version}/"
    "code-server-{version}-linux-{arch}.tar.gz"
)
_PYTHON_EXTENSION_VERSION = "2026.4.0"
_DEBUGPY_EXTENSION_VERSION = "2026.6.0"
_OPEN_VSX = "https://open-vsx.org/api"

_HEX = frozenset("0123456789abcdef")


def _default_remote_paths() -> dict[str, str]:
    return {
        arch.value: _RELEASE_URL.format(version=CODE_SERVER_VERSION, arch=arch.value)
        for arch in Arch
    }


def _default_dir_names() -> dict[str, str]:
    return {arch.value: f"code-server-{CODE_SERVER_VERSION}-linux-{arch.value}" for arch in Arch}


def _default_extensions() -> list[str]:
    debugpy = _DEBUGPY_EXTENSION_VERSION
    python = _PYTHON_EXTENSION_VERSION
    target = TARGET_PLATFORM_PLACEHOLDER
    return [
        # The launch configurations use type "debugpy", which only this extension provides;
        # it ships native code, so Open VSX has one .vsix per platform. Listed first because
        # ms-python.python depends on it.
        f"{_OPEN_VSX}/ms-python/debugpy/{target}/{debugpy}/file/"
        f"ms-python.debugpy-{debugpy}@{target}.vsix",
        f"{_OPEN_VSX}/ms-python/python/{python}/file/ms-python.python-{python}.vsix",
    ]


@dataclass
class VscodeConfig:
    """Where to get code-server and which extensions to install.

    ``code_server_remote_paths`` and ``code_server_dir_names`` map an arch (``"amd64"``,
    ``"arm64"``, or an alias such as ``"x86_64"``) to the release archive URL and to the
    directory at the top of that archive; ``extension_remote_paths`` lists ``.vsix`` URLs.
    Pins are optional: ``code_server_sha256`` maps an arch to the archive's sha256,
    ``extension_sha256`` maps an extension URL (as written in the list) to the ``.vsix``
    sha256. Without a pin, the hash seen on the first download is trusted afterwards.
    ``code_server_path`` names an existing executable, which skips the download.
    ``own_extension`` installs the library's own IDE extension (real activity for the idle
    stop, the countdown, "Resume job"); it is part of the package, never downloaded.
    """

    code_server_remote_paths: dict[str, str] = field(default_factory=_default_remote_paths)
    code_server_dir_names: dict[str, str] = field(default_factory=_default_dir_names)
    extension_remote_paths: list[str] = field(default_factory=_default_extensions)
    code_server_sha256: dict[str, str] = field(default_factory=dict)
    extension_sha256: dict[str, str] = field(default_factory=dict)
    code_server_path: str | None = None
    own_extension: bool = True

    def add_extensions(self, extension: str | list[str]) -> None:
        """Append one ``.vsix`` URL, or several, to ``extension_remote_paths``."""
        if isinstance(extension, str):
            self.extension_remote_paths.append(extension)
        else:
            self.extension_remote_paths.extend(extension)


@dataclass(frozen=True, slots=True)
class Artifact:
    """One URL to fetch, with its sha256 pin when there is one."""

    url: str
    sha256: str | None = None


Origin = Literal["env", "config"]
"""Where a setting came from: an environment variable or the :class:`VscodeConfig`."""


@dataclass(frozen=True, slots=True)
class Sources:
    """What :func:`resolve_sources` decided for one arch.

    ``executable`` is an explicit executable (from ``executable_origin``: ``"env"`` or
    ``"config"``); ``archive`` is the release archive (``None`` when no URL exists for the
    arch), whose top directory is ``dir_name`` or, when that is ``None``, found from the
    archive itself.
    """

    arch: Arch
    executable: Path | None
    executable_origin: Origin | None
    archive: Artifact | None
    dir_name: str | None
    extensions: tuple[Artifact, ...]
    archive_origin: Origin = "config"
    extensions_origin: Origin = "config"
    own_extension: bool = True
    """Install the library's own extension (it is not in ``extensions``: no download)."""

    def require_archive(self) -> Artifact:
        """The archive, or :class:`UnsupportedPlatformError` saying how to provide one."""
        if self.archive is None:
            raise UnsupportedPlatformError(
                f"no code-server archive URL is configured for {self.arch.value!r}; add it to "
                f"VscodeConfig.code_server_remote_paths, set {ENV_CODE_SERVER_URL}, or set "
                f"{ENV_CODE_SERVER} to an existing executable",
                machine=self.arch.value,
            )
        return self.archive


def _pick(mapping: Mapping[str, str], arch: Arch) -> str | None:
    """The mapping's value for ``arch``, whatever alias spells the key."""
    for key, value in mapping.items():
        try:
            if parse_arch(str(key)) is arch:
                return value
        except UnsupportedPlatformError:
            continue
    return None


def _check_sha256(value: str, where: str) -> str:
    digest = value.strip().lower()
    if len(digest) != 64 or not _HEX.issuperset(digest):
        raise ConfigError(
            f"{where} has {value!r}, which is not a sha256 (64 hexadecimal characters); "
            "fix or remove it"
        )
    return digest


def _expand_target(url: str, arch: Arch) -> str:
    return url.replace(TARGET_PLATFORM_PLACEHOLDER, _TARGET_PLATFORMS[arch])


def parse_extensions_value(value: str, arch: Arch) -> tuple[Artifact, ...]:
    """Parse ``VSCODE_INTERACTIVE_EXTENSIONS``: ``URL[#sha256=HEX]`` items split on whitespace."""
    artifacts = []
    for item in value.split():
        url, hash_sign, fragment = item.partition("#")
        pin: str | None = None
        if hash_sign:
            name, equals, digest = fragment.partition("=")
            if name != "sha256" or not equals:
                raise ConfigError(
                    f"{ENV_EXTENSIONS} has {item!r}: the only fragment understood is "
                    "'#sha256=<64 hex characters>'"
                )
            pin = _check_sha256(digest, f"{ENV_EXTENSIONS} item {item!r}")
        if not url:
            raise ConfigError(f"{ENV_EXTENSIONS} has {item!r}, which has no URL before '#'")
        artifacts.append(Artifact(_expand_target(url, arch), pin))
    return tuple(artifacts)


def format_extensions_value(extensions: tuple[Artifact, ...] | list[Artifact]) -> str:
    """The inverse of :func:`parse_extensions_value` (pinned items get ``#sha256=``)."""
    return " ".join(
        f"{item.url}#sha256={item.sha256}" if item.sha256 else item.url for item in extensions
    )


def _config_extensions(config: VscodeConfig, arch: Arch) -> tuple[Artifact, ...]:
    artifacts = []
    for url in config.extension_remote_paths:
        expanded = _expand_target(url, arch)
        pin = config.extension_sha256.get(expanded, config.extension_sha256.get(url))
        where = f"VscodeConfig.extension_sha256[{url!r}]"
        artifacts.append(Artifact(expanded, _check_sha256(pin, where) if pin else None))
    return tuple(artifacts)


def resolve_sources(config: VscodeConfig, env: Environment, arch: Arch) -> Sources:
    """Decide, without touching anything, which executable, archive and extensions to use.

    Environment variables win over the config. Invalid values raise :class:`ConfigError`
    naming the variable (or config field) and the value.
    """
    from pathlib import Path  # deferred: defining a task (``@vscode``) needs no pathlib

    executable: Path | None = None
    executable_origin: Origin | None = None
    env_executable = (env.get(ENV_CODE_SERVER) or "").strip()
    if env_executable:
        executable, executable_origin = Path(env_executable), "env"
    elif config.code_server_path:
        executable, executable_origin = Path(config.code_server_path), "config"

    env_url = (env.get(ENV_CODE_SERVER_URL) or "").strip()
    env_pin = (env.get(ENV_CODE_SERVER_SHA256) or "").strip()
    pin = (
        _check_sha256(env_pin, ENV_CODE_SERVER_SHA256)
        if env_pin
        else _pick_pin(config.code_server_sha256, arch)
    )
    if env_url:
        # A mirror may carry another version: find its top directory from the archive.
        archive: Artifact | None = Artifact(env_url, pin)
        dir_name = None
        archive_origin: Origin = "env"
    else:
        url = _pick(config.code_server_remote_paths, arch)
        archive = Artifact(url, pin) if url else None
        dir_name = _pick(config.code_server_dir_names, arch)
        archive_origin = "config"

    env_extensions = env.get(ENV_EXTENSIONS)
    if env_extensions is not None:
        extensions = parse_extensions_value(env_extensions, arch)
        extensions_origin: Origin = "env"
    else:
        extensions = _config_extensions(config, arch)
        extensions_origin = "config"
    return Sources(
        arch=arch,
        executable=executable,
        executable_origin=executable_origin,
        archive=archive,
        dir_name=dir_name,
        extensions=extensions,
        archive_origin=archive_origin,
        extensions_origin=extensions_origin,
        own_extension=_own_extension(config, env),
    )


def _own_extension(config: VscodeConfig, env: Environment) -> bool:
    value = (env.get(ENV_OWN_EXTENSION) or "").strip().lower()
    if not value:
        return config.own_extension
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"{ENV_OWN_EXTENSION}={value!r} is not a switch; use 0 to leave the library's own "
        "IDE extension out, 1 to install it, or unset it"
    )


def _pick_pin(pins: Mapping[str, str], arch: Arch) -> str | None:
    pin = _pick(pins, arch)
    if pin is None:
        return None
    return _check_sha256(pin, f"VscodeConfig.code_server_sha256[{arch.value!r}]")
