"""Freed training memory goes back to the system: glibc's mmap threshold fixed
(gan_core.heap), and each optimizer's gradients freed after its step."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_core.config import config_from_dict
from gan_core.devices import resolve_device
from gan_core.heap import ENV, threshold_from_env
from gan_core.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]

# Frees 2 MiB blocks after a 16 MiB one raised glibc's dynamic threshold, each
# pinned in the heap by a small block after it; prints the RSS still held.
HOLES = r"""
import ctypes, sys
sys.path.insert(0, sys.argv[1])
from gan_core.heap import map_large_allocations
print(map_large_allocations())
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
big = libc.malloc(16 << 20); ctypes.memset(big, 1, 16 << 20); libc.free(big)
before = rss()
blocks, pins = [], []
for _ in range(64):
    blocks.append(libc.malloc(2 << 20)); ctypes.memset(blocks[-1], 1, 2 << 20)
    pins.append(libc.malloc(256 << 10))  # between the blocks, untouched
for b in blocks:
    libc.free(b)
print(rss() - before)
"""


def _held_after_free(threshold: str) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    proc = subprocess.run(
        [sys.executable, "-c", HOLES, str(ROOT)],
        env={**env, ENV: threshold},
        capture_output=True,
        text=True,
        check=True,
    )
    applied, held = (int(x) for x in proc.stdout.split())
    return applied, held


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_a_fixed_threshold_returns_freed_blocks_that_glibc_would_keep():
    applied, held = _held_after_free(str(1 << 20))
    assert applied == 1 << 20 and held < 16 << 20  # 128 MiB freed, returned
    applied, held = _held_after_free("0")  # glibc's own dynamic threshold
    assert applied == 0 and held > 100 << 20  # the holes stay resident


def test_the_threshold_setting_is_checked(monkeypatch):
    monkeypatch.setenv(ENV, "lots")
    with pytest.raises(ValueError, match="whole number of bytes"):
        threshold_from_env()
    monkeypatch.setenv(ENV, "-1")
    with pytest.raises(ValueError, match="0 or more"):
        threshold_from_env()
    monkeypatch.setenv(ENV, "0")
    assert threshold_from_env() == 0


def test_no_gradients_outlive_their_optimizer_step(
    tmp_path, tiny_images, tiny_settings
):
    config = config_from_dict("dcgan", tiny_settings("dcgan"))
    trainer = Trainer(config, tiny_images, tmp_path, resolve_device("cpu"), None, None)
    G, D = trainer.recipe.nets["G"], trainer.recipe.nets["D"]
    seen = []

    def check_g(*_):  # D's step: G trained before it, its gradients are gone
        seen.append(all(p.grad is None for p in G.parameters()))

    trainer.recipe.optimizers["D"].register_step_post_hook(check_g)
    before = [p.detach().clone() for p in G.parameters()]
    trainer.train_step()
    trainer.train_step()
    assert seen == [True, True]
    assert all(p.grad is None for net in (G, D) for p in net.parameters())
    assert any(
        not torch.equal(a, p) for a, p in zip(before, G.parameters(), strict=True)
    )
