"""vscode_interactive: turn a failing remote job into a live VS Code debugging session.

The public surface is what ``__all__`` lists; everything in a module whose name starts
with ``_`` is private. The download cache is public on its own as
:mod:`vscode_interactive.cache`.

Importing the package is cheap: each public name is imported from its module on first
access (PEP 562 ``__getattr__``), so ``import vscode_interactive`` or ``from
vscode_interactive import vscode`` at the top of a job does not pull in the installer, the
supervisor, the workspace writer or their dependencies until a session needs them.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from ._arch import Arch, current_arch, get_code_server_info
    from ._channel import request_resume, request_status
    from ._config import VscodeConfig
    from ._context import ExecutionContext, ExecutionContextManager
    from ._decorator import ClassDecorator, VscodeTask, vscode
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
    from ._install_compat import (
        DOWNLOAD_DIR,
        EXECUTABLE_NAME,
        HEARTBEAT_PATH,
        download_file,
        download_vscode,
        get_installed_extensions,
        is_extension_installed,
    )
    from ._lifecycle import Outcome
    from ._server import ServerOptions
    from ._session import Session, SessionConfig
    from ._supervisor import SupervisionResult, Supervisor
    from ._supervisor_compat import (
        EXIT_CODE_SUCCESS,
        MAX_IDLE_SECONDS,
        execute_command,
        exit_handler,
    )
    from ._workspace import WorkspaceFiles, prepare_workspace
    from ._workspace._compat import (
        INTERACTIVE_DEBUGGING_FILE_NAME,
        RESUME_TASK_FILE_NAME,
        TASK_FUNCTION_SOURCE_PATH,
        load_module_from_path,
        prepare_interactive_python,
        prepare_launch_json,
        prepare_resume_task_python,
    )

__version__ = "0.1.0"

# Plain sorted() order, as tests/test_exported_members.py checks (ruff's RUF022 would put
# the UPPER_CASE constants first).
__all__ = [
    "Arch",
    "CacheError",
    "ClassDecorator",
    "ConfigError",
    "DOWNLOAD_DIR",
    "DownloadError",
    "EXECUTABLE_NAME",
    "EXIT_CODE_SUCCESS",
    "ExecutionContext",
    "ExecutionContextManager",
    "ExtractionError",
    "HEARTBEAT_PATH",
    "HashMismatchError",
    "INTERACTIVE_DEBUGGING_FILE_NAME",
    "IdleTimeoutError",
    "InstallError",
    "Installation",
    "MAX_IDLE_SECONDS",
    "NotCachedError",
    "Outcome",
    "RESUME_TASK_FILE_NAME",
    "ReloadError",
    "ResumeError",
    "ServerError",
    "ServerExitedError",
    "ServerOptions",
    "ServerStartError",
    "Session",
    "SessionConfig",
    "SupervisionResult",
    "Supervisor",
    "TASK_FUNCTION_SOURCE_PATH",
    "UnsupportedPlatformError",
    "VscodeConfig",
    "VscodeInteractiveError",
    "VscodeTask",
    "WorkspaceFiles",
    "__version__",
    "current_arch",
    "download_file",
    "download_vscode",
    "ensure_installed",
    "execute_command",
    "exit_handler",
    "get_code_server_info",
    "get_installed_extensions",
    "is_extension_installed",
    "load_module_from_path",
    "prepare_interactive_python",
    "prepare_launch_json",
    "prepare_resume_task_python",
    "prepare_workspace",
    "request_resume",
    "request_status",
    "vscode",
]

# Where each public name lives: ``__getattr__`` imports it from there on first access.
_EXPORTS: dict[str, str] = {
    "Arch": "._arch",
    "current_arch": "._arch",
    "get_code_server_info": "._arch",
    "request_resume": "._channel",
    "request_status": "._channel",
    "DOWNLOAD_DIR": "._install_compat",
    "EXECUTABLE_NAME": "._install_compat",
    "HEARTBEAT_PATH": "._install_compat",
    "download_file": "._install_compat",
    "download_vscode": "._install_compat",
    "get_installed_extensions": "._install_compat",
    "is_extension_installed": "._install_compat",
    "VscodeConfig": "._config",
    "ExecutionContext": "._context",
    "ExecutionContextManager": "._context",
    "ClassDecorator": "._decorator",
    "VscodeTask": "._decorator",
    "vscode": "._decorator",
    "CacheError": "._errors",
    "ConfigError": "._errors",
    "DownloadError": "._errors",
    "ExtractionError": "._errors",
    "HashMismatchError": "._errors",
    "IdleTimeoutError": "._errors",
    "InstallError": "._errors",
    "NotCachedError": "._errors",
    "ReloadError": "._errors",
    "ResumeError": "._errors",
    "ServerError": "._errors",
    "ServerExitedError": "._errors",
    "ServerStartError": "._errors",
    "UnsupportedPlatformError": "._errors",
    "VscodeInteractiveError": "._errors",
    "Installation": "._install",
    "ensure_installed": "._install",
    "Outcome": "._lifecycle",
    "EXIT_CODE_SUCCESS": "._supervisor_compat",
    "MAX_IDLE_SECONDS": "._supervisor_compat",
    "execute_command": "._supervisor_compat",
    "exit_handler": "._supervisor_compat",
    "ServerOptions": "._server",
    "Session": "._session",
    "SessionConfig": "._session",
    "SupervisionResult": "._supervisor",
    "Supervisor": "._supervisor",
    "WorkspaceFiles": "._workspace",
    "prepare_workspace": "._workspace",
    "INTERACTIVE_DEBUGGING_FILE_NAME": "._workspace._compat",
    "RESUME_TASK_FILE_NAME": "._workspace._compat",
    "TASK_FUNCTION_SOURCE_PATH": "._workspace._compat",
    "load_module_from_path": "._workspace._compat",
    "prepare_interactive_python": "._workspace._compat",
    "prepare_launch_json": "._workspace._compat",
    "prepare_resume_task_python": "._workspace._compat",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
