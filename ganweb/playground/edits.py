"""Worker side of latent edits: PCA directions of a checkpoint, and the edit.

Only Celery workers import this module (through rendering.py and
workers.tasks.directions); it imports torch. Directions come from
gan_core.directions.directions_for: computed once per checkpoint (a light
worker does it when the page asks for the sliders) and cached beside it, so
the interactive worker drawing an edit reads a file; if the cache is missing
it computes the same directions itself.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from gan_core import directions as D
from gan_core import sampling_advanced as adv
from ganweb.playground.rendering import PADDING, Loaded, Rendered, _base_meta, png_bytes

_memory: dict[tuple, D.Directions] = {}  # per process: (cache file) -> directions


def checkpoint_directions(loaded: Loaded, checkpoint: Path, variant: str):
    """(the DEFAULT_K directions of the loaded generator, whether cached)."""
    key = (str(D.cache_path(checkpoint, variant)),)
    if key in _memory:
        return _memory[key], True
    dirs, cached = D.directions_for(checkpoint, loaded.handle, variant=variant)
    if len(_memory) > 16:
        _memory.clear()
    _memory[key] = dirs
    return dirs, cached


def directions_info(loaded: Loaded, checkpoint: Path, variant: str) -> dict:
    """What the page shows beside the sliders: each component's share of the
    variance, and the layer groups an edit may be limited to."""
    h = loaded.handle
    dirs, cached = checkpoint_directions(loaded, checkpoint, variant)
    info = {
        "family": h.family,
        "step": h.step,
        "space": dirs.space,
        "feature": dirs.feature,
        "samples": dirs.samples,
        "cached": cached,
        "components": [
            {"index": i, "explained": round(float(r), 6), "sigma": round(float(s), 6)}
            for i, (r, s) in enumerate(zip(dirs.explained, dirs.sigma, strict=True))
        ],
    }
    if adv.is_style(h):
        from gan_core.nets.stylegan2 import style_layer_ranges

        info["num_ws"] = h.net.num_ws
        info["layer_groups"] = style_layer_ranges(h.image_size)
    return info


def _start(params: dict):
    start = params.get("start")
    if start is None:
        return None
    return start[0], torch.as_tensor(start[1])


def render_edit(loaded: Loaded, params: dict) -> Rendered:
    """One edited image (with ``compare``: the original beside it)."""
    h = loaded.handle
    variant = params.get("generator") or "ema"
    dirs, _ = checkpoint_directions(loaded, Path(params["checkpoint_file"]), variant)
    if params.get("alphas") is not None:
        alphas = {i: a for i, a in enumerate(params["alphas"])}
    else:
        alphas = {int(params["direction"]): float(params["alpha"])}
    kwargs = {
        "seed": params["seed"],
        "layers": params.get("layers"),
        "truncation_psi": params["truncation"],
        "label": params.get("label") or None,
        "start": _start(params),
    }
    edited = adv.to_pil(D.edited_image(h, dirs, alphas, **kwargs))
    meta = {
        **_base_meta(loaded, params["generator"]),
        "seed": params["seed"],
        "alphas": {str(i): a for i, a in alphas.items() if a},
        "space": dirs.space,
        "width": edited.width,
        "height": edited.height,
    }
    if adv.is_style(h):
        layers = params.get("layers")
        meta["layers"] = adv.resolve_layers(h, "all" if layers is None else layers)
    if params.get("compare"):
        original = adv.to_pil(D.edited_image(h, dirs, {}, **kwargs))
        pair = Image.new(edited.mode, (edited.width * 2 + PADDING, edited.height))
        pair.paste(original, (0, 0))
        pair.paste(edited, (edited.width + PADDING, 0))
        meta["panels"] = ["original", "edit"]
        edited = pair
    return Rendered(png_bytes(edited), "image/png", meta)
