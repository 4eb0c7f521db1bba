"""A process killed while writing a checkpoint leaves the previous one loadable."""

import signal
import subprocess
import sys
import time

import torch

from gan_core.checkpoint import load_checkpoint, save_checkpoint

WRITER = """
import sys, torch
from gan_core.checkpoint import save_checkpoint
big = torch.randn(40_000_000)  # 160 MB: each write takes a while
print("ready", flush=True)
while True:
    save_checkpoint(sys.argv[1], {"step": 2, "weights": big})
"""


def test_kill_during_checkpoint_write_keeps_previous_checkpoint(tmp_path):
    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"step": 1, "weights": torch.ones(3)})
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "ready"
    time.sleep(0.3)  # mid-way through the first big write
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=10)
    loaded = load_checkpoint(path)
    assert loaded["step"] in (1, 2)  # the old file or a whole new one, never half
    if loaded["step"] == 1:
        assert torch.equal(loaded["weights"], torch.ones(3))
    else:
        assert loaded["weights"].numel() == 40_000_000
