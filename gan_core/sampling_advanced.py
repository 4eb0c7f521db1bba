"""The playground's sampling calls beyond a plain grid, on a ``GeneratorHandle``.

Truncation (in W towards the tracked mean w for StyleGAN2, in Z otherwise),
latent interpolation (linear in W, spherical in Z) with GIF/WebP output, the
style-mixing grid of StyleGAN (Karras 2019, figure 3), one row per class for
conditional models, and CycleGAN translation of an image of any size.
``gan_core.sampling.GeneratorHandle`` exposes each as a method; the functions
here take the handle first. A call the checkpoint's family cannot do raises
``UnsupportedSampling`` with one line saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch.nn import functional as F

from gan_core.animation import save_animation, slerp_path
from gan_core.nets.cyclegan import CycleGenerators
from gan_core.nets.pix2pix import PairedTranslator
from gan_core.nets.stylegan2 import StyleGenerator, mix_styles, style_layer_ranges

DIRECTIONS = ("AtoB", "BtoA")
LAYER_GROUPS = ("coarse", "middle", "fine")


class UnsupportedSampling(ValueError):
    """The checkpoint's family cannot do the requested call."""


def is_style(handle) -> bool:
    """Whether the handle's generator has a mapping network (W space)."""
    return isinstance(handle.net, StyleGenerator)


def is_translator(handle) -> bool:
    """Whether the handle's generator translates images (CycleGAN, pix2pix)."""
    return isinstance(handle.net, CycleGenerators | PairedTranslator)


def translation_directions(handle) -> tuple[str, ...]:
    """The directions a translator goes: both for CycleGAN, ("AtoB",) for a
    paired model (pix2pix learns one); () for other generators."""
    if not is_translator(handle):
        return ()
    return tuple(getattr(handle.net, "directions", DIRECTIONS))


def latent_spaces(handle) -> tuple[str, ...]:
    """The latent spaces a generator has: ("z", "w"), ("z",) or ()."""
    if is_translator(handle):
        return ()
    return ("z", "w") if is_style(handle) else ("z",)


def supported_calls(handle) -> tuple[str, ...]:
    """Which of sample, interpolate, style_mix, class_grid and translate work."""
    if is_translator(handle):
        return ("translate",)
    calls = ["sample"]
    if handle.kind != "points":
        calls.append("interpolate")
        if is_style(handle):
            calls.append("style_mix")
        if handle.conditional:
            calls.append("class_grid")
    return tuple(calls)


def _needs_latent(handle, what: str) -> None:
    if is_translator(handle):
        raise UnsupportedSampling(
            f"{handle.family} translates images and has no latent space: "
            f"{what} is not available (use translate)"
        )
    if handle.kind == "points":
        raise UnsupportedSampling(f"{handle.family} draws points: {what} needs images")


def to_pil(image: torch.Tensor) -> Image.Image:
    """One image [C, H, W] in [-1, 1] as a PIL image (L or RGB)."""
    from gan_core.sampling import to_uint8

    arr = to_uint8(image.unsqueeze(0))[0]
    return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)


@torch.no_grad()
def generate_truncated(
    handle,
    z: torch.Tensor,  # [N, z_dim] on the handle's device.
    labels: torch.Tensor | None,  # [N] or None.
    truncation_psi: float = 1.0,  # 1 = none, 0 = the centre.
) -> torch.Tensor:
    """Images from z with truncation, on the handle's device.

    StyleGAN2 truncates in W towards the tracked mean w (Karras 2019, section
    3.3), with constant noise so a seed always gives the same image; a
    generator with its own ``truncate`` (the self-conditioned one keeps the
    entry that picks the cluster) says how; other families scale z towards its
    mean, 0.
    """
    if is_style(handle):
        return handle.net(z, labels, truncation_psi=truncation_psi, noise_mode="const")
    truncate = getattr(handle.net, "truncate", None)
    z = truncate(z, truncation_psi) if truncate else z * float(truncation_psi)
    return handle.generate(handle.net, z, labels)


def _one_label(handle, label) -> torch.Tensor | None:
    """Labels for a single-class call: the given class, or class 0."""
    if not handle.conditional:
        if label is not None:
            raise UnsupportedSampling(f"{handle.family} is not conditional: no label")
        return None
    return torch.tensor([handle.label_index(0 if label is None else label)])


def _ws(handle, seeds: Sequence[int], labels, psi: float) -> torch.Tensor:
    """Styles [len(seeds), num_ws, w_dim] of a StyleGAN2 for the given seeds."""
    z = torch.cat([handle.latents(1, int(s)) for s in seeds])
    if labels is not None:
        labels = labels.expand(len(seeds)).to(handle.device)
    return handle.net.mapping(z, labels, truncation_psi=psi)


