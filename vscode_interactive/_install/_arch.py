"""CPU architecture detection (pure: strings in, values out).

``platform.system()`` and ``platform.machine()`` spell the same CPU many ways (``x86_64``
on Linux, ``AMD64`` on Windows, ``aarch64`` on Linux, ``arm64`` on macOS). code-server
publishes Linux builds for two of them; this module maps the spellings to an :class:`Arch`
and picks the current arch's entry from a mapping such as
``VscodeConfig.code_server_remote_paths``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from .._errors import UnsupportedPlatformError

__all__ = ["Arch", "current_arch", "get_code_server_info", "parse_arch"]

_V = TypeVar("_V")

_ALIASES: dict[str, str] = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "x64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "aarch64_be": "arm64",
}


class Arch(str, enum.Enum):
    """A CPU architecture code-server ships for. The value is code-server's own spelling."""

    AMD64 = "amd64"
    ARM64 = "arm64"

    def __str__(self) -> str:
        return self.value


_SUPPORTED = tuple(arch.value for arch in Arch)
_HOW_TO_FIX = (
    "set VSCODE_INTERACTIVE_CODE_SERVER to an existing code-server executable, or "
    "VSCODE_INTERACTIVE_CODE_SERVER_URL to an archive built for this machine"
)


def parse_arch(machine: str, system: str = "Linux") -> Arch:
    """Map a ``platform.machine()`` string (any case) to an :class:`Arch`.

    ``armv8*`` counts as arm64. Raises :class:`UnsupportedPlatformError` naming the
    machine string, the supported arches and how to point at a build that does exist.
    """
    key = machine.strip().lower()
    value = _ALIASES.get(key)
    if value is None and key.startswith("armv8"):
        value = "arm64"
    if value is None:
        raise UnsupportedPlatformError(
            f"unsupported CPU architecture {machine!r} (system {system!r}); code-server builds "
            f"exist for {', '.join(_SUPPORTED)}; {_HOW_TO_FIX}",
            machine=machine,
            supported=_SUPPORTED,
        )
    return Arch(value)


def current_arch(system: str | None = None, machine: str | None = None) -> Arch:
    """The running machine's :class:`Arch` (arguments override detection, for tests)."""
    import platform  # deferred: `import vscode_interactive` (and `@vscode`) need no platform

    return parse_arch(
        platform.machine() if machine is None else machine,
        platform.system() if system is None else system,
    )


def get_code_server_info(
    code_server_info_dict: Mapping[str, _V] | Mapping[Arch, _V],
    *,
    system: str | None = None,
    machine: str | None = None,
) -> _V:
    """Pick the current arch's value from a mapping keyed by arch (``"amd64"``/``Arch``).

    Keys may be written with any alias (``"x86_64"``, ``"aarch64"``). Raises
    :class:`UnsupportedPlatformError` when the arch is unknown or the mapping has no
    entry for it.
    """
    arch = current_arch(system, machine)
    for key, value in code_server_info_dict.items():
        name = key.value if isinstance(key, Arch) else str(key)
        try:
            if parse_arch(name) is arch:
                return value
        except UnsupportedPlatformError:
            continue
    import platform

    configured = ", ".join(str(key) for key in code_server_info_dict) or "none"
    raise UnsupportedPlatformError(
        f"no entry for architecture {arch.value!r} (machine {machine or platform.machine()!r}) "
        f"in the mapping (configured: {configured}); add a {arch.value!r} entry, or "
        f"{_HOW_TO_FIX}",
        machine=machine or platform.machine(),
        supported=tuple(str(key) for key in code_server_info_dict),
    )
