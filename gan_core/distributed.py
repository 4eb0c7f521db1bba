"""One training job on several processes: torch.distributed, launched by torchrun.

A run with WORLD_SIZE > 1 in its environment (torchrun sets WORLD_SIZE, RANK,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT) joins a process group: NCCL when each
rank trains on its own GPU (cuda:LOCAL_RANK), gloo on the CPU. Everything a
rank does differently from a single-process run goes through this module:

- Data and noise are split, not multiplied: every rank keeps the same global
  RNG and the same seeded permutation, draws the whole global batch's indices
  and noise, and keeps rows ``rank::world_size`` (strided, so StyleGAN2's
  strided minibatch-std groups are the same groups whatever the world size).
  A run's global batch is its configured ``batch_size``; results depend on the
  world size only through floating point.
- Gradients are averaged after the backward pass of every phase, by one
  all-reduce of the phase's gradients (``average_gradients``); statistics that
  feed back into training (w_avg, the path-length mean, ADA's sign sum) are
  all-reduced where they are measured.
- Batch norm uses statistics of the global batch: torch's SyncBatchNorm on
  GPUs; on the CPU, where torch's SyncBatchNorm refuses to run, ``CPUSyncBatchNorm``
  (the same arithmetic, with an autograd-aware all-reduce).
- Decisions that must be the same everywhere (stop, a diverged sample check)
  are rank 0's, broadcast.

Why not DistributedDataParallel: DDP all-reduces inside one backward pass per
forward, with fixed buckets over every parameter. A GAN step runs several
phases through shared networks (D on reals and fakes, then G through D with
D frozen), and the gradient penalty, R1 and path length differentiate through
``torch.autograd.grad(create_graph=True)``, which DDP does not support; the
trainable set changes between phases too. stylegan2-ada-pytorch for the same
reasons all-reduces each phase's gradients itself, and so do we.

Families with a history pool (CycleGAN) keep one pool per rank, so they are
valid distributed runs but not equal to a single-process run.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from gan_core.devices import DeviceError, resolve_device


@dataclass(frozen=True)
class World:
    """This process's place in the job: rank of size; local_rank picks its GPU."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0 writes events, samples and checkpoints and makes decisions."""
        return self.rank == 0


_world = World()
# Where small collectives (flags, sums) live: NCCL only moves GPU tensors.
_comm_device = torch.device("cpu")


def world() -> World:
    """The world this process trains in (size 1 outside a process group)."""
    return _world


def env_world() -> World:
    """The world torchrun describes in the environment (size 1 without it)."""

    def number(name: str, default: int) -> int:
        value = os.environ.get(name, "")
        if not value.strip():
            return default
        try:
            return int(value)
        except ValueError:
            raise DeviceError(f"{name}={value!r} is not a number") from None

    size = number("WORLD_SIZE", 1)
    rank = number("RANK", 0)
    if size < 1 or not 0 <= rank < size:
        raise DeviceError(f"RANK {rank} does not fit WORLD_SIZE {size}")
    return World(rank=rank, size=size, local_rank=number("LOCAL_RANK", rank))


def rank_device(name: str, w: World) -> torch.device:
    """The device of rank ``w``: its LOCAL_RANK GPU for cuda/auto, else the CPU."""
    name = (name or "auto").strip().lower()
    if w.size == 1:
        return resolve_device(name)
    if name.startswith("cuda:"):
        raise DeviceError(
            "under torchrun use --device cuda: each rank takes GPU LOCAL_RANK"
        )
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if w.local_rank >= count:
            raise DeviceError(
                f"rank {w.rank} wants cuda:{w.local_rank} but this machine has "
                f"{count} CUDA devices"
            )
        torch.cuda.set_device(w.local_rank)
        return torch.device("cuda", w.local_rank)
    if name in ("cpu", "auto"):
        return torch.device("cpu")
    raise DeviceError(f"device '{name}' cannot run a multi-process job (cuda or cpu)")


@contextlib.contextmanager
def session(device_name: str):
    """Join torchrun's process group for the block (when WORLD_SIZE > 1) and
    yield (world, device). Nested sessions share the outer one's group."""
    global _world, _comm_device
    w = env_world()
    device = rank_device(device_name, w)
    dist = torch.distributed
    owner = w.size > 1 and not dist.is_initialized()
    if owner:
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo",
            rank=w.rank,
            world_size=w.size,
            timeout=datetime.timedelta(minutes=30),
        )
    outer, _world = (_world, _comm_device), w
    _comm_device = device if device.type == "cuda" else torch.device("cpu")
    finished = False
    try:
        yield w, device
        finished = True
    finally:
        _world, _comm_device = outer
        if owner:
            if finished:
                # No rank leaves while another still finishes its last
                # collective: without this, a rank that left first now and then
                # aborted at exit ("terminate called without an active
                # exception"; 7 of 42 two-rank gloo runs on a 2-core Xeon, 0 of
                # 32 with it). Not after an error: the others may never come.
                dist.barrier()
            dist.destroy_process_group()


@contextlib.contextmanager
def main_first():
    """Rank 0 runs the block before the others (builds a shared cache once)."""
    if _world.size > 1 and not _world.main:
        barrier()
    yield
    if _world.size > 1 and _world.main:
        barrier()


def barrier() -> None:
    if _world.size > 1:
        torch.distributed.barrier()


# -- the rank's share of the global batch ------------------------------------


def shard(rows: torch.Tensor) -> torch.Tensor:
    """This rank's rows of a global batch: ``rows[rank::size]``."""
    if _world.size == 1:
        return rows
    return rows[_world.rank :: _world.size].contiguous()


def randn(n: int, *shape: int, device=None, dtype=None) -> torch.Tensor:
    """This rank's ``n`` rows of N(0, 1) noise drawn for the global batch."""
    full = torch.randn(n * _world.size, *shape, device=device, dtype=dtype)
    return shard(full)


