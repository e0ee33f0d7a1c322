"""Which rank of which job this process is, read from the launcher's environment.

:func:`detect_rank` is pure: a mapping of environment variables in, a :class:`RankInfo`
(or ``None`` for a single process) out. Launchers are tried in this order, the first
one whose variables are set wins::

    VSCODE_INTERACTIVE_RANK / _WORLD_SIZE   explicit override (any launcher)
    RANK / WORLD_SIZE                       torchrun, PyTorch elastic, torch.distributed.launch
    OMPI_COMM_WORLD_RANK / _SIZE            Open MPI (mpirun)
    PMI_RANK / PMI_SIZE                     MPICH, Intel MPI (Hydra)
    SLURM_PROCID / SLURM_NTASKS             Slurm (srun)

``torchrun`` inside a Slurm step sets both ``RANK`` and ``SLURM_PROCID``; ``RANK`` is the
worker's rank, which is why it comes first. ``VSCODE_INTERACTIVE_DISTRIBUTED=0`` makes
every process a single one (each opens its own IDE); a world of one process is a single
process too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .._errors import ConfigError

__all__ = [
    "ENV_DISTRIBUTED",
    "ENV_JOB_ID",
    "ENV_RANK",
    "ENV_STORE",
    "ENV_WORLD_SIZE",
    "RankInfo",
    "detect_rank",
]

#: ``0`` ignores the launcher (a single process); ``1`` requires a rank to be detected.
ENV_DISTRIBUTED = "VSCODE_INTERACTIVE_DISTRIBUTED"
#: Explicit rank and world size, for launchers not listed above.
ENV_RANK = "VSCODE_INTERACTIVE_RANK"
ENV_WORLD_SIZE = "VSCODE_INTERACTIVE_WORLD_SIZE"
#: Names this job in the coordination store (default: the launcher's job id).
ENV_JOB_ID = "VSCODE_INTERACTIVE_JOB_ID"
#: Another coordination store than the job's own: ``tcp://host:port`` or ``file:///path``.
ENV_STORE = "VSCODE_INTERACTIVE_STORE"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class RankInfo:
    """One process of a multi-process job.

    ``launcher`` names where the numbers came from (``override``, ``torchrun``, ``env``,
    ``openmpi``, ``pmi``, ``slurm``); ``job_id`` tells jobs sharing a store apart;
    ``master_addr``/``master_port`` are the rendezvous endpoint when the launcher set one;
    ``agent_store`` is true when a torchrun agent hosts the rendezvous store there.
    """

    rank: int
    world_size: int
    launcher: str
    local_rank: int | None = None
    job_id: str = "job"
    master_addr: str | None = None
    master_port: int | None = None
    agent_store: bool = False

    def describe(self) -> str:
        """``rank 1 of 2 (torchrun)``."""
        return f"rank {self.rank} of {self.world_size} ({self.launcher})"


# (launcher, rank variable, size variable, local rank variable)
_LAUNCHERS: tuple[tuple[str, str, str, str | None], ...] = (
    ("override", ENV_RANK, ENV_WORLD_SIZE, None),
    ("env", "RANK", "WORLD_SIZE", "LOCAL_RANK"),
    ("openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
    ("pmi", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"),
    ("slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"),
)


def _switch(env: Mapping[str, str]) -> bool | None:
    value = env.get(ENV_DISTRIBUTED, "").strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"{ENV_DISTRIBUTED}={env[ENV_DISTRIBUTED]!r} is not a switch; use 1 (coordinate the "
        "ranks of this job), 0 (every process is on its own) or leave it unset (detect)"
    )


def _integer(env: Mapping[str, str], name: str, *, minimum: int) -> int:
    raw = env[name].strip()
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(
            f"{name}={env[name]!r} is not an integer >= {minimum}; the launcher (or you) set "
            "it, so fix that value or unset it"
        )
    return value


def _job_id(env: Mapping[str, str], launcher: str) -> str:
    explicit = env.get(ENV_JOB_ID, "").strip()
    if explicit:
        return explicit
    run_id = env.get("TORCHELASTIC_RUN_ID", "").strip()
    if run_id:
        # An elastic restart is a new set of processes: it must not see the old rounds.
        return f"{run_id}.{env.get('TORCHELASTIC_RESTART_COUNT', '0').strip() or '0'}"
    slurm = env.get("SLURM_JOB_ID", "").strip()
    if slurm:
        return f"slurm-{slurm}.{env.get('SLURM_STEP_ID', '0').strip() or '0'}"
    for name in ("PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid"):
        value = env.get(name, "").strip()
        if value:
            return f"{launcher}-{value}"
    return "job"


def _endpoint(env: Mapping[str, str]) -> tuple[str | None, int | None]:
    addr = env.get("MASTER_ADDR", "").strip() or None
    port_text = env.get("MASTER_PORT", "").strip()
    if not port_text:
        return addr, None
    port = _integer(env, "MASTER_PORT", minimum=1)
    if port > 65535:
        raise ConfigError(f"MASTER_PORT={port_text!r} is not a TCP port (1-65535)")
    return addr, port


def detect_rank(env: Mapping[str, str]) -> RankInfo | None:
    """This process's rank, or ``None`` when it runs alone (see the module docstring).

    Raises :class:`ConfigError` for a value that is not a number, a rank outside the
    world, half an override, or ``VSCODE_INTERACTIVE_DISTRIBUTED=1`` with no rank found.
    """
    switch = _switch(env)
    if switch is False:
        return None
    if (ENV_RANK in env) != (ENV_WORLD_SIZE in env):
        raise ConfigError(f"set both {ENV_RANK} and {ENV_WORLD_SIZE}, or neither")
    for launcher, rank_name, size_name, local_name in _LAUNCHERS:
        if rank_name not in env or size_name not in env:
            continue
        rank = _integer(env, rank_name, minimum=0)
        world_size = _integer(env, size_name, minimum=1)
        if rank >= world_size:
            raise ConfigError(
                f"{rank_name}={rank} is not a rank of a world of {size_name}={world_size} "
                f"(ranks are 0..{world_size - 1})"
            )
        if world_size == 1 and switch is None:
            return None
        if launcher == "env" and env.get("TORCHELASTIC_RUN_ID"):
            launcher = "torchrun"
        local = env.get(local_name, "").strip() if local_name else ""
        addr, port = _endpoint(env)
        return RankInfo(
            rank=rank,
            world_size=world_size,
            launcher=launcher,
            local_rank=_integer(env, local_name, minimum=0) if local and local_name else None,
            job_id=_job_id(env, launcher),
            master_addr=addr,
            master_port=port,
            agent_store=env.get("TORCHELASTIC_USE_AGENT_STORE", "").strip() == "True",
        )
    if switch:
        raise ConfigError(
            f"{ENV_DISTRIBUTED}=1 but no launcher set a rank: set {ENV_RANK} and "
            f"{ENV_WORLD_SIZE} (or run under torchrun, mpirun or srun)"
        )
    return None
