"""The 'bgc' augmentation pipeline of Karras et al. 2020 ("Training Generative
Adversarial Networks with Limited Data", section 2.3 and appendix B), the one
adaptive discriminator augmentation (gan_core.ada) drives.

Twelve operations, each applied to an image with probability ``p`` times its
multiplier (all 1 in 'bgc'), with the paper's strengths:

- pixel blitting: x-flip, rotation by a multiple of 90 degrees, integer
  translation (uniform, up to 0.125 of the side);
- general geometry: isotropic scaling (log2-normal, std 0.2), pre-rotation
  (uniform, up to a full turn), anisotropic scaling (log2 std 0.2),
  post-rotation, fractional translation (normal, std 0.125 of the side). The
  two rotations each fire with 1 - sqrt(1 - p), so that one or the other
  fires with probability p;
- colour: brightness (normal, std 0.2), contrast (log2 std 0.5), luma flip,
  hue rotation about the grey axis (up to a full turn), saturation (log2 std 1).

Blitting and geometry are composed into one inverse matrix per image and
applied once: reflection padding wide enough for the transformed corners, 2x
upsampling with the orthogonal 12-tap 'sym6' wavelet low-pass filter, bilinear
sampling, then 2x downsampling with the same filter, as the paper's
stylegan2-ada-pytorch does (so blits land exactly on pixels and reflections
are exact). The colour operations are composed into one 4x4 matrix on (R, G, B,
1). Everything is differentiable with respect to the images, twice on every
device (gan_core.grid_sample), so the pipeline can sit in G's pass and under
R1.

Left out: the paper's image-space filtering and corruptions (noise, cutout),
which are not part of 'bgc'. Single-channel images get the colour matrix
averaged over R, G, B (hue and saturation do not apply), as in the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from gan_core import distributed
from gan_core.grid_sample import grid_sample_bilinear

# Daubechies' symlet 6 low-pass filter (orthogonal: resampling up then down is
# the identity), normalized to unit sum as a 1D FIR filter.
SYM6 = (
    0.015404109327027373, 0.0034907120842174702, -0.11799011114819057,
    -0.048311742585633, 0.4910559419267466, 0.787641141030194,
    0.3379294217276218, -0.07263752278646252, -0.021060292512300564,
    0.04472490177066578, 0.0017677118642428036, -0.007800708325034148,
)  # fmt: skip

GEOMETRIC = ("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac")
COLOUR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
OPERATIONS = GEOMETRIC + COLOUR
BGC = dict.fromkeys(OPERATIONS, 1.0)  # every operation at multiplier 1


@dataclass(frozen=True)
class Strengths:
    """How strong each operation is when it fires (the paper's values)."""

    xint_max: float = 0.125  # Integer translation: uniform, share of the side.
    scale_std: float = 0.2  # Isotropic scaling: std of log2(scale).
    rotate_max: float = 1.0  # Rotation: uniform, 1 = full circle.
    aniso_std: float = 0.2  # Anisotropic scaling: std of log2(scale).
    xfrac_std: float = 0.125  # Fractional translation: std, share of the side.
    brightness_std: float = 0.2  # Brightness: std of the added offset.
    contrast_std: float = 0.5  # Contrast: std of log2(factor).
    hue_max: float = 1.0  # Hue rotation: uniform, 1 = full circle.
    saturation_std: float = 1.0  # Saturation: std of log2(factor).


# -- matrices, batched: every helper returns [N, 3, 3] -----------------------


def _affine(a, b, c, d, e, f) -> torch.Tensor:
    """[[a, b, c], [d, e, f], [0, 0, 1]] per image; entries are [N] tensors."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    rows = [a, b, c, d, e, f, zero, zero, one]
    return torch.stack(rows, -1).view(-1, 3, 3)


def _translate(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    one, zero = torch.ones_like(tx), torch.zeros_like(tx)
    return _affine(one, zero, tx, zero, one, ty)


def _scale(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    zero = torch.zeros_like(sx)
    return _affine(sx, zero, zero, zero, sy, zero)


def _rotate(theta: torch.Tensor) -> torch.Tensor:
    c, s, zero = theta.cos(), theta.sin(), torch.zeros_like(theta)
    return _affine(c, -s, zero, s, c, zero)


def _constant(n: int, value: float, device) -> torch.Tensor:
    return torch.full((n,), float(value), device=device)


# -- resampling --------------------------------------------------------------


def _upfirdn(x, taps, up=1, down=1, pad=(0, 0), gain=1.0, convolve=True):
    """Upsample (zeros), pad (negative: crop), filter with ``taps`` along both
    axes, downsample: the separable FIR resampler of the reference, in torch."""
    n, c, h, w = x.shape
    if up > 1:
        x = F.pad(x.reshape(n, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    p0, p1 = pad
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    x = x[:, :, max(-p0, 0) : x.shape[2] - max(-p1, 0)]
    x = x[:, :, :, max(-p0, 0) : x.shape[3] - max(-p1, 0)]
    k = (taps * gain**0.5).to(x.dtype)
    k = k.flip(0) if convolve else k  # conv2d correlates; a convolution flips
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return x[:, :, ::down, ::down]


def _changed(matrices: torch.Tensor) -> torch.Tensor:
    """Indices of the [N, k, k] matrices that are not the identity."""
    eye = torch.eye(matrices.shape[-1], device=matrices.device)
    return (matrices != eye).flatten(1).any(1).nonzero().flatten()


def _recolour(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Images [N, C, H, W] through colour matrices [N, 4, 4] on (R, G, B, 1)."""
    n, c, h, w = x.shape
    flat = x.reshape(n, c, h * w)
    if c == 3:
        flat = m[:, :3, :3] @ flat + m[:, :3, 3:]
    else:  # grey: the mean over R, G, B of the colour map
        row = m[:, :3, :].mean(dim=1, keepdim=True)
        flat = flat * row[:, :, :3].sum(2, keepdim=True) + row[:, :, 3:]
    return flat.reshape(n, c, h, w)


class AugmentPipe:
    """Draws and applies the 'bgc' operations; ``pipe(images, p)``.

    multipliers: operation name -> probability multiplier (default: all 1).
    strengths: how far each operation goes (default: the paper's).
    """

    def __init__(
        self,
        multipliers: dict[str, float] | None = None,
        strengths: Strengths = Strengths(),
    ):
        multipliers = BGC if multipliers is None else multipliers
        unknown = set(multipliers) - set(OPERATIONS)
        if unknown:
            raise ValueError(f"unknown augmentation '{sorted(unknown)[0]}'")
        self.multipliers = {op: float(multipliers.get(op, 0.0)) for op in OPERATIONS}
        self.strengths = strengths
        taps = torch.tensor(SYM6, dtype=torch.float64)
        self.taps = (taps / taps.sum()).float()

    # -- drawing ---------------------------------------------------------------

    def draw(self, n: int, p: float, device) -> dict[str, torch.Tensor]:
        """Per-image parameters: ``<op>_on`` [N] bool (did it fire) and the
        drawn value (identity where it did not). Rotation has ``rotate_on``
        for pre- and ``rotate2_on`` for post-rotation."""
        s, m = self.strengths, self.multipliers
        out: dict[str, torch.Tensor] = {}

        def fire(op: str, prob: float | None = None) -> torch.Tensor:
            prob = m[op] * p if prob is None else prob
            return distributed.rand(n, device=device) < prob

        def pick(name, op, value, identity, prob=None):
            on = fire(op, prob)
            out[f"{name}_on"] = on
            out[name] = torch.where(on, value, torch.full_like(value, identity))

        rand = lambda: distributed.rand(n, device=device)  # noqa: E731
        randn = lambda: distributed.randn(n, device=device)  # noqa: E731
        pick("xflip", "xflip", torch.floor(rand() * 2), 0.0)
        pick("rotate90", "rotate90", torch.floor(rand() * 4), 0.0)
        pick("xint_x", "xint", (rand() * 2 - 1) * s.xint_max, 0.0)
        out["xint_y"] = torch.where(
            out["xint_x_on"],
            (rand() * 2 - 1) * s.xint_max,
            torch.zeros(n, device=device),
        )
        pick("scale", "scale", torch.exp2(randn() * s.scale_std), 1.0)
        # P(pre or post) = p: each of the two fires with 1 - sqrt(1 - p).
        p_rot = 1 - math.sqrt(min(max(1 - m["rotate"] * p, 0.0), 1.0))
        turn = math.pi * s.rotate_max
        pick("rotate", "rotate", (rand() * 2 - 1) * turn, 0.0, p_rot)
        pick("aniso", "aniso", torch.exp2(randn() * s.aniso_std), 1.0)
        pick("rotate2", "rotate", (rand() * 2 - 1) * turn, 0.0, p_rot)
        pick("xfrac_x", "xfrac", randn() * s.xfrac_std, 0.0)
        out["xfrac_y"] = torch.where(
            out["xfrac_x_on"], randn() * s.xfrac_std, torch.zeros(n, device=device)
        )
        pick("brightness", "brightness", randn() * s.brightness_std, 0.0)
        pick("contrast", "contrast", torch.exp2(randn() * s.contrast_std), 1.0)
        pick("lumaflip", "lumaflip", torch.floor(rand() * 2), 0.0)
        pick("hue", "hue", (rand() * 2 - 1) * math.pi * s.hue_max, 0.0)
        pick("saturation", "saturation", torch.exp2(randn() * s.saturation_std), 1.0)
        return out

    # -- composing ---------------------------------------------------------------

    @staticmethod
    def geometric_matrix(d: dict, height: int, width: int) -> torch.Tensor:
        """[N, 3, 3] map from output pixel (centred coordinates) to input pixel."""
        n = d["xflip"].shape[0]
        one = torch.ones(n, device=d["xflip"].device)
        g = _scale(1 - 2 * d["xflip"], one)
        g = g @ _rotate(math.pi / 2 * d["rotate90"])
        g = g @ _translate(
            -torch.round(d["xint_x"] * width), -torch.round(d["xint_y"] * height)
        )
        g = g @ _scale(1 / d["scale"], 1 / d["scale"])
        g = g @ _rotate(d["rotate"])
        g = g @ _scale(1 / d["aniso"], d["aniso"])
        g = g @ _rotate(d["rotate2"])
        return g @ _translate(-d["xfrac_x"] * width, -d["xfrac_y"] * height)

    @staticmethod
    def colour_matrix(d: dict, channels: int) -> torch.Tensor:
        """[N, 4, 4] map of (R, G, B, 1) to the augmented colour."""
        b = d["brightness"]
        n, device = b.shape[0], b.device
        eye = torch.eye(4, device=device).expand(n, 4, 4)
        v = torch.tensor([1.0, 1.0, 1.0, 0.0], device=device) / math.sqrt(3)
        vv = torch.outer(v, v)  # projection onto the grey (luma) axis
        shift = eye.clone()
        shift[:, :3, 3] = b[:, None]
        c = d["contrast"]
        contrast = torch.diag_embed(torch.stack([c, c, c, torch.ones_like(c)], 1))
        lumaflip = eye - 2 * vv * d["lumaflip"][:, None, None]  # Householder
        m = lumaflip @ contrast @ shift
        if channels > 1:
            theta = d["hue"][:, None, None]
            cross = torch.zeros(4, 4, device=device)  # [v]x, the cross product
            cross[0, 1], cross[0, 2], cross[1, 2] = -v[2], v[1], -v[0]
            cross = cross - cross.T
            hue = (
                vv + (eye - vv) * theta.cos() + cross * theta.sin()
            )  # Rodrigues' rotation about v
            hue[:, 3, 3] = 1
            s = d["saturation"][:, None, None]
            m = (vv + (eye - vv) * s) @ hue @ m
            m[:, 3, 3] = 1
        return m

    # -- applying ---------------------------------------------------------------

    def __call__(self, images: torch.Tensor, p: float) -> torch.Tensor:
        """``images`` [N, C, H, W] (C 1 or 3) augmented with probability ``p``."""
        if p <= 0:
            return images
        return self.apply(images, self.draw(images.shape[0], p, images.device))

    def apply(self, images: torch.Tensor, d: dict) -> torch.Tensor:
        """``images`` [N, C, H, W] through the operations of parameters ``d``
        (from ``draw``). Each pass touches only the images that drew something
        other than the identity; the rest come back exactly as they were."""
        n, c, h, w = images.shape
        if c not in (1, 3):
            raise ValueError(f"augmentation needs 1 or 3 channels (got {c})")
        # In float32 whatever the autocast around it: the filters and the
        # matrices are cheap next to D, and exact blits need the precision.
        with torch.autocast(images.device.type, enabled=False):
            x = images.float()
            g = self.geometric_matrix(d, h, w)
            moved = _changed(g)
            if len(moved):  # resample only the images whose geometry changed
                x = x.index_copy(0, moved, self._warp(x[moved], g[moved]))
            m = self.colour_matrix(d, c)
            tinted = _changed(m)
            if len(tinted):
                x = x.index_copy(0, tinted, _recolour(x[tinted], m[tinted]))
        return x.to(images.dtype)

    def _warp(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Resample ``x`` through the inverse matrices ``g`` (centred pixels)."""
        n, c, h, w = x.shape
        device = x.device
        taps = self.taps.to(device)
        border = len(SYM6) // 4  # the filter's reach, in output pixels
        cx, cy = (w - 1) / 2, (h - 1) / 2
        corners = torch.tensor(
            [[-cx, cx, cx, -cx], [-cy, -cy, cy, cy], [1.0, 1.0, 1.0, 1.0]],
            device=device,
        )
        reach = (g @ corners)[:, :2, :].permute(1, 0, 2).flatten(1)  # [xy, N * 4]
        margin = torch.cat([-reach, reach]).amax(dim=1).cpu()  # x0, y0, x1, y1
        margin = margin + torch.tensor([border * 2 - cx, border * 2 - cy] * 2)
        limit = torch.tensor([w - 1.0, h - 1.0] * 2)
        margin = torch.minimum(margin.clamp(min=0), limit).ceil()
        mx0, my0, mx1, my1 = (int(v) for v in margin.tolist())
        x = F.pad(x, [mx0, mx1, my0, my1], mode="reflect")
        one = torch.ones(n, device=device)

        def const(v):
            return one * v

        # Padding moved the centre; then 2x upsampling (centre of pixel k at
        # 2k + 0.5 in the finer grid).
        g = _translate(const((mx0 - mx1) / 2), const((my0 - my1) / 2)) @ g
        x = _upfirdn(x, taps, up=2, pad=(6, 5), gain=4.0)
        g = _scale(const(2), const(2)) @ g @ _scale(const(0.5), const(0.5))
        g = (
            _translate(const(-0.5), const(-0.5))
            @ g
            @ _translate(const(0.5), const(0.5))
        )
        out_h, out_w = (h + border * 2) * 2, (w + border * 2) * 2
        # To affine_grid's [-1, 1] coordinates on both sides.
        g = (
            _scale(const(2 / x.shape[3]), const(2 / x.shape[2]))
            @ g
            @ _scale(const(out_w / 2), const(out_h / 2))
        )
        grid = F.affine_grid(g[:, :2, :], [n, c, out_h, out_w], align_corners=False)
        x = grid_sample_bilinear(x, grid)  # R1 differentiates it twice
        # Downsample with the same filter, cropping the border added above.
        crop = -border * 2 + 5
        return _upfirdn(x, taps, down=2, pad=(crop, crop), convolve=False)