@torch.no_grad()
def interpolate(
    handle,
    seed_a: int,
    seed_b: int,
    steps: int = 16,
    space: str = "auto",  # "w" (linear), "z" (spherical) or auto: W when it exists.
    truncation_psi: float = 1.0,
    label=None,  # Class for conditional models (default: the first).
    path: str | Path | None = None,  # .gif or .webp: also write an animation.
    fps: float = 12.0,
    start: tuple[str, torch.Tensor] | None = None,  # (space, latent) for seed_a
) -> list[Image.Image]:
    """Frames walking from seed_a's image to seed_b's, both ends included.

    Linear in W for StyleGAN2 (its W is not Gaussian), spherical in Z otherwise
    (a Gaussian's mass lies near a sphere). ``start`` replaces seed_a by a
    latent found by projection (gan_core.projection), in its own space.
    Returns the frames as PIL images.
    """
    _needs_latent(handle, "interpolate")
    if steps < 2:
        raise ValueError("interpolate needs at least 2 steps")
    if start is not None:
        space = start[0]
    space = ("w" if is_style(handle) else "z") if space == "auto" else space
    if space not in ("w", "z"):
        raise ValueError(f"space must be w, z or auto (got {space!r})")
    labels = _one_label(handle, label)
    if space == "w":
        if not is_style(handle):
            raise UnsupportedSampling(f"{handle.family} has no W space: use space z")
        ws = _ws(handle, [seed_a, seed_b], labels, truncation_psi)
        if start is not None:  # one w for every layer, as projection finds it
            ws = ws.clone()
            ws[0] = start[1].to(ws.device).reshape(1, -1).expand(ws.shape[1], -1)
        t = torch.linspace(0, 1, steps, device=ws.device).view(-1, 1, 1)
        path_ws = torch.lerp(ws[:1], ws[1:], t)  # [steps, num_ws, w_dim]
        images = handle.net.synthesis(path_ws, noise_mode="const")
    else:
        za, zb = handle.latents(1, seed_a)[0], handle.latents(1, seed_b)[0]
        if start is not None:
            za = start[1].to(zb.device).reshape(-1)
        zs = slerp_path(za, zb, steps)
        if labels is not None:
            labels = labels.expand(steps).to(handle.device)
        images = generate_truncated(handle, zs, labels, truncation_psi)
    frames = [to_pil(img) for img in images.float().cpu()]
    if path is not None:
        save_animation(frames, path, fps=fps)
    return frames


def resolve_layers(handle, layers) -> list[int]:
    """w indices from "coarse", "middle", "fine", "all" or an explicit list."""
    n = handle.net.num_ws
    if isinstance(layers, str):
        if layers == "all":
            return list(range(n))
        groups = style_layer_ranges(handle.image_size)
        if layers not in groups:
            raise ValueError(
                f"layers must be coarse, middle, fine, all or a list of 0..{n - 1}"
            )
        return groups[layers]
    chosen = sorted({int(i) for i in layers})
    if any(not 0 <= i < n for i in chosen):
        raise ValueError(f"layer indices must be in 0..{n - 1} (got {list(layers)})")
    return chosen


@dataclass
class MixGrid:
    """The style-mixing grid: row sources, column sources and their mixes.

    rows: [R, C, H, W]; cols: [K, C, H, W]; cells: [R, K, C, H, W], cell (i, j)
    has row i's styles except ``layers``, which come from column j.
    """

    rows: torch.Tensor
    cols: torch.Tensor
    cells: torch.Tensor
    layers: list[int]

    def image(self, padding: int = 2) -> Image.Image:
        """StyleGAN's figure-3 layout: columns on top, rows down the left."""
        from gan_core.sampling import grid_image

        r, k = self.cells.shape[:2]
        blank = torch.full_like(self.rows[0], -1.0)
        tiles = [blank, *self.cols]
        for i in range(r):
            tiles += [self.rows[i], *self.cells[i]]
        return grid_image(torch.stack(tiles), nrow=k + 1, padding=padding)


@torch.no_grad()
def style_mix(
    handle,
    row_seeds: Sequence[int] = (0, 1, 2, 3),
    col_seeds: Sequence[int] = (4, 5, 6, 7),
    layers="middle",  # "coarse", "middle", "fine", "all" or a list of w indices.
    truncation_psi: float = 1.0,
    label=None,
) -> MixGrid:
    """Mix the styles of row and column seeds (StyleGAN2 only)."""
    if not is_style(handle):
        raise UnsupportedSampling(
            f"{handle.family} has no per-layer styles: style mixing needs stylegan2"
        )
    chosen = resolve_layers(handle, layers)
    labels = _one_label(handle, label)
    ws_rows = _ws(handle, row_seeds, labels, truncation_psi)
    ws_cols = _ws(handle, col_seeds, labels, truncation_psi)
    r, k = len(row_seeds), len(col_seeds)
    row_grid = ws_rows.repeat_interleave(k, dim=0)  # Row i, then each column.
    col_grid = ws_cols.repeat(r, 1, 1)
    synth = handle.net.synthesis
    cells = synth(mix_styles(row_grid, col_grid, chosen), noise_mode="const")
    rows = synth(ws_rows, noise_mode="const")
    cols = synth(ws_cols, noise_mode="const")
    shape = cells.shape[1:]
    return MixGrid(
        rows=rows.float().cpu(),
        cols=cols.float().cpu(),
        cells=cells.float().cpu().reshape(r, k, *shape),
        layers=chosen,
    )


