"""Drawing from a trained generator: the API the CLI and the web playground share.

``load_generator`` rebuilds the family's generator from a checkpoint (the EMA
weights when the run kept them) and returns a ``GeneratorHandle`` whose
``sample(n, seed)`` is deterministic in ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

from gan_core.checkpoint import CheckpointError, load_checkpoint


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W, C]."""
    x = images.detach().float().cpu().clamp(-1, 1).add(1).mul(127.5).round()
    return x.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def generate_in_chunks(generate, net, z, labels, chunk: int) -> torch.Tensor:
    """``generate(net, z, labels)`` run ``chunk`` rows at a time, concatenated.

    A 64-image grid at 128 px in one batch holds every layer's activations for
    all 64 at once; in chunks the peak is a chunk's. Each row depends only on
    its own z (nets are in eval mode), so the pixels are the same. A generate
    whose output does not follow z's rows (a translator's preview) runs once.
    """
    with torch.inference_mode():
        first = generate(net, z[:chunk], None if labels is None else labels[:chunk])
        if len(z) <= chunk or len(first) != len(z[:chunk]):
            return first
        outs = [first.float()]
        for start in range(chunk, len(z), chunk):
            part = None if labels is None else labels[start : start + chunk]
            outs.append(generate(net, z[start : start + chunk], part).float())
    return torch.cat(outs)


