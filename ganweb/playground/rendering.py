"""Worker side of the playground: load generators, keep them warm, draw images.

Only the Celery workers import this module (it imports torch); the web process
talks to it through workers.tasks.playground (the interactive queue). Every
function returns encoded bytes, so nothing but a small JSON result crosses Redis.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from gan_core import sampling_advanced as adv
from gan_core.checkpoint import load_checkpoint
from gan_core.sampling import GeneratorHandle, grid_image, load_generator

MAX_IMAGES = 64  # Per grid for image models: one forward pass stays well under 1 s.
# Per tiled translation: time and memory grow with the tiles, and a small model
# on a large upload needs thousands (a 1x4,000,000 strip took 376 s and 3.4 GB).
MAX_TILES = 1024
PADDING = 2
# PNG level 1 is several times faster than the default 6 on a noisy 64-image grid
# for about 20% more bytes: on a 2-core CPU the encoder, not Redis, is the cost.
PNG_LEVEL = 1


@dataclass
class Rendered:
    content: bytes
    content_type: str
    meta: dict


@dataclass
class Loaded:
    handle: GeneratorHandle
    has_ema: bool


def _load(path: Path, variant: str, device: str) -> Loaded:
    """The generator of ``path``: its EMA weights, or the raw ones on request."""
    handle = load_generator(path, device=device)
    payload = load_checkpoint(path)
    has_ema = payload.get("ema") is not None
    if variant == "raw" and has_ema:
        # load_generator prefers the EMA; the raw generator is the entry of
        # payload["nets"] whose parameter names are the generator's.
        names = set(handle.net.state_dict())
        for weights in payload["nets"].values():
            if set(weights) == names:
                handle.net.load_state_dict(weights)
                break
    return Loaded(handle, has_ema)


class GeneratorCache:
    """Least-recently-used generators, at most ``size`` of them.

    Keys carry the file's modification time, so a running job's latest.pt
    rewritten by the trainer is loaded afresh and the stale entry ages out.
    Thread-safe: a worker may run tasks in threads.
    """

    def __init__(self, size: int, device: str = "cpu"):
        self.size = max(1, int(size))
        self.device = device
        self._entries: OrderedDict[tuple, Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self.loads = 0

    def get(self, path: Path, variant: str = "ema") -> Loaded:
        stat = os.stat(path)  # FileNotFoundError for a missing checkpoint.
        key = (str(path), stat.st_mtime_ns, stat.st_size, variant)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        with self._load_lock:  # One load at a time; a second asker reuses it.
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            loaded = _load(path, variant, self.device)
            self.loads += 1
            with self._lock:
                self._entries[key] = loaded
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            return loaded

    def keys(self) -> list[tuple]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=PNG_LEVEL)
    return out.getvalue()


def _labels(handle: GeneratorHandle, n: int, label) -> torch.Tensor | None:
    """n labels: the chosen class, or every class in turn; None when unconditional."""
    if not handle.conditional:
        if label not in (None, ""):
            raise ValueError(f"{handle.family} is not conditional: it takes no label")
        return None
    if label in (None, ""):
        labels = torch.arange(n) % len(handle.class_names)
    else:
        labels = torch.full((n,), handle.label_index(label))
    return labels.to(handle.device)


def _base_meta(loaded: Loaded, generator: str) -> dict:
    h = loaded.handle
    return {
        "family": h.family,
        "step": h.step,
        "generator": generator if loaded.has_ema else "raw",
    }


@torch.no_grad()
def render_sample(loaded: Loaded, params: dict) -> Rendered:
    """A grid where image i is drawn from its own seed, ``seed + i``, so any one
    image can be opened large (n=1) or interpolated by its seed."""
    h = loaded.handle
    n, seed, psi = params["n"], params["seed"], params["truncation"]
    if adv.is_translator(h):
        raise adv.UnsupportedSampling(
            f"{h.family} translates images and draws no samples: use translate"
        )
    if h.kind != "points" and n > MAX_IMAGES:
        raise ValueError(f"n must be at most {MAX_IMAGES} for an image model")
    z = torch.cat([h.latents(1, seed + i) for i in range(n)])
    labels = _labels(h, n, params.get("label"))
    out = adv.generate_truncated(h, z, labels, psi).float().cpu()
    meta = {**_base_meta(loaded, params["generator"]), "seed": seed, "n": n}
    if h.kind == "points":
        return Rendered(_points_png(out), "image/png", meta)
    columns = max(1, math.ceil(math.sqrt(n)))
    meta.update(columns=columns, tile=h.image_size, padding=PADDING)
    if labels is not None:
        meta["labels"] = [h.class_names[i] for i in labels.tolist()]
    image = grid_image(out, nrow=columns, padding=PADDING if n > 1 else 0)
    return Rendered(png_bytes(image), "image/png", meta)


def _points_png(points: torch.Tensor) -> bytes:
    from gan_core.sampling import save_points_plot

    with tempfile.TemporaryDirectory() as folder:
        path = save_points_plot(points, points[:0], Path(folder) / "points.png")
        return path.read_bytes()


def render_class_grid(loaded: Loaded, params: dict) -> Rendered:
    h = loaded.handle
    per_class = params["per_class"]
    images = h.class_grid(
        per_class, seed=params["seed"], truncation_psi=params["truncation"]
    )
    meta = {
        **_base_meta(loaded, params["generator"]),
        "seed": params["seed"],
        "columns": per_class,
        "tile": h.image_size,
        "padding": PADDING,
        "rows": list(h.class_names),
    }
    image = grid_image(images, nrow=per_class, padding=PADDING)
    return Rendered(png_bytes(image), "image/png", meta)


def animation_bytes(frames: list[Image.Image], fmt: str, fps: float) -> bytes:
    """Frames as a looping GIF or lossless WebP, encoded in memory."""
    out = io.BytesIO()
    options = {
        "save_all": True,
        "append_images": frames[1:],
        "duration": max(1, round(1000 / fps)),
        "loop": 0,
    }
    if fmt == "webp":
        frames[0].save(out, format="WEBP", lossless=True, method=0, **options)
    else:
        frames[0].save(out, format="GIF", **options)
    return out.getvalue()


def render_interpolate(loaded: Loaded, params: dict) -> Rendered:
    h = loaded.handle
    start = params.get("start")  # (space, latent) of a projection
    frames = h.interpolate(
        params["seed_a"],
        params["seed_b"],
        params["steps"],
        params["space"],
        truncation_psi=params["truncation"],
        label=params.get("label") or None,
        start=start,
    )
    fmt = params["format"]
    space = start[0] if start is not None else params["space"]
    if space == "auto":
        space = "w" if adv.is_style(h) else "z"
    meta = {
        **_base_meta(loaded, params["generator"]),
        "frames": len(frames),
        "space": space,
    }
    content = animation_bytes(frames, fmt, params["fps"])
    return Rendered(content, f"image/{fmt}", meta)


def render_style_mix(loaded: Loaded, params: dict) -> Rendered:
    h = loaded.handle
    grid = h.style_mix(
        params["row_seeds"],
        params["col_seeds"],
        params["layers"],
        truncation_psi=params["truncation"],
    )
    meta = {
        **_base_meta(loaded, params["generator"]),
        "layers": grid.layers,
        "rows": len(params["row_seeds"]),
        "columns": len(params["col_seeds"]) + 1,
        "tile": h.image_size,
        "padding": PADDING,
    }
    return Rendered(png_bytes(grid.image(padding=PADDING)), "image/png", meta)


def render_translate(loaded: Loaded, params: dict, image: bytes) -> Rendered:
    """Translate the (already decoded and re-encoded) upload; with ``pair`` the
    result is input and output side by side, as galleries keep it."""
    h = loaded.handle
    if not adv.is_translator(h):
        raise adv.UnsupportedSampling(
            f"{h.family} does not translate images: translate needs cyclegan or pix2pix"
        )
    with Image.open(io.BytesIO(image)) as opened:
        source = opened.convert("L" if h.channels == 1 else "RGB")
    if params.get("size"):
        scale = params["size"] / max(source.size)
        width = max(1, round(source.width * scale))
        height = max(1, round(source.height * scale))
        source = source.resize((width, height), Image.Resampling.LANCZOS)
    if params["mode"] == "tile":
        _check_tiles(h, source.size, passes=3 if params.get("roundtrip") else 1)
    if params.get("roundtrip"):
        return _render_round_trip(loaded, params, source)
    result = h.translate(source, params["direction"], mode=params["mode"])
    meta = {
        **_base_meta(loaded, params["generator"]),
        "direction": params["direction"],
        "width": result.width,
        "height": result.height,
    }
    if params.get("pair"):
        pair = Image.new(result.mode, (source.width * 2 + PADDING, source.height))
        pair.paste(source, (0, 0))
        pair.paste(result, (source.width + PADDING, 0))
        result = pair
    return Rendered(png_bytes(result), "image/png", meta)


def _check_tiles(h: GeneratorHandle, size: tuple[int, int], passes: int) -> None:
    """Refuse, before any work, a tiled translation too big to answer in time."""
    width, height = size
    tiles = adv.tile_count(height, width, h.image_size) * passes
    if tiles > MAX_TILES:
        raise ValueError(
            f"mode=tile would translate {tiles} tiles of {h.image_size}x"
            f"{h.image_size} px for this {width}x{height} image; the limit is "
            f"{MAX_TILES}: give a smaller size or use mode=resize"
        )


ROUND_TRIP_PANELS = (
    "input",
    "translated",
    "back again",
    "cycle error",
    "identity error",
)


def _render_round_trip(loaded: Loaded, params: dict, source: Image.Image) -> Rendered:
    """The CycleGAN workbench: input, translation, round trip back, and heat
    maps of the cycle and identity errors, side by side in one strip."""
    trip = adv.round_trip(
        loaded.handle, source, params["direction"], mode=params["mode"]
    )
    if trip.back is None:
        return _render_one_way(loaded, params, trip)
    panels = [
        adv.to_pil(trip.source).convert("RGB"),
        adv.to_pil(trip.translated).convert("RGB"),
        adv.to_pil(trip.back).convert("RGB"),
        adv.error_heatmap(trip.cycle_error),
        adv.error_heatmap(trip.identity_error),
    ]
    errors = {
        "cycle_error": round(float(trip.cycle_error.mean()), 5),
        "identity_error": round(float(trip.identity_error.mean()), 5),
    }
    return _workbench_strip(loaded, params, panels, ROUND_TRIP_PANELS, errors)


def _workbench_strip(loaded, params, panels, names, errors: dict) -> Rendered:
    """The workbench's panels side by side, with what the page labels them by."""
    width, height = panels[0].size
    strip = Image.new("RGB", (len(panels) * (width + PADDING) - PADDING, height))
    for index, panel in enumerate(panels):
        strip.paste(panel, (index * (width + PADDING), 0))
    meta = {
        **_base_meta(loaded, params["generator"]),
        "direction": params["direction"],
        "width": width,
        "height": height,
        "panels": list(names),
        **errors,
        "heat_full_scale": 0.25,
    }
    return Rendered(png_bytes(strip), "image/png", meta)


