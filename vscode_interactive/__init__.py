"""vscode_interactive: turn a failing remote job into a live VS Code debugging session.

The public surface is what ``__all__`` lists; everything in a module whose name starts
with ``_`` is private. The download cache is public on its own as
:mod:`vscode_interactive.cache`.
"""

from __future__ import annotations

from ._arch import Arch, current_arch, get_code_server_info
from ._compat import (
    DOWNLOAD_DIR,
    EXECUTABLE_NAME,
    HEARTBEAT_PATH,
    download_file,
    download_vscode,
    get_installed_extensions,
    is_extension_installed,
)
from ._config import VscodeConfig
from ._errors import (
    CacheError,
    ConfigError,
    DownloadError,
    ExtractionError,
    HashMismatchError,
    IdleTimeoutError,
    InstallError,
    NotCachedError,
    ReloadError,
    ResumeError,
    ServerError,
    ServerExitedError,
    ServerStartError,
    UnsupportedPlatformError,
    VscodeInteractiveError,
)
from ._install import Installation, ensure_installed

__version__ = "0.1.0"

__all__ = [
    "Arch",
    "CacheError",
    "ConfigError",
    "DOWNLOAD_DIR",
    "DownloadError",
    "EXECUTABLE_NAME",
    "ExtractionError",
    "HEARTBEAT_PATH",
    "HashMismatchError",
    "IdleTimeoutError",
    "InstallError",
    "Installation",
    "NotCachedError",
    "ReloadError",
    "ResumeError",
    "ServerError",
    "ServerExitedError",
    "ServerStartError",
    "UnsupportedPlatformError",
    "VscodeConfig",
    "VscodeInteractiveError",
    "__version__",
    "current_arch",
    "download_file",
    "download_vscode",
    "ensure_installed",
    "get_code_server_info",
    "get_installed_extensions",
    "is_extension_installed",
]
