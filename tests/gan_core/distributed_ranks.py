"""Runs for the torch.distributed tests: tiny settings, the data, and the body
each spawned rank runs (a function of this module, so ``spawn`` can import it).

Every run exists twice: one process with the whole batch, two ranks with half
each, from the same seed; the tests compare their checkpoints.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch

from gan_core.config import config_from_dict
from gan_core.data.types import ImageData

COMMON = dict(image_size=8, batch_size=8, z_dim=8, sample_every=3, checkpoint_every=3)
RUNS = {
    # Layer norm critic (BN-free), two critic steps with the gradient penalty.
    "wgan-gp": dict(
        COMMON, steps=6, g_channels=8, d_channels=8, n_critic=2, d_norm="layer"
    ),
    # Lazy R1 and path length both fall inside the run (steps 0, 2, 4).
    "stylegan2": dict(
        COMMON, steps=5, image_size=16, w_dim=8, mapping_layers=2, channel_base=64, channel_max=8,
        r1_interval=2, pl_interval=2, mbstd_group=2,
    ),
    # Batch norm in G and D: SyncBatchNorm across the ranks.
    "dcgan": dict(COMMON, steps=4, g_channels=8, d_channels=8),
}  # fmt: skip
STOP_AT = 3  # the interrupted wgan-gp run stops here (right after a checkpoint)


def tiny_data(size: int = 8) -> ImageData:
    """32 random RGB images of ``size`` px, the same in every process."""
    gen = torch.Generator().manual_seed(5)
    images = torch.rand(32, 3, size, size, generator=gen) * 2 - 1
    return ImageData(images, fingerprint=f"distributed-test-32-{size}")


def data_for(family: str) -> ImageData:
    return tiny_data(RUNS[family]["image_size"])


def config(family: str):
    return config_from_dict(family, RUNS[family])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StopAt:
    """should_stop: true from the ``at``-th step on (it is asked once per step)."""

    reason = "test"

    def __init__(self, at: int):
        self.at, self.calls = at, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls > self.at


def rank_main(rank: int, size: int, port: int, root: str, stage: str) -> None:
    """One rank: ``stage`` "runs" trains every family and the interrupted run;
    "resume" continues the interrupted run in fresh processes. One process
    group serves all of a stage's runs (each train() joins it)."""
    from gan_core import distributed

    os.environ.update(
        WORLD_SIZE=str(size), RANK=str(rank), LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    torch.set_num_threads(1)
    with distributed.session("cpu"):
        _stage(rank, Path(root), stage)


def _stage(rank: int, root_dir: Path, stage: str) -> None:
    from gan_core.trainer import train

    data = tiny_data()
    if stage == "runs":
        for family in RUNS:
            train(config(family), data=data_for(family), out_dir=root_dir / family,
                  device="cpu")  # fmt: skip
        # Only rank 0 is asked: the others must follow its broadcast decision.
        stop = StopAt(STOP_AT) if rank == 0 else (lambda: False)
        train(config("wgan-gp"), data=data, out_dir=root_dir / "stopped",
              device="cpu", should_stop=stop)  # fmt: skip
    else:
        train(config("wgan-gp"), data=data, out_dir=root_dir / "stopped",
              device="cpu", resume=True)  # fmt: skip


def spawn_ranks(size: int, root: Path, stage: str) -> None:
    """Run ``rank_main`` in ``size`` fresh processes (gloo on the CPU)."""
    torch.multiprocessing.start_processes(
        rank_main,
        args=(size, free_port(), str(root), stage),
        nprocs=size,
        start_method="spawn",
    )
