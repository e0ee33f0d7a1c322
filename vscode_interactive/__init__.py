"""vscode_interactive: turn a failing remote job into a live VS Code debugging session.

The public surface is what ``__all__`` lists; everything in a module whose name starts
with ``_`` is private. The download cache is public on its own as
:mod:`vscode_interactive.cache`.
"""

from __future__ import annotations

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
from ._supervisor_compat import EXIT_CODE_SUCCESS, MAX_IDLE_SECONDS, execute_command, exit_handler
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