def grid_image(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> Image.Image:
    """Tile [N, C, H, W] images in [-1, 1] into one PIL image, ``nrow`` per row."""
    arr = to_uint8(images)
    n, h, w, c = arr.shape
    cols = max(1, min(nrow, n))
    rows = math.ceil(n / cols)
    canvas = np.zeros(
        (rows * (h + padding) + padding, cols * (w + padding) + padding, c), np.uint8
    )
    for i in range(n):
        y = padding + (i // cols) * (h + padding)
        x = padding + (i % cols) * (w + padding)
        canvas[y : y + h, x : x + w] = arr[i]
    return Image.fromarray(canvas[:, :, 0] if c == 1 else canvas)


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> Path:
    """Write images [N, C, H, W] in [-1, 1] as a PNG grid (atomic rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    grid_image(images, nrow).save(tmp, format="PNG")
    tmp.replace(path)
    return path


def save_points_plot(
    points: torch.Tensor,  # [N, 2] generated.
    real: torch.Tensor,  # [M, 2] real.
    path: Path,
    surface: dict | None = None,  # {extent, size, values} from the trainer.
    size: int = 320,
) -> Path:
    """A scatter of real (grey) and generated (red) points over D's surface."""
    if surface is not None:
        xmin, xmax, ymin, ymax = surface["extent"]
        vals = np.asarray(surface["values"], np.float32).reshape(
            surface["size"], surface["size"]
        )
        lo, hi = float(vals.min()), float(vals.max())
        norm = (vals - lo) / (hi - lo + 1e-12)
        shade = (40 + 120 * norm[::-1]).astype(np.uint8)  # rows from ymax down
        bg = np.stack([shade // 3, shade // 2, shade], axis=-1)
        img = Image.fromarray(bg).resize((size, size), Image.Resampling.BILINEAR)
    else:
        both = torch.cat([points, real]).float()
        lo, hi = both.min(0).values.tolist(), both.max(0).values.tolist()
        pad = 0.1 * max(hi[0] - lo[0], hi[1] - lo[1], 1e-3)
        xmin, xmax, ymin, ymax = lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad
        img = Image.new("RGB", (size, size), (20, 20, 30))
    draw = ImageDraw.Draw(img)

    def put(pts: torch.Tensor, colour: tuple[int, int, int]) -> None:
        for x, y in pts.tolist():
            px = (x - xmin) / (xmax - xmin) * (size - 1)
            py = (ymax - y) / (ymax - ymin) * (size - 1)
            draw.ellipse([px - 1.5, py - 1.5, px + 1.5, py + 1.5], fill=colour)

    put(real.float(), (200, 200, 200))
    put(points.float(), (240, 60, 60))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    img.save(tmp, format="PNG")
    tmp.replace(path)
    return path


@dataclass
class GeneratorHandle:
    """A trained generator and what it was trained on."""

    family: str
    net: nn.Module  # In eval mode, on ``device``.
    generate: object  # (net, z, labels) -> samples, from the family's recipe.
    z_dim: int
    kind: str  # Data kind: images, classes, domains, points.
    image_size: int
    channels: int
    class_names: tuple[str, ...]
    conditional: bool
    device: torch.device
    step: int = 0
    config: dict = field(default_factory=dict)

    def latents(self, n: int, seed: int) -> torch.Tensor:
        """Seeded z [n, z_dim]: the same seed always gives the same latents."""
        gen = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.z_dim, generator=gen).to(self.device)

    def _labels(self, n: int, labels) -> torch.Tensor | None:
        if not self.conditional:
            if labels is not None:
                raise ValueError(f"{self.family} is not conditional: it takes no label")
            return None
        k = len(self.class_names)
        if labels is None:
            labels = torch.arange(n) % k
        elif isinstance(labels, int | str):
            labels = torch.full((n,), self.label_index(labels))
        labels = torch.as_tensor(labels, dtype=torch.int64).reshape(-1)
        if labels.numel() != n or labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"labels must be {n} class indices in [0, {k})")
        return labels.to(self.device)

    def label_index(self, label: int | str) -> int:
        """A class index from an index or a class name."""
        if isinstance(label, str) and label in self.class_names:
            return self.class_names.index(label)
        try:
            index = int(label)
        except ValueError:
            index = -1
        if not 0 <= index < len(self.class_names):
            names = ", ".join(self.class_names)
            raise ValueError(f"unknown label '{label}' (classes: {names})")
        return index

    @torch.no_grad()
    def sample(
        self,
        n: int,
        seed: int = 0,
        truncation_psi: float = 1.0,
        labels=None,
    ) -> torch.Tensor:
        """n samples: float [n, C, H, W] in [-1, 1] (or [n, 2] points), on the CPU.

        truncation_psi < 1 moves towards the centre: in W towards the tracked
        mean w for StyleGAN2, otherwise by scaling z towards 0 (truncation in Z;
        Brock 2019 resamples instead, scaling keeps it deterministic). labels:
        None (cycle through the classes), one index or name, or n indices.
        """
        from gan_core import sampling_advanced as adv

        if adv.is_translator(self):
            raise adv.UnsupportedSampling(
                f"{self.family} translates images and draws no samples: use translate"
            )
        z = self.latents(n, seed)
        out = adv.generate_truncated(self, z, self._labels(n, labels), truncation_psi)
        return out.float().cpu()

    # The playground's calls (gan_core.sampling_advanced); each raises
    # UnsupportedSampling when the family cannot do it.

    @property
    def latent_spaces(self) -> tuple[str, ...]:
        """("z", "w") for StyleGAN2, ("z",) for other samplers, () for CycleGAN."""
        from gan_core.sampling_advanced import latent_spaces

        return latent_spaces(self)

    @property
    def calls(self) -> tuple[str, ...]:
        """The playground calls this generator supports, e.g. ("sample",
        "interpolate", "style_mix") for StyleGAN2 or ("translate",) for CycleGAN."""
        from gan_core.sampling_advanced import supported_calls

        return supported_calls(self)

    def interpolate(self, seed_a: int, seed_b: int, steps: int = 16, space="auto",
                    **kwargs):  # fmt: skip
        """Frames from seed_a to seed_b (linear in W, spherical in Z); see
        sampling_advanced.interpolate for truncation_psi, label, path and fps."""
        from gan_core.sampling_advanced import interpolate

        return interpolate(self, seed_a, seed_b, steps, space, **kwargs)

    def style_mix(self, row_seeds=(0, 1, 2, 3), col_seeds=(4, 5, 6, 7),
                  layers="middle", **kwargs):  # fmt: skip
        """StyleGAN2's style-mixing grid (a MixGrid; .image() draws it)."""
        from gan_core.sampling_advanced import style_mix

        return style_mix(self, row_seeds, col_seeds, layers, **kwargs)

    def class_grid(self, per_class: int = 8, **kwargs) -> torch.Tensor:
        """One row of ``per_class`` samples per class (conditional models)."""
        from gan_core.sampling_advanced import class_grid

        return class_grid(self, per_class, **kwargs)

    def translate(self, image, direction: str = "AtoB", **kwargs):
        """CycleGAN translation of an image of any size; returns a PIL image."""
        from gan_core.sampling_advanced import translate

        return translate(self, image, direction, **kwargs)


def rebuild_recipe(payload: dict, path: Path):
    """(family, config, data info, recipe with fresh weights on the CPU) of a
    checkpoint's payload. Raises CheckpointError for foreign payloads."""
    from gan_core.config import ConfigError, config_from_dict
    from gan_core.data.loading import DataInfo
    from gan_core.registry import UnknownFamilyError, get_family

    try:
        family = get_family(payload["family"])
        config = config_from_dict(family.name, payload["config"])
        info = DataInfo.from_dict(payload["data"])
    except (KeyError, ConfigError, UnknownFamilyError) as exc:
        raise CheckpointError(f"{path}: unusable checkpoint ({exc})") from exc
    with torch.random.fork_rng(devices=[]):  # building draws initial weights
        recipe = family.build(config, info, torch.device("cpu"))
    return family, config, info, recipe


def load_generator(path: Path, device: str | torch.device = "cpu") -> GeneratorHandle:
    """Rebuild the generator of checkpoint ``path`` on ``device``.

    Raises CheckpointError for missing, corrupt or foreign files.
    """
    from gan_core.devices import resolve_device

    device = resolve_device(str(device))
    payload = load_checkpoint(path)
    family, _config, info, recipe = rebuild_recipe(payload, path)
    net = recipe.nets[recipe.generator]
    weights = payload.get("ema") or payload["nets"][recipe.generator]
    try:
        net.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit {family.name}") from exc
    net.to(device).eval()
    return GeneratorHandle(
        family=family.name,
        net=net,
        generate=recipe.generate,
        z_dim=recipe.z_dim,
        kind=info.kind,
        image_size=info.image_size,
        channels=info.channels,
        class_names=info.class_names,
        conditional=recipe.conditional,
        device=device,
        step=int(payload.get("step", 0)),
        config=payload["config"],
    )
