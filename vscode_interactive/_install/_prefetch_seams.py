"""The effects of a background install (:class:`PrefetchSeams`) and the real ones.

:func:`real_seams` is called in the prefetch's thread after its head start, so the imports
of the real adapters are paid there, not on the caller's thread.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._prefetch_request import child_argv

if TYPE_CHECKING:
    from pathlib import Path

    from .._ports import Clock, Environment, Priorities, ProcessLauncher
    from ._prefetch_request import PrefetchRequest

__all__ = ["PrefetchSeams", "real_seams"]


@dataclass(frozen=True, slots=True)
class PrefetchSeams:
    """The effects of a prefetch. ``check`` says whether everything is installed already
    (never downloading nor starting anything); ``log_file`` makes the private file the
    child writes its output to; ``argv`` is the child's command line."""

    priorities: Priorities
    launcher: ProcessLauncher
    env: Environment
    clock: Clock
    check: Callable[[], bool]
    log_file: Callable[[], Path]
    argv: list[str]


def real_seams(request: PrefetchRequest, env: Environment) -> PrefetchSeams:
    """The real effects (built in the prefetch thread: the imports are paid there)."""
    from pathlib import Path

    from .._system._files import private_temp_file
    from .._system._os import GroupPriorities, SystemClock
    from .._system._processes import PopenLauncher
    from ._warm import installed_already

    package_parent = Path(__file__).resolve().parent.parent.parent
    return PrefetchSeams(
        priorities=GroupPriorities(),
        # The child sets its own parent-death signal, so it is spawned without copying
        # this process's memory map; it stays in the job's session, where its nice value
        # counts against the job's (a new session is a new autogroup: an equal).
        launcher=PopenLauncher(parent_death_signal=False, own_session=False),
        env=env,
        clock=SystemClock(),
        check=lambda: installed_already(request.vscode, request.cache_dir, env),
        log_file=lambda: private_temp_file("vscode-interactive-prefetch-", ".log"),
        argv=child_argv(sys.executable, package_parent),
    )
