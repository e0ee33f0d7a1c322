"""Rank detection from the launchers' environment variables."""

from __future__ import annotations

import pytest

from vscode_interactive._distributed._ranks import RankInfo, detect_rank
from vscode_interactive._errors import ConfigError

TORCHRUN = {
    "RANK": "1",
    "WORLD_SIZE": "2",
    "LOCAL_RANK": "1",
    "MASTER_ADDR": "localhost",
    "MASTER_PORT": "29500",
    "TORCHELASTIC_RUN_ID": "abc",
    "TORCHELASTIC_RESTART_COUNT": "2",
    "TORCHELASTIC_USE_AGENT_STORE": "True",
}


def test_no_launcher_is_a_single_process() -> None:
    """Without any launcher variable there is no rank."""
    assert detect_rank({"HOME": "/root"}) is None


def test_torchrun_environment() -> None:
    """torchrun's variables give rank, world, local rank, endpoint, agent store and job id."""
    assert detect_rank(TORCHRUN) == RankInfo(
        rank=1,
        world_size=2,
        launcher="torchrun",
        local_rank=1,
        job_id="abc.2",
        master_addr="localhost",
        master_port=29500,
        agent_store=True,
    )


def test_plain_rank_and_world_size_without_elastic() -> None:
    """RANK/WORLD_SIZE set by another launcher read as the ``env`` launcher."""
    info = detect_rank({"RANK": "0", "WORLD_SIZE": "4"})
    assert info is not None
    assert (info.launcher, info.rank, info.world_size, info.agent_store) == ("env", 0, 4, False)
    assert (info.local_rank, info.master_port, info.job_id) == (None, None, "job")


def test_open_mpi() -> None:
    """Open MPI's world rank and size, and its local rank."""
    info = detect_rank(
        {
            "OMPI_COMM_WORLD_RANK": "3",
            "OMPI_COMM_WORLD_SIZE": "8",
            "OMPI_COMM_WORLD_LOCAL_RANK": "1",
            "PMIX_NAMESPACE": "prterun-x-1@1",
        }
    )
    assert info == RankInfo(
        rank=3, world_size=8, launcher="openmpi", local_rank=1, job_id="openmpi-prterun-x-1@1"
    )


def test_pmi() -> None:
    """MPICH/Intel MPI's PMI_RANK and PMI_SIZE."""
    info = detect_rank({"PMI_RANK": "2", "PMI_SIZE": "3"})
    assert info is not None and (info.launcher, info.rank, info.world_size) == ("pmi", 2, 3)


def test_slurm() -> None:
    """Slurm's task id and task count, with the job and step in the job id."""
    info = detect_rank(
        {"SLURM_PROCID": "5", "SLURM_NTASKS": "16", "SLURM_LOCALID": "1", "SLURM_JOB_ID": "77"}
    )
    assert info == RankInfo(
        rank=5, world_size=16, launcher="slurm", local_rank=1, job_id="slurm-77.0"
    )


def test_torchrun_inside_slurm_uses_the_worker_rank() -> None:
    """torchrun's RANK wins over the Slurm task id it runs in."""
    info = detect_rank({**TORCHRUN, "SLURM_PROCID": "0", "SLURM_NTASKS": "1"})
    assert info is not None and (info.launcher, info.rank) == ("torchrun", 1)


def test_explicit_override_wins() -> None:
    """VSCODE_INTERACTIVE_RANK/WORLD_SIZE beat every launcher; the job id can be named."""
    info = detect_rank(
        {
            **TORCHRUN,
            "VSCODE_INTERACTIVE_RANK": "0",
            "VSCODE_INTERACTIVE_WORLD_SIZE": "3",
            "VSCODE_INTERACTIVE_JOB_ID": "mine",
        }
    )
    assert info is not None
    assert (info.launcher, info.rank, info.world_size, info.job_id) == ("override", 0, 3, "mine")


def test_world_of_one_is_a_single_process() -> None:
    """A launcher with one process changes nothing."""
    assert detect_rank({"RANK": "0", "WORLD_SIZE": "1"}) is None


def test_switch_off_ignores_the_launcher() -> None:
    """VSCODE_INTERACTIVE_DISTRIBUTED=0 makes every rank a single process."""
    assert detect_rank({**TORCHRUN, "VSCODE_INTERACTIVE_DISTRIBUTED": "0"}) is None


def test_switch_on_keeps_a_world_of_one() -> None:
    """VSCODE_INTERACTIVE_DISTRIBUTED=1 coordinates even a world of one."""
    info = detect_rank({"RANK": "0", "WORLD_SIZE": "1", "VSCODE_INTERACTIVE_DISTRIBUTED": "1"})
    assert info is not None and info.world_size == 1


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"VSCODE_INTERACTIVE_DISTRIBUTED": "1"}, "VSCODE_INTERACTIVE_RANK"),
        ({"VSCODE_INTERACTIVE_DISTRIBUTED": "maybe"}, "VSCODE_INTERACTIVE_DISTRIBUTED='maybe'"),
        ({"VSCODE_INTERACTIVE_RANK": "1"}, "VSCODE_INTERACTIVE_WORLD_SIZE"),
        ({"RANK": "x", "WORLD_SIZE": "2"}, "RANK='x'"),
        ({"RANK": "2", "WORLD_SIZE": "2"}, "ranks are 0..1"),
        ({"RANK": "0", "WORLD_SIZE": "0"}, "WORLD_SIZE='0'"),
        ({"RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "70000"}, "MASTER_PORT='70000'"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], names: str) -> None:
    """A value that cannot be used raises ConfigError naming the variable."""
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        detect_rank(env)


def test_describe() -> None:
    """A rank describes itself as 'rank r of n (launcher)'."""
    assert RankInfo(rank=1, world_size=2, launcher="slurm").describe() == "rank 1 of 2 (slurm)"
