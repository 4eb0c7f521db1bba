"""``builtin:shapes-paired``: a paired set for pix2pix, drawn here.

A is a shape's outline (an inner stroke) in a colour on a dark ground; B is the
same shape (same kind, size, place, rotation and colour) filled in, on the
light ground that inverts A's (1 - ground, as a sketch becomes a print). Each
B follows from its A, so a translator can learn it exactly, and the identity
baseline (B ~ A) is far from it: the learning test measures L1 to B against
that baseline.
"""

from __future__ import annotations

import torch

from gan_core.data import builtin as shapes

SHAPES_PAIRED = 2000  # Pairs at the default size (fewer when large).


def _paint(p: dict, size: int, fg, bg, stroke: float) -> tuple[torch.Tensor, ...]:
    """(outline on bg, filled on 1 - bg) [N, 3, size, size] in [-1, 1], with
    one-pixel antialiased edges."""
    outs, fills = [], []
    for start in range(0, len(p["kinds"]), 256):
        sl = slice(start, start + 256)
        d = shapes.shape_sdf(
            p["kinds"][sl], p["r"][sl], p["cx"][sl], p["cy"][sl], p["angle"][sl], size
        )
        f, b = fg[sl, :, None, None], bg[sl, :, None, None]
        fill = (0.5 - d).clamp(0, 1)[:, None]
        # The stroke lies inside the shape: -stroke <= d <= 0.
        line = (0.5 - ((d + stroke / 2).abs() - stroke / 2)).clamp(0, 1)[:, None]
        line = torch.minimum(line, fill)
        outs.append(b + (f - b) * line)
        fills.append((1 - b) + (f - (1 - b)) * fill)
    return torch.cat(outs).mul_(2).sub_(1), torch.cat(fills).mul_(2).sub_(1)


def shapes_paired(size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, B): float32 [N, 3, size, size] in [-1, 1] each, pair i in row i."""
    gen = torch.Generator().manual_seed(seed)
    n = shapes._shape_count(SHAPES_PAIRED, size, 2)
    p = shapes._shape_params(gen, n, size)
    fg = shapes._colours(gen, n, sat=(0.6, 1.0), val=(0.75, 1.0))
    bg = shapes._colours(gen, n, sat=(0.0, 0.2), val=(0.0, 0.15))
    return _paint(p, size, fg, bg, stroke=max(1.0, size / 16))
