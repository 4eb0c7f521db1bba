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

COMMON = dict(
    image_size=16, batch_size=8, z_dim=8, sample_every=10**6, checkpoint_every=3
)
RUNS = {
    # Layer norm critic (BN-free), two critic steps with the gradient penalty.
    "wgan-gp": dict(
        COMMON, steps=6, g_channels=8, d_channels=8, n_critic=2, d_norm="layer"
    ),
    # Lazy R1 and path length both fall inside the run (steps 0, 2, 4).
    "stylegan2": dict(
        COMMON, steps=5, w_dim=8, mapping_layers=2, channel_base=64, channel_max=8,
        r1_interval=2, pl_interval=2, mbstd_group=2,
    ),
    # Batch norm in G and D: SyncBatchNorm across the ranks.
    "dcgan": dict(COMMON, steps=4, g_channels=8, d_channels=8),
}  # fmt: skip
STOP_AT = 3  # the interrupted wgan-gp run stops here (right after a checkpoint)


def write_images(folder: Path, n: int = 32, size: int = 16) -> Path:
    """``n`` random RGB PNGs of ``size`` px: a folder, so the command line and
    every rank read the same training cache (rank 0 builds it)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(5)
    pixels = torch.randint(0, 256, (n, size, size, 3), generator=gen, dtype=torch.uint8)
    for i, img in enumerate(pixels):
        Image.fromarray(img.numpy()).save(folder / f"{i:03d}.png")
    return folder


def cli_flags(family: str) -> list[str]:
    """The command line's flags for RUNS[family]."""
    return [f for k, v in RUNS[family].items() for f in (f"--{k}", str(v))]


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


def rank_main(rank: int, size: int, port: int, root: str) -> None:
    """One rank, in the environment torchrun gives its workers: trains every
    family of RUNS, then the interrupted wgan-gp run, then resumes it through
    the command line. One process group serves all runs (each joins it)."""
    from gan_core import distributed

    os.environ.update(
        WORLD_SIZE=str(size), RANK=str(rank), LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    torch.set_num_threads(1)
    with distributed.session("cpu"):
        _runs(rank, Path(root))


def _runs(rank: int, root: Path) -> None:
    import random
    import shutil

    from gan_core import distributed
    from gan_core.cli import main
    from gan_core.trainer import train

    data = root / "images"
    for family in RUNS:
        train(config(family), data=data, out_dir=root / "two" / family, device="cpu")
    # Only rank 0 is asked: the others must follow its broadcast decision.
    stop = StopAt(STOP_AT) if rank == 0 else (lambda: False)
    train(config("wgan-gp"), data=data, out_dir=root / "stopped", device="cpu",
          should_stop=stop)  # fmt: skip
    if rank == 0:
        shutil.copytree(root / "stopped", root / "stopped_copy")
    distributed.barrier()
    # Whatever this process's RNGs hold now, the resume must restore them.
    torch.manual_seed(1000 + rank)
    random.seed(1000 + rank)
    argv = ["train", "--model", "wgan-gp", "--data", str(data), "--device", "cpu",
            "--out", str(root / "stopped"), "--resume", "--quiet",
            *cli_flags("wgan-gp")]  # fmt: skip
    code = main(argv)
    if code != 0:
        raise SystemExit(f"rank {rank}: gan_core train --resume exited {code}")


def spawn_ranks(size: int, root: Path):
    """Start ``rank_main`` in ``size`` fresh processes (gloo on the CPU); the
    caller waits with ``join_ranks`` (and may work meanwhile)."""
    return torch.multiprocessing.start_processes(
        rank_main,
        args=(size, free_port(), str(root)),
        nprocs=size,
        start_method="spawn",
        join=False,
    )


def join_ranks(context) -> None:
    """Wait for every rank; a rank's exception is raised here."""
    while not context.join():
        pass