@torch.no_grad()
def class_grid(
    handle, per_class: int = 8, seed: int = 0, truncation_psi: float = 1.0
) -> torch.Tensor:
    """One row per class, ``per_class`` samples each, the same latents in every
    row: float [K * per_class, C, H, W] in class order, on the CPU."""
    _needs_latent(handle, "class_grid")
    if not handle.conditional:
        raise UnsupportedSampling(
            f"{handle.family} was trained without classes: class_grid needs a "
            "conditional model (cgan, or stylegan2 with conditional on)"
        )
    if per_class < 1:
        raise ValueError("per_class must be at least 1")
    k = len(handle.class_names)
    z = handle.latents(per_class, seed).repeat(k, 1)
    labels = torch.arange(k).repeat_interleave(per_class).to(handle.device)
    return generate_truncated(handle, z, labels, truncation_psi).float().cpu()


def _image_tensor(image, channels: int) -> torch.Tensor:
    """A PIL image, path or [C, H, W] tensor in [-1, 1] -> [1, channels, H, W]."""
    if isinstance(image, torch.Tensor):
        x = image.float()
        return (x if x.dim() == 4 else x.unsqueeze(0))[:, :channels]
    if isinstance(image, str | Path):
        try:
            with Image.open(image) as opened:
                image = opened.copy()
        except OSError as exc:
            raise ValueError(f"cannot read image {image}: {exc}") from exc
    image = image.convert("L" if channels == 1 else "RGB")
    x = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    x = x.reshape(image.height, image.width, channels).permute(2, 0, 1)
    return (x.float() / 127.5 - 1).unsqueeze(0)


TILE_BATCH = 16  # tiles translated per network call


def _tile_starts(length: int, size: int, stride: int) -> list[int]:
    """Tile offsets covering ``length``: every ``stride``, the last flush with
    the end (so no tile hangs over and nothing is padded)."""
    if length <= size:
        return [0]
    return [*range(0, length - size, stride), length - size]


def tile_count(height: int, width: int, size: int, overlap: int | None = None) -> int:
    """How many size x size tiles a tiled translation of a height x width image
    runs through the network (an image smaller than a tile is padded up to one):
    what its time and memory grow with, to check before starting."""
    overlap = size // 4 if overlap is None else overlap
    stride = max(1, size - overlap)

    def along(length: int) -> int:  # len(_tile_starts(...)) without the list
        return 1 if length <= size else len(range(0, length - size, stride)) + 1

    return along(max(height, size)) * along(max(width, size))


def tile_window(size: int, overlap: int) -> torch.Tensor:
    """[size, size] blending weights: 1 inside, ramping down over ``overlap``
    pixels towards each edge (never to 0, so a lone tile still counts)."""
    i = torch.arange(size, dtype=torch.float32)
    ramp = (torch.minimum(i + 0.5, size - i - 0.5) / max(overlap, 1)).clamp(max=1.0)
    return ramp[:, None] * ramp[None, :]


def _tiles(x: torch.Tensor, size: int, fn, overlap: int | None = None) -> torch.Tensor:
    """Apply ``fn`` to size x size tiles of x [1, C, H, W] and blend the result.

    Tiles overlap by ``overlap`` pixels (a quarter of a tile by default) and are
    averaged with weights that fade towards their edges, where a network sees
    the least context: no seam shows where tiles meet. An image smaller than a
    tile is reflect-padded (replicate where it is too small to reflect) and the
    padding cropped away afterwards.
    """
    overlap = size // 4 if overlap is None else overlap
    _, _, h, w = x.shape
    ph, pw = max(0, size - h), max(0, size - w)
    mode = "reflect" if ph < h and pw < w else "replicate"
    padded = F.pad(x, (0, pw, 0, ph), mode=mode) if ph or pw else x
    height, width = padded.shape[-2:]
    stride = max(1, size - overlap)
    places = [
        (top, left)
        for top in _tile_starts(height, size, stride)
        for left in _tile_starts(width, size, stride)
    ]
    window = tile_window(size, overlap).to(x.device, x.dtype)
    out, weight = None, torch.zeros(1, 1, height, width, device=x.device, dtype=x.dtype)
    for first in range(0, len(places), TILE_BATCH):
        chunk = places[first : first + TILE_BATCH]
        batch = torch.cat(
            [padded[:, :, t : t + size, l : l + size] for t, l in chunk]  # noqa: E741
        )
        result = fn(batch)
        if out is None:
            out = torch.zeros(1, result.shape[1], height, width, device=x.device)
        for (top, left), tile in zip(chunk, result, strict=True):
            out[0, :, top : top + size, left : left + size] += tile * window
            weight[0, :, top : top + size, left : left + size] += window
    return (out / weight)[:, :, :h, :w]


