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

import typing

from ._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._compat import VSCODE_TYPE_VALUE
    from ._compat._install import (
        DOWNLOAD_DIR,
        EXECUTABLE_NAME,
        HEARTBEAT_PATH,
        download_file,
        download_vscode,
        get_installed_extensions,
        is_extension_installed,
    )
    from ._compat._supervision import (
        EXIT_CODE_SUCCESS,
        MAX_IDLE_SECONDS,
        execute_command,
        exit_handler,
    )
    from ._compat._workspace import (
        INTERACTIVE_DEBUGGING_FILE_NAME,
        RESUME_TASK_FILE_NAME,
        TASK_FUNCTION_SOURCE_PATH,
        load_module_from_path,
        prepare_interactive_python,
        prepare_launch_json,
        prepare_resume_task_python,
    )
    from ._context import ExecutionContext, ExecutionContextManager
    from ._decorator import AsyncVscodeTask, ClassDecorator, VscodeOptions, VscodeTask, vscode
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
        StateDirError,
        UnsupportedPlatformError,
        VscodeInteractiveError,
    )
    from ._install._arch import Arch, current_arch, get_code_server_info
    from ._install._config import Artifact, VscodeConfig
    from ._install._ensure import Installation, InstallSource, ensure_installed
    from ._layout import StateLayout
    from ._ports import (
        ArtifactStore,
        ByteStream,
        Clock,
        CommandResult,
        CommandRunner,
        Environment,
        Fetcher,
        ProcessHandle,
    )
    from ._session import Session, SessionConfig
    from ._supervision._channel import request_resume, request_status
    from ._supervision._policy import Outcome
    from ._supervision._server import ServerOptions
    from ._supervision._supervisor import SupervisionResult, Supervisor
    from ._workspace import SourceLocation, WorkspaceFiles, prepare_workspace

__version__ = "0.1.0"

# Plain sorted() order, as tests/test_exported_members.py checks (ruff's RUF022 would put
# the UPPER_CASE constants first).
__all__ = [
    "Arch",
    "Artifact",
    "ArtifactStore",
    "AsyncVscodeTask",
    "ByteStream",
    "CacheError",
    "ClassDecorator",
    "Clock",
    "CommandResult",
    "CommandRunner",
    "ConfigError",
    "DOWNLOAD_DIR",
    "DownloadError",
    "EXECUTABLE_NAME",
    "EXIT_CODE_SUCCESS",
    "Environment",
    "ExecutionContext",
    "ExecutionContextManager",
    "ExtractionError",
    "Fetcher",
    "HEARTBEAT_PATH",
    "HashMismatchError",
    "INTERACTIVE_DEBUGGING_FILE_NAME",
    "IdleTimeoutError",
    "InstallError",
    "InstallSource",
    "Installation",
    "MAX_IDLE_SECONDS",
    "NotCachedError",
    "Outcome",
    "ProcessHandle",
    "RESUME_TASK_FILE_NAME",
    "ReloadError",
    "ResumeError",
    "ServerError",
    "ServerExitedError",
    "ServerOptions",
    "ServerStartError",
    "Session",
    "SessionConfig",
    "SourceLocation",
    "StateDirError",
    "StateLayout",
    "SupervisionResult",
    "Supervisor",
    "TASK_FUNCTION_SOURCE_PATH",
    "UnsupportedPlatformError",
    "VSCODE_TYPE_VALUE",
    "VscodeConfig",
    "VscodeInteractiveError",
    "VscodeOptions",
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
    "Arch": "._install._arch",
    "current_arch": "._install._arch",
    "get_code_server_info": "._install._arch",
    "request_resume": "._supervision._channel",
    "request_status": "._supervision._channel",
    "DOWNLOAD_DIR": "._compat",
    "EXECUTABLE_NAME": "._compat",
    "HEARTBEAT_PATH": "._compat",
    "download_file": "._compat",
    "download_vscode": "._compat",
    "get_installed_extensions": "._compat",
    "is_extension_installed": "._compat",
    "VSCODE_TYPE_VALUE": "._compat",
    "VscodeConfig": "._install._config",
    "ExecutionContext": "._context",
    "ExecutionContextManager": "._context",
    "ClassDecorator": "._decorator",
    "AsyncVscodeTask": "._decorator",
    "VscodeOptions": "._decorator",
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
    "StateDirError": "._errors",
    "UnsupportedPlatformError": "._errors",
    "VscodeInteractiveError": "._errors",
    "Installation": "._install._ensure",
    "InstallSource": "._install._ensure",
    "Artifact": "._install._config",
    "StateLayout": "._layout",
    "ArtifactStore": "._ports",
    "ByteStream": "._ports",
    "Clock": "._ports",
    "CommandResult": "._ports",
    "CommandRunner": "._ports",
    "Environment": "._ports",
    "Fetcher": "._ports",
    "ProcessHandle": "._ports",
    "SourceLocation": "._workspace",
    "ensure_installed": "._install._ensure",
    "Outcome": "._supervision._policy",
    "EXIT_CODE_SUCCESS": "._compat",
    "MAX_IDLE_SECONDS": "._compat",
    "execute_command": "._compat",
    "exit_handler": "._compat",
    "ServerOptions": "._supervision._server",
    "Session": "._session",
    "SessionConfig": "._session",
    "SupervisionResult": "._supervision._supervisor",
    "Supervisor": "._supervision._supervisor",
    "WorkspaceFiles": "._workspace",
    "prepare_workspace": "._workspace",
    "INTERACTIVE_DEBUGGING_FILE_NAME": "._compat",
    "RESUME_TASK_FILE_NAME": "._compat",
    "TASK_FUNCTION_SOURCE_PATH": "._compat",
    "load_module_from_path": "._compat",
    "prepare_interactive_python": "._compat",
    "prepare_launch_json": "._compat",
    "prepare_resume_task_python": "._compat",
}


__getattr__ = _lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
