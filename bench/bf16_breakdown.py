"""Where bf16 gains and where it does not, on DCGAN-64: bench_trainer's why.

Two views: torch.profiler over real trainer steps, split into convolution
forward, convolution backward and the rest; and each convolution layer of the
networks timed alone (forward and backward, channels_last) in fp32 and bf16.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from gan_core.config import config_from_dict
from gan_core.nets.classic import DCDiscriminator, DCGenerator
from gan_core.trainer import Trainer

CONV_FORWARD = ("aten::mkldnn_convolution", "aten::_convolution", "aten::convolution")
CONV_BACKWARD = ("aten::convolution_backward",)
PARTS = ("convolution forward", "convolution backward", "everything else")


def _part(op: str) -> str:
    if op in CONV_FORWARD:
        return PARTS[0]
    if op in CONV_BACKWARD:
        return PARTS[1]
    return PARTS[2]


def step_parts(data, settings: dict, steps: int = 3) -> dict[str, float]:
    """Milliseconds per trainer step in each of PARTS (profiler self time)."""
    config = config_from_dict("dcgan", settings)
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(config, data, Path(out), torch.device("cpu"), None, None)
        for _ in range(3):  # warm-up: oneDNN builds its kernels
            trainer.train_step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                trainer.train_step()
    parts = dict.fromkeys(PARTS, 0.0)
    for event in prof.key_averages():
        parts[_part(event.key)] += event.self_cpu_time_total / 1000 / steps
    return parts


def _conv_layers(size: int) -> list[tuple[str, nn.Module, tuple[int, ...]]]:
    """(name, layer, input shape at batch 64) of every DCGAN conv layer."""
    layers = []
    G, D = DCGenerator(100, size, 3), DCDiscriminator(size, 3)
    side = 1
    for m in G.modules():
        if isinstance(m, nn.ConvTranspose2d):
            layers.append((f"G {m.in_channels}->{m.out_channels} @{side}", m, side))
            side = side * 2 if m.stride[0] == 2 else 4
    side = size
    for m in D.modules():
        if isinstance(m, nn.Conv2d):
            layers.append((f"D {m.in_channels}->{m.out_channels} @{side}", m, side))
            side //= 2
    return [(n, m, (64, m.in_channels, s, s)) for n, m, s in layers]


def _layer_ms(layer: nn.Module, shape, bf16: bool, repeats: int = 6) -> float:
    layer = layer.to(memory_format=torch.channels_last)
    x = torch.randn(shape).contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    best = float("inf")
    for i in range(repeats):
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            y = layer(x)
        y.float().sum().backward()
        if i >= 2:
            best = min(best, time.perf_counter() - t)
    return 1000 * best


def layer_times(size: int = 64) -> list[tuple[str, float, float]]:
    """(layer, fp32 ms, bf16 ms) for forward + backward of each conv layer."""
    torch.manual_seed(0)
    return [
        (name, _layer_ms(m, shape, False), _layer_ms(m, shape, True))
        for name, m, shape in _conv_layers(size)
    ]


def markdown(fp32: dict, bf16: dict, layers: list) -> list[str]:
    lines = [
        "Where the time goes (torch.profiler self time per trainer step, ms):",
        "",
        "| part of a step | fp32 | bf16 | bf16 speed-up |",
        "|---|---|---|---|",
    ]
    for part in (*PARTS, "whole step"):
        a = sum(fp32.values()) if part == "whole step" else fp32[part]
        b = sum(bf16.values()) if part == "whole step" else bf16[part]
        lines.append(f"| {part} | {a:.0f} | {b:.0f} | {a / b:.2f}x |")
    lines += [
        "",
        "Each convolution layer alone, forward and backward at batch 64, "
        "channels_last (fastest of 4, ms):",
        "",
        "| layer | fp32 | bf16 | bf16 speed-up |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {a:.1f} | {b:.1f} | {a / b:.2f}x |" for n, a, b in layers]
    return lines