def render_edit(loaded: Loaded, params: dict) -> Rendered:
    """A latent edit along PCA directions (ganweb.playground.edits)."""
    from ganweb.playground.edits import render_edit as draw

    return draw(loaded, params)


ONE_WAY_PANELS = ("input", "translated", "change")


def _render_one_way(loaded: Loaded, params: dict, trip) -> Rendered:
    """The workbench of a one-way translator (pix2pix): input, translation and
    a heat map of what it changed; there is no generator back."""
    panels = [
        adv.to_pil(trip.source).convert("RGB"),
        adv.to_pil(trip.translated).convert("RGB"),
        adv.error_heatmap(trip.change),
    ]
    errors = {"change": round(float(trip.change.mean()), 5)}
    return _workbench_strip(loaded, params, panels, ONE_WAY_PANELS, errors)


RENDERERS = {
    "edit": render_edit,
    "sample": render_sample,
    "class-grid": render_class_grid,
    "interpolate": render_interpolate,
    "style-mix": render_style_mix,
}


def render(loaded: Loaded, action: str, params: dict, image: bytes | None) -> Rendered:
    """Run one playground action. Raises ValueError (UnsupportedSampling among
    them) for requests the generator cannot serve."""
    if action == "translate":
        if image is None:
            raise ValueError("translate needs an image")
        return render_translate(loaded, params, image)
    if action not in RENDERERS:
        raise ValueError(f"unknown action '{action}'")
    return RENDERERS[action](loaded, params)


def describe(loaded: Loaded) -> dict:
    """What the playground page needs to know about a generator."""
    h = loaded.handle
    style = adv.is_style(h)
    translator = adv.is_translator(h)
    calls = ["translate"] if translator else ["sample"]
    if not translator and h.kind != "points":
        calls.append("interpolate")
        if style:
            calls.append("style-mix")
        if h.conditional:
            calls.append("class-grid")
    info = {
        "family": h.family,
        "kind": h.kind,
        "image_size": h.image_size,
        "channels": h.channels,
        "class_names": list(h.class_names),
        "conditional": h.conditional,
        "step": h.step,
        "has_ema": loaded.has_ema,
        "calls": calls,
        "latent_spaces": [] if translator else (["z", "w"] if style else ["z"]),
        # Latent edits along PCA directions (the "edit" action, /directions).
        "edits": not translator and h.kind != "points",
        "directions": list(adv.translation_directions(h)),
    }
    if style:
        from gan_core.nets.stylegan2 import style_layer_ranges

        info["num_ws"] = h.net.num_ws
        info["layer_groups"] = style_layer_ranges(h.image_size)
    return info