def rand(n: int, *shape: int, device=None, dtype=None) -> torch.Tensor:
    """This rank's ``n`` rows of U[0, 1) noise drawn for the global batch."""
    full = torch.rand(n * _world.size, *shape, device=device, dtype=dtype)
    return shard(full)


def randint(low: int, high: int, n: int, *shape: int, device=None) -> torch.Tensor:
    """This rank's ``n`` rows of integers in [low, high) drawn for the global batch."""
    full = torch.randint(low, high, (n * _world.size, *shape), device=device)
    return shard(full)


def randn_like(x: torch.Tensor) -> torch.Tensor:
    """``torch.randn_like`` for a tensor whose first dimension is the batch."""
    return randn(x.shape[0], *x.shape[1:], device=x.device, dtype=x.dtype)


# -- reductions ----------------------------------------------------------------


@torch.no_grad()
def mean(t: torch.Tensor) -> torch.Tensor:
    """The mean of ``t`` over ranks (a statistic measured on equal shards)."""
    if _world.size == 1:
        return t
    out = t.clone()
    torch.distributed.all_reduce(out)
    return out.div_(_world.size)


@torch.no_grad()
def total(values: list[float]) -> list[float]:
    """Each number summed over ranks (counts and sums of a statistic)."""
    if _world.size == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=_comm_device)
    torch.distributed.all_reduce(t)
    return t.tolist()


@torch.no_grad()
def average_gradients(params: Iterable[nn.Parameter], loss: torch.Tensor) -> float:
    """Average the gradients of ``params`` over ranks in one all-reduce, with the
    phase's loss riding along; returns the loss averaged over ranks.

    Which parameters have a gradient is the same on every rank (same code path),
    so only those travel; one without stays without, as Adam expects."""
    if _world.size == 1:
        return loss.item()
    grads = [p.grad for p in params if p.grad is not None]
    flat = torch.cat([g.flatten().float() for g in grads] + [loss.float().view(1)])
    torch.distributed.all_reduce(flat)
    flat.div_(_world.size)
    at = 0
    for g in grads:
        g.copy_(flat[at : at + g.numel()].view_as(g))
        at += g.numel()
    return float(flat[-1])


def decide(flag: bool) -> bool:
    """Rank 0's ``flag`` on every rank."""
    if _world.size == 1:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int64, device=_comm_device)
    torch.distributed.broadcast(t, src=0)
    return bool(t.item())


def from_main(value):
    """Rank 0's ``value`` (any picklable object) on every rank."""
    if _world.size == 1:
        return value
    box = [value]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


@torch.no_grad()
def same_start(nets: Iterable[nn.Module]) -> None:
    """Rank 0's parameters and buffers on every rank (the seed already makes
    them equal; this guards against any nondeterministic initialization)."""
    if _world.size == 1:
        return
    for net in nets:
        for t in list(net.parameters()) + list(net.buffers()):
            torch.distributed.broadcast(t.data, src=0)


# -- batch norm over the global batch ------------------------------------------


class CPUSyncBatchNorm(_BatchNorm):
    """Batch norm with the global batch's mean and variance, for gloo on the CPU.

    torch's SyncBatchNorm only runs on GPUs. This computes per-channel sums of
    x and x^2 and the count, all-reduces them with torch's functional, autograd-
    aware all-reduce (``_functional_collectives``; its backward all-reduces
    the gradient, so every rank's inputs get the global batch's gradient), and
    normalizes with the biased variance; running statistics use the unbiased
    one, as nn.BatchNorm does. Outside training, or alone, it is nn.BatchNorm.
    """

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or _world.size == 1:
            return super().forward(x)
        from torch.distributed import _functional_collectives as funcol

        c = x.shape[1]
        dims = [d for d in range(x.dim()) if d != 1]
        xf = x.float()
        count = torch.full((1,), x.numel() / c, dtype=xf.dtype, device=x.device)
        local = torch.cat([xf.sum(dims), xf.square().sum(dims), count])
        stats = funcol.all_reduce(local, "sum", torch.distributed.group.WORLD)
        n = stats[-1]
        mu = stats[:c] / n
        var = (stats[c : 2 * c] / n - mu.square()).clamp_min(0)
        if self.track_running_stats:
            self._update_running(mu, var, n)
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (xf - mu.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)

    @torch.no_grad()
    def _update_running(self, mu, var, n) -> None:
        self.num_batches_tracked.add_(1)
        momentum = self.momentum
        if momentum is None:  # cumulative average
            momentum = 1.0 / float(self.num_batches_tracked)
        unbiased = var * (n / (n - 1).clamp_min(1))
        self.running_mean.lerp_(mu.detach().to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased.detach().to(self.running_var.dtype), momentum)


def sync_batch_norm(net: nn.Module, device: torch.device) -> nn.Module:
    """``net`` with every batch norm computing global-batch statistics (in
    place for children; the same parameter and buffer objects, so optimizers
    and state-dict keys stay as they were). Alone: ``net`` unchanged."""
    if _world.size == 1:
        return net
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(net)
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, _BatchNorm) and not isinstance(
                child, CPUSyncBatchNorm | nn.SyncBatchNorm
            ):
                setattr(parent, name, _cpu_sync(child))
    return net


def _cpu_sync(bn: _BatchNorm) -> CPUSyncBatchNorm:
    out = CPUSyncBatchNorm(
        bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats
    )
    if bn.affine:
        out.weight, out.bias = bn.weight, bn.bias
    if bn.track_running_stats:
        out.running_mean, out.running_var = bn.running_mean, bn.running_var
        out.num_batches_tracked = bn.num_batches_tracked
    out.train(bn.training)
    return out
