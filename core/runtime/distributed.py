"""Data-parallel training: ``torch.distributed`` from torchrun's or SLURM's environment, a no-op in one process.

A training loop written for one process becomes data-parallel with three
calls, and stays correct in one process (every helper is then the
identity)::

    from etude.runtime import distributed as dist

    dist.init()                                  # torchrun / SLURM / submitit env, else nothing
    model = dist.wrap(model, device)             # DistributedDataParallel when world_size > 1
    for step in range(steps):
        x, y = sample_global_batch(generator)    # the same global batch on every rank
        x, y = dist.shard(x), dist.shard(y)      # this rank's contiguous share
        loss = loss_fn(model(x), y)              # mean over the shard
        ...                                      # DDP averages gradients: same update as the full batch
    metrics = dist.reduce_mean({"loss": float(loss)})
    if dist.is_main():
        save_checkpoint(...)                     # or dist.save_checkpoint(...): rank 0 writes

With equal shards, averaging the shards' mean-loss gradients equals the
gradient of the mean loss over the concatenated batch, so a few steps of
DDP training give the same parameters as one process on the whole batch
(tested to 1e-6 with 2 gloo processes).

Environment: torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT``; inside an ``srun`` step with several
tasks (a submitit job with ``tasks_per_node`` > 1) ``SLURM_PROCID``,
``SLURM_STEP_NUM_TASKS`` and ``SLURM_LOCALID`` are read and the master is the first host of
``SLURM_JOB_NODELIST`` (port ``MASTER_PORT`` or 29500 + job id % 1000).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "barrier",
    "broadcast_object",
    "cleanup",
    "env_ranks",
    "init",
    "is_distributed",
    "is_main",
    "local_rank",
    "rank",
    "reduce_mean",
    "save_checkpoint",
    "shard",
    "world_size",
    "wrap",
]


def env_ranks(environ: Mapping[str, str] | None = None) -> tuple[int, int, int] | None:
    """``(rank, world_size, local_rank)`` from torchrun's or SLURM's variables, or None for one process."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" in env and "RANK" in env:
        return int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", env["RANK"]))
    # only inside an srun step (submitit launches its tasks with srun): a batch script or an salloc shell that
    # merely holds several tasks is one process
    if "SLURM_STEP_NUM_TASKS" in env and "SLURM_PROCID" in env and int(env["SLURM_STEP_NUM_TASKS"]) > 1:
        return int(env["SLURM_PROCID"]), int(env["SLURM_STEP_NUM_TASKS"]), int(env.get("SLURM_LOCALID", 0))
    return None


def _slurm_master(env: Mapping[str, str]) -> str:
    nodes = env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST") or "127.0.0.1"
    first = nodes.split(",")[0]
    match = re.match(r"^([^\[]+)\[(\d+)", first)  # "cn-a[001-004]" -> "cn-a001"
    return match.group(1) + match.group(2) if match else first


def init(backend: str | None = None) -> bool:
    """Initialise the default process group from the environment; True if distributed (world size > 1).

    ``backend`` defaults to ``nccl`` when CUDA is available, else ``gloo``.
    Idempotent; a no-op (False) without a multi-process environment.
    """
    import torch  # noqa: PLC0415
    import torch.distributed as td  # noqa: PLC0415

    if td.is_available() and td.is_initialized():
        return td.get_world_size() > 1
    ranks = env_ranks()
    if ranks is None or ranks[1] <= 1:
        return False
    r, world, local = ranks
    if "MASTER_ADDR" not in os.environ:
        os.environ["MASTER_ADDR"] = _slurm_master(os.environ)
    if "MASTER_PORT" not in os.environ:
        os.environ["MASTER_PORT"] = str(29500 + int(os.environ.get("SLURM_JOB_ID", "0")) % 1000)
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local)
    td.init_process_group(backend=backend, rank=r, world_size=world)
    return True


def is_distributed() -> bool:
    import torch.distributed as td  # noqa: PLC0415

    return td.is_available() and td.is_initialized() and td.get_world_size() > 1


def rank() -> int:
    import torch.distributed as td  # noqa: PLC0415

    return td.get_rank() if is_distributed() else 0


def world_size() -> int:
    import torch.distributed as td  # noqa: PLC0415

    return td.get_world_size() if is_distributed() else 1


def local_rank() -> int:
    ranks = env_ranks()
    return ranks[2] if ranks is not None and is_distributed() else 0


def is_main() -> bool:
    """True on rank 0 (and in one process): the rank that writes results and checkpoints."""
    return rank() == 0


def barrier() -> None:
    import torch.distributed as td  # noqa: PLC0415

    if is_distributed():
        td.barrier()


def wrap(model: Any, device: str | Any = "cpu") -> Any:
    """``DistributedDataParallel(model)`` when distributed (on ``device``), else ``model`` unchanged."""
    if not is_distributed():
        return model
    from torch.nn.parallel import DistributedDataParallel  # noqa: PLC0415

    device = str(device)
    if device.startswith("cuda"):
        return DistributedDataParallel(model, device_ids=[local_rank()], output_device=local_rank())
    return DistributedDataParallel(model)


def shard(batch: Any) -> Any:
    """This rank's contiguous share of ``batch`` (dim 0); the whole batch in one process.

    The batch size must divide by the world size, so every rank's mean loss
    weighs its examples like the full batch's.
    """
    world = world_size()
    if world == 1:
        return batch
    n = batch.shape[0]
    if n % world:
        raise ValueError(f"shard: batch of {n} does not divide over {world} ranks; use a multiple of {world}")
    size = n // world
    return batch[rank() * size:(rank() + 1) * size]


def reduce_mean(metrics: Mapping[str, float]) -> dict[str, float]:
    """The mean of each metric over ranks (the values themselves in one process)."""
    values = {k: float(v) for k, v in metrics.items()}
    if not is_distributed():
        return values
    import torch  # noqa: PLC0415
    import torch.distributed as td  # noqa: PLC0415

    device = "cuda" if td.get_backend() == "nccl" else "cpu"
    tensor = torch.tensor(list(values.values()), dtype=torch.float64, device=device)
    td.all_reduce(tensor, op=td.ReduceOp.SUM)
    return dict(zip(values, (tensor / world_size()).tolist(), strict=True))


def broadcast_object(value: Any, src: int = 0) -> Any:
    """``value`` of rank ``src`` on every rank (identity in one process)."""
    if not is_distributed():
        return value
    import torch.distributed as td  # noqa: PLC0415

    box = [value]
    td.broadcast_object_list(box, src=src)
    return box[0]


def save_checkpoint(path: Any, state: Any, **kwargs: Any) -> None:
    """:func:`etude.runtime.save_checkpoint` on rank 0 only (a DDP wrapper is unwrapped), then a barrier."""
    if is_main():
        from etude.runtime.checkpoint import save_checkpoint as save  # noqa: PLC0415

        if type(state).__name__ == "DistributedDataParallel":
            state = state.module
        save(path, state, **kwargs)
    barrier()


def cleanup() -> None:
    import torch.distributed as td  # noqa: PLC0415

    if td.is_available() and td.is_initialized():
        td.destroy_process_group()
