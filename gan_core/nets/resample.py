"""FIR resampling (upfirdn2d) in plain PyTorch, as StyleGAN2 defines it.

Karras et al. 2020 (StyleGAN2, appendix B) resample with the separable
[1, 3, 3, 1] binomial filter (Zhang 2019, "Making Convolutional Networks
Shift-Invariant Again"): upsampling inserts zeros and low-passes with it (gain
4 keeps the mean), downsampling low-passes and keeps every second pixel. Here
that is one function, ``upfirdn2d``: upsample by zero insertion, pad (or crop,
for negative padding), convolve with the filter, downsample, with the paddings
stylegan2-ada-pytorch's ``upsample2d``/``downsample2d`` use, so every output
pixel sits where the reference puts it. Depthwise convolutions only
(gan_core.nets.depthwise_fir, which spares the double backward of R1 and path
length ATen's per-channel loop): no custom CUDA kernel to build, so it runs
wherever PyTorch does.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from gan_core.nets.depthwise_fir import depthwise_conv2d, depthwise_conv_transpose2d

BINOMIAL_TAPS = (1.0, 3.0, 3.0, 1.0)


def make_filter(taps=BINOMIAL_TAPS) -> torch.Tensor:
    """The 1-D filter ``taps`` normalized once to sum 1 (float32, [K]).

    Applied along both axes it is the outer product taps^T taps / sum^2.
    """
    f = torch.as_tensor(taps, dtype=torch.float32)
    if f.ndim != 1 or f.numel() < 1:
        raise ValueError("filter taps must be a non-empty 1-D sequence")
    return f / f.sum()


def _fir(
    x: torch.Tensor, f: torch.Tensor, gain: float, down: int, pad: int = 0
) -> torch.Tensor:
    """Convolve each channel with the separable filter f (true convolution).

    One depthwise conv with the K x K outer product rather than two 1-D passes:
    twice the multiply-adds, but on the CPU (oneDNN) one 4x4 depthwise pass
    and its backward take about 0.6x the time of the two 1-D ones.
    """
    c = x.shape[1]
    taps = (f * gain**0.5).flip(0).to(x.dtype)  # half the gain on each axis
    k = taps.numel()
    w2d = (taps[:, None] * taps[None, :]).view(1, 1, k, k).expand(c, 1, k, k)
    return depthwise_conv2d(x, w2d, stride=down, padding=pad)


def upfirdn2d(
    x: torch.Tensor,  # [N, C, H, W]
    f: torch.Tensor,  # [K] separable filter (make_filter).
    up: int = 1,  # Zero-insertion upsampling factor.
    down: int = 1,  # Decimation factor after filtering.
    padding: tuple[int, int, int, int] = (0, 0, 0, 0),  # x0, x1, y0, y1.
    gain: float = 1.0,  # Overall gain of the 2-D filter.
) -> torch.Tensor:
    """Upsample, pad, FIR-filter and downsample ``x``; negative padding crops.

    Output side: (H * up + y0 + y1 - K) // down + 1 (likewise for W).
    """
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x0, x1, y0, y1 = padding
    if x0 == x1 == y0 == y1 >= 0:
        # Even zero padding: the convolution pads, sparing a padded copy.
        return _fir(x, f, gain, down, x0)
    x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    hh, ww = x.shape[2], x.shape[3]
    x = x[:, :, max(-y0, 0) : hh - max(-y1, 0), max(-x0, 0) : ww - max(-x1, 0)]
    return _fir(x, f, gain, down)


def upsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x upsampling with the FIR filter (the reference's upsample2d, gain 4).

    For an even filter, zero insertion, the (k+1)//2, (k-2)//2 padding and the
    true convolution are one depthwise transposed convolution (stride 2,
    padding k/2 - 1): output pixel o sums x[i] f[2i + k/2 - o], the same taps,
    without the zero-inserted copy and its 4x multiply-adds. On the CPU the
    3-channel skip image was the slowest depthwise convolution of a 64 px
    StyleGAN2 step (bench/RESULTS.md, bench_stylegan2_reference).
    """
    k = f.numel()
    if k % 2 == 0:
        c = x.shape[1]
        taps = (f * 2.0).to(x.dtype)  # gain 4 over the two axes
        w2d = (taps[:, None] * taps[None, :]).view(1, 1, k, k).expand(c, 1, k, k)
        return depthwise_conv_transpose2d(x, w2d, stride=2, padding=k // 2 - 1)
    p0, p1 = (k + 1) // 2, (k - 2) // 2
    return upfirdn2d(x, f, up=2, padding=(p0, p1, p0, p1), gain=4.0)


def downsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x downsampling with the FIR filter (the reference's downsample2d)."""
    k = f.numel()
    p0, p1 = (k - 1) // 2, (k - 2) // 2
    return upfirdn2d(x, f, down=2, padding=(p0, p1, p0, p1))
