"""flytekit, when the job already uses it: the console link and flytekit's execution state.

The library never imports flytekit on its own (``import vscode_interactive`` stays cheap and
dependency-free). Each function here first looks whether the job has *already* imported
flytekit; a Flyte job always has, before it decorates anything, because ``@task`` comes from
flytekit. Without flytekit in :data:`sys.modules` both answers are "no flytekit".

* :func:`recognise_as_class_decorator` makes flytekit treat our decorated functions as its
  own ``flytekit.core.utils.ClassDecorator``. flytekit's translator copies the
  ``get_extra_config()`` of such a task function (``{"link_type": "vscode", "port": ...}``)
  into the task template's ``config``, which is what makes the Flyte console show a
  "VS Code" link for the running pod. ``ClassDecorator`` is an ``abc.ABC``, so registering
  our class as a virtual subclass is enough: nothing of flytekit's is inherited or called.
* :func:`flytekit_local_execution` reads flytekit's execution state: ``True`` in a local run
  (``pyflyte run`` without ``--remote``, a workflow called in Python), ``False`` in a task
  executing on a cluster, ``None`` when no flytekit execution is under way.
"""

from __future__ import annotations

import sys

__all__ = ["FLYTEKIT_MODULE", "flytekit_local_execution", "recognise_as_class_decorator"]

#: The top-level module whose presence in ``sys.modules`` means "the job uses flytekit".
FLYTEKIT_MODULE = "flytekit"

# flytekit's names changed across releases; a mismatch must not break the user's job.
_API_ERRORS = (ImportError, AttributeError)


def _flytekit_loaded() -> bool:
    return FLYTEKIT_MODULE in sys.modules


def _warn(message: str, error: BaseException) -> None:
    # logging is imported here, not at the top: decorating a function must stay cheap.
    import logging

    logging.getLogger("vscode_interactive").warning(message, error)


def recognise_as_class_decorator(cls: type) -> bool:
    """Register ``cls`` as a virtual subclass of flytekit's ``ClassDecorator``.

    Does nothing (and returns ``False``) unless the job already imported flytekit;
    returns ``True`` once instances of ``cls`` are flytekit ``ClassDecorator`` instances.
    """
    if not _flytekit_loaded():
        return False
    try:
        from flytekit.core.utils import ClassDecorator
    except _API_ERRORS as error:
        _warn(
            "flytekit is imported but its ClassDecorator is not available (%s); the Flyte "
            "console will show no VS Code link for this task",
            error,
        )
        return False
    if not issubclass(cls, ClassDecorator):
        ClassDecorator.register(cls)
    return True


def flytekit_local_execution() -> bool | None:
    """Whether flytekit says the current call is a local run.

    ``None`` when flytekit is not imported, or when no flytekit execution is under way (its
    default context has no execution mode): then the caller decides as without flytekit.
    """
    if not _flytekit_loaded():
        return None
    try:
        from flytekit.core.context_manager import FlyteContextManager

        state = FlyteContextManager.current_context().execution_state
        if state is None or state.mode is None:
            return None
        return bool(state.is_local_execution())
    except _API_ERRORS as error:
        _warn(
            "cannot read flytekit's execution state (%s); deciding local or remote without it",
            error,
        )
        return None
