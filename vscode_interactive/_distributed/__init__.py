"""Distributed jobs: one IDE for the whole job, every other rank parked, one outcome.

* :mod:`._ranks`: which rank of which job this process is, from the launcher's variables;
* :mod:`._store`: the :class:`CoordinationStore` Protocol the ranks agree through;
* :mod:`._report`: :class:`RankReport`, what a rank tells the others about its failure;
* :mod:`._protocol`: the election, parking and outcome protocol (:class:`Coordinator`);
* :mod:`._messages`: the banner line, the parking log, the front page's ranks section;
* :mod:`._torch`: the job's ``torch.distributed`` store and the process-group rebuild
  (imports torch only for a distributed job that already loaded it);
* :mod:`._watch`: the host's heartbeat, URL announcement and live ranks table;
* :mod:`._job`: :class:`DistributedJob`, a rank's rounds, as ``Session.run`` composes them.
"""

from __future__ import annotations

import typing

from .._lazy import lazy_getattr as _lazy_getattr

if typing.TYPE_CHECKING:
    from ._protocol import Coordinator, SessionEnd
    from ._ranks import RankInfo, detect_rank
    from ._report import RankReport
    from ._store import CoordinationStore

__all__ = [
    "CoordinationStore",
    "Coordinator",
    "RankInfo",
    "RankReport",
    "SessionEnd",
    "detect_rank",
]

__getattr__ = _lazy_getattr(
    __name__,
    {
        "Coordinator": "._protocol",
        "SessionEnd": "._protocol",
        "RankInfo": "._ranks",
        "detect_rank": "._ranks",
        "RankReport": "._report",
        "CoordinationStore": "._store",
    },
)
