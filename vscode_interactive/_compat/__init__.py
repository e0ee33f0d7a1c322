"""Every public name of the reference (flytekit's ``vscode_lib``), in one place.

Code written against the reference keeps working on this library's footing:

* :mod:`._install`: ``download_file``, ``download_vscode``, ``get_installed_extensions``,
  ``is_extension_installed``, ``DOWNLOAD_DIR``, ``EXECUTABLE_NAME``, ``HEARTBEAT_PATH``;
* :mod:`._workspace`: ``prepare_launch_json``, ``prepare_interactive_python``,
  ``prepare_resume_task_python``, ``load_module_from_path`` and the file-name constants;
* :mod:`._supervision`: ``exit_handler``, ``execute_command``, ``MAX_IDLE_SECONDS``,
  ``EXIT_CODE_SUCCESS``;
* here: :data:`VSCODE_TYPE_VALUE`, the ``link_type`` a task runner shows a link for.

``vscode``, ``VscodeConfig`` and ``ClassDecorator`` keep their names in their own rooms and
are re-exported from :mod:`vscode_interactive` with these.
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._install import (
        DOWNLOAD_DIR,
        EXECUTABLE_NAME,
        HEARTBEAT_PATH,
        download_file,
        download_vscode,
        get_installed_extensions,
        is_extension_installed,
    )
    from ._supervision import EXIT_CODE_SUCCESS, MAX_IDLE_SECONDS, execute_command, exit_handler
    from ._workspace import (
        INTERACTIVE_DEBUGGING_FILE_NAME,
        RESUME_TASK_FILE_NAME,
        TASK_FUNCTION_SOURCE_PATH,
        load_module_from_path,
        prepare_interactive_python,
        prepare_launch_json,
        prepare_resume_task_python,
    )

VSCODE_TYPE_VALUE = "vscode"
"""The ``link_type`` value of :meth:`ClassDecorator.get_extra_config` (the reference's name)."""

_EXPORTS = {
    "DOWNLOAD_DIR": "._install",
    "EXECUTABLE_NAME": "._install",
    "HEARTBEAT_PATH": "._install",
    "download_file": "._install",
    "download_vscode": "._install",
    "get_installed_extensions": "._install",
    "is_extension_installed": "._install",
    "EXIT_CODE_SUCCESS": "._supervision",
    "MAX_IDLE_SECONDS": "._supervision",
    "execute_command": "._supervision",
    "exit_handler": "._supervision",
    "INTERACTIVE_DEBUGGING_FILE_NAME": "._workspace",
    "RESUME_TASK_FILE_NAME": "._workspace",
    "TASK_FUNCTION_SOURCE_PATH": "._workspace",
    "load_module_from_path": "._workspace",
    "prepare_interactive_python": "._workspace",
    "prepare_launch_json": "._workspace",
    "prepare_resume_task_python": "._workspace",
}

__all__ = [
    "DOWNLOAD_DIR",
    "EXECUTABLE_NAME",
    "EXIT_CODE_SUCCESS",
    "HEARTBEAT_PATH",
    "INTERACTIVE_DEBUGGING_FILE_NAME",
    "MAX_IDLE_SECONDS",
    "RESUME_TASK_FILE_NAME",
    "TASK_FUNCTION_SOURCE_PATH",
    "VSCODE_TYPE_VALUE",
    "download_file",
    "download_vscode",
    "execute_command",
    "exit_handler",
    "get_installed_extensions",
    "is_extension_installed",
    "load_module_from_path",
    "prepare_interactive_python",
    "prepare_launch_json",
    "prepare_resume_task_python",
]

__getattr__ = _lazy_getattr(__name__, _EXPORTS)
