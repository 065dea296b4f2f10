"""Data-parallel training: N copies of the one loop, each on its shard of every batch.

    torchrun --nproc_per_node 2 -m core.cli train cnn --epochs 2       # gloo on CPU, NCCL on GPU

``torchrun`` (or Ray Train's TorchTrainer, ``core.ray_jobs``) starts N processes; each builds the
same model from the same seed (rank 0's weights are broadcast, as DistributedDataParallel does),
walks the same shuffled epoch order, and takes its part of each batch
(``config.batch_size`` is the global batch). Gradients are all-reduced and averaged inside
backward, as DDP does: a hook on each trained parameter fires when its gradient is accumulated,
so clipping, gradient-norm metrics and the optimizer all see the global gradient, and every
model's trainer works unchanged (a GAN's two optimizers, a language model's clipping). One
loss, the window metrics and the Stop/time-budget decisions are agreed across ranks every
step, so no rank ends while another waits in a collective. Rank 0 writes the run and its
checkpoints; the result loads in the app like any other run.

Batch norm: buffers (running statistics) are never broadcast: each rank keeps its own, and
rank 0's are saved. That is DDP's ``broadcast_buffers=False``, the fix for the GAN pitfall where
D is called twice (real, then generated images) before one backward and DDP's buffer broadcast
at the second call rewrites, in place, statistics the first call's graph still needs. Batch
statistics are per rank (each normalises its own shard), so a batch-norm model matches one
process only up to that; without batch norm, dropout or augmentation, N ranks reproduce one
process with the same global batch to float rounding (tests/test_distributed.py, 1e-5).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from core.events import Stopped
from core.i18n import _
from core.policies import Loop, Policy


@dataclass(frozen=True)
class Group:
    """This process's place among the data-parallel workers."""
    rank: int
    world: int
    backend: str               # gloo | nccl
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def current() -> Group | None:
    """The process group already set up (by ``start`` or by Ray Train), or None when there is
    none or it holds one process."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return Group(dist.get_rank(), dist.get_world_size(), dist.get_backend(),
                 int(os.environ.get("LOCAL_RANK", "0")))


def start() -> Group | None:
    """Join the group torchrun described in the environment (WORLD_SIZE, RANK, MASTER_ADDR …);
    None outside torchrun or with one process."""
    if int(os.environ.get("WORLD_SIZE", "1")) < 2:
        return None
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
    return current()


def finish(group: Group | None) -> None:
    if group is not None and dist.is_initialized():
        dist.destroy_process_group()


def device_of(group: Group | None) -> torch.device:
    """This rank's device: its own GPU under NCCL, else the CPU."""
    if group is not None and group.backend == "nccl":
        return torch.device("cuda", group.local_rank)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def threads_per_rank() -> int:
    """Torch threads of one rank on CPU: the cores shared out among the ranks of this machine."""
    ranks_here = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))
    return max(1, (os.cpu_count() or 1) // max(1, ranks_here))


def steps_per_epoch(count: int, batch_size: int, group: Group) -> int:
    """Full global batches only: a last, partial batch could leave a rank without rows."""
    if batch_size < group.world:
        raise ValueError(_("batch_size {batch_size} is smaller than the {workers} workers: "
                           "each needs at least one row of every batch").format(
                               batch_size=batch_size, workers=group.world))
    return max(1, count // batch_size)


def shard(index: torch.Tensor, group: Group) -> torch.Tensor:
    """This rank's contiguous part of a global batch's rows."""
    return index.tensor_split(group.world)[group.rank]


def trained_parameters(trainer) -> list[torch.nn.Parameter]:
    """The parameters the trainer's optimizers update (every optimizer it holds), in a fixed
    order; its ``parameters()`` when it holds none directly."""
    found, seen = [], set()
    optimizers = [value for value in vars(trainer).values()
                  if isinstance(value, torch.optim.Optimizer)]
    groups = [group["params"] for optimizer in optimizers for group in optimizer.param_groups]
    for parameters in groups or [list(trainer.parameters())]:
        for parameter in parameters:
            if id(parameter) not in seen and parameter.requires_grad:
                seen.add(id(parameter))
                found.append(parameter)
    return found


def synchronize(trainer, group: Group) -> None:
    """Rank 0's weights everywhere, then average every gradient across ranks as it is made."""
    parameters = trained_parameters(trainer)
    with torch.no_grad():
        for parameter in parameters:
            dist.broadcast(parameter.data, src=0)

    def average(parameter: torch.Tensor) -> None:
        grad = parameter.grad
        if grad is None:     # a parameter this step did not use
            return
        dist.all_reduce(grad)
        grad.div_(group.world)

    for parameter in parameters:
        parameter.register_post_accumulate_grad_hook(average)


def seed_rank(seed: int, group: Group) -> None:
    """Different random draws per rank from here on (a GAN's noise, dropout), the same run to
    run; the weights were made from the shared seed before this."""
    torch.manual_seed(seed * 1_000_003 + 7919 * (group.rank + 1))


def _on_wire(values: list[float], group: Group, dtype=torch.float64) -> torch.Tensor:
    """A small tensor where the group's backend reduces it (NCCL: on this rank's GPU)."""
    device = torch.device("cuda", group.local_rank) if group.backend == "nccl" else None
    return torch.tensor(values, dtype=dtype, device=device)


def mean(value: float, group: Group) -> float:
    """The mean of one number over the ranks (each step's loss, for the divergence check)."""
    tensor = _on_wire([value], group)
    dist.all_reduce(tensor)
    return tensor.item() / group.world


def mean_values(values: dict[str, float], group: Group) -> dict[str, float]:
    """Window metrics averaged over the ranks (same names on every rank, same order)."""
    names = sorted(values)
    tensor = _on_wire([float(values[name]) for name in names], group)
    dist.all_reduce(tensor)
    return {name: float(total) / group.world for name, total in zip(names, tensor.tolist())}


class Agreement(Policy):
    """All ranks take the same decision before each step: when one rank's Stop flag or time
    budget ends or finishes the run, every rank does (a rank that went on alone would wait
    forever in the next all-reduce). Comes last among the policies."""

    def __init__(self, group: Group):
        self.group = group

    def before_step(self, loop: Loop) -> None:
        flags = _on_wire([float(loop.end is not None), float(loop.finish)], self.group,
                         torch.float32)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        ended, finished = flags.tolist()
        if ended > 0 and loop.end is None:
            loop.end = Stopped(loop.step, loop.save())
        if finished > 0:
            loop.finish = True