@torch.no_grad()
def translate(
    handle,
    image,  # PIL image, path, or tensor [C, H, W] / [1, C, H, W] in [-1, 1].
    direction: str = "AtoB",  # "AtoB" or "BtoA".
    mode: str = "resize",  # "resize" to the model's size and back, or "tile".
) -> Image.Image:
    """Translate an image of any size with a CycleGAN or a pix2pix (AtoB only);
    returns a PIL image of the input's size. "resize" translates a resized copy
    and scales the result back; "tile" translates model-sized tiles at full
    resolution and stitches them."""
    if not is_translator(handle):
        raise UnsupportedSampling(
            f"{handle.family} does not translate images: translate needs cyclegan "
            "or pix2pix"
        )
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be AtoB or BtoA (got {direction!r})")
    if direction not in translation_directions(handle):
        raise UnsupportedSampling(
            f"{handle.family} translates {' and '.join(translation_directions(handle))}"
            f" only (got {direction})"
        )
    if mode not in ("resize", "tile"):
        raise ValueError(f"mode must be resize or tile (got {mode!r})")
    x = _image_tensor(image, handle.channels).to(handle.device)
    h, w = x.shape[-2:]
    size = handle.image_size

    def run(batch: torch.Tensor) -> torch.Tensor:
        return handle.net(batch, direction)

    if mode == "tile":
        y = _tiles(x, size, run)
    else:
        small = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
        y = run(small)
        if (h, w) != (size, size):
            y = F.interpolate(y, size=(h, w), mode="bicubic", align_corners=False)
    return to_pil(y[0].clamp(-1, 1).float().cpu())


@dataclass
class RoundTrip:
    """One image through both CycleGAN generators, with what was lost.

    ``cycle_error`` and ``identity_error`` are per-pixel mean absolute
    differences on a 0-1 scale ([H, W] tensors): the input against its round
    trip there and back (the cycle-consistency loss of Zhu 2017, per pixel),
    and the input against what the generator *into* its own domain makes of it
    (the identity loss: it should change nothing)."""

    source: torch.Tensor  # [C, H, W] in [-1, 1]
    translated: torch.Tensor
    back: torch.Tensor | None  # None for a one-way (paired) translator
    identity: torch.Tensor | None
    cycle_error: torch.Tensor | None
    identity_error: torch.Tensor | None
    # Per-pixel |translated - source| on a 0-1 scale: what the translation
    # changed (the one map a one-way translator has).
    change: torch.Tensor | None = None


@torch.no_grad()
def round_trip(handle, image, direction: str = "AtoB", mode: str = "resize"):
    """Translate ``image`` (of domain ``direction[0]``), translate the result
    back, and run the other generator on the input: see RoundTrip. A one-way
    translator (pix2pix) has no way back: only the translation and the map of
    what it changed."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be AtoB or BtoA (got {direction!r})")
    reverse = "BtoA" if direction == "AtoB" else "AtoB"
    source = _image_tensor(image, handle.channels)[0]
    as_tensor = lambda img: _image_tensor(img, handle.channels)[0]  # noqa: E731
    translated = as_tensor(translate(handle, source, direction, mode))
    change = (translated - source).abs().mean(0) / 2
    if reverse not in translation_directions(handle):
        return RoundTrip(source, translated, None, None, None, None, change)
    back = as_tensor(translate(handle, translated, reverse, mode))
    identity = as_tensor(translate(handle, source, reverse, mode))
    return RoundTrip(
        source=source,
        translated=translated,
        back=back,
        identity=identity,
        cycle_error=(back - source).abs().mean(0) / 2,
        identity_error=(identity - source).abs().mean(0) / 2,
        change=change,
    )


def error_heatmap(error: torch.Tensor, full_scale: float = 0.25) -> Image.Image:
    """An [H, W] 0-1 error as a heat map: black (none) through red to yellow
    (``full_scale`` or more), so small differences still show."""
    t = (error / full_scale).clamp(0, 1)
    red = (t * 2).clamp(max=1)
    green = (t * 2 - 1).clamp(min=0)
    rgb = torch.stack([red, green, torch.zeros_like(t)])
    return to_pil(rgb * 2 - 1)
