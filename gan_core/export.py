"""Synthetic datasets: N generated images from a checkpoint, written as files.

``export_samples`` draws the images (per class for conditional models, each
class in a folder named after it; optionally truncated; optionally kept by
discriminator rejection sampling, gan_core.rejection) and hands each one as a
PNG to a sink: ``FolderSink`` writes a folder that trains like any upload,
the web writes a zip that goes through the upload's ingest. The returned
origin (family, step, settings, counts) says where the data came from.

This module imports torch only inside its functions, so the web process can
read the limits and ``rejection_problem`` without loading it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

MAX_IMAGES = 20_000  # the CLI's limit on images in one export (all classes)
CHUNK = 250  # images drawn per forward pass
ORIGIN_FILE = "synthetic.json"
# Families whose discriminator, trained with the logistic loss, estimates
# log(p_data / p_g) (Azadi et al. 2019): D's logit is the DRS score.
REJECTION_FAMILIES = ("gan", "dcgan", "sngan", "cgan")


class ExportError(ValueError):
    """An export that cannot be done as asked; one line for the person."""


@dataclass(frozen=True)
class ExportSettings:
    n: int  # images in all, or per class with per_class
    per_class: bool = False  # n per class, in class folders (conditional only)
    truncation: float = 1.0  # psi in (0, 1]; 1 is no truncation
    rejection: float | None = None  # DRS percentile (0-100), None: keep all
    seed: int = 0

    def total(self, num_classes: int) -> int:
        return self.n * num_classes if self.per_class else self.n


def check_settings(
    settings: ExportSettings,
    *,
    conditional: bool,
    num_classes: int,
    limit: int = MAX_IMAGES,
) -> None:
    """Raise ExportError for settings that cannot make a dataset."""
    if settings.n < 1:
        raise ExportError(f"n must be at least 1, got {settings.n}")
    if settings.per_class and not conditional:
        raise ExportError(
            "per-class output needs a conditional model (one trained on labels); "
            "this one draws no classes"
        )
    total = settings.total(num_classes)
    if total > limit:
        what = f"{settings.n} per class x {num_classes} classes = {total:,}"
        what = what if settings.per_class else f"{total:,}"
        raise ExportError(f"n: {what} images asked, at most {limit:,}")
    if not 0.0 < settings.truncation <= 1.0:
        raise ExportError(f"truncation must be in (0, 1], got {settings.truncation}")
    if settings.rejection is not None and not 0.0 <= settings.rejection <= 100.0:
        raise ExportError(f"rejection percentile must be in [0, 100], got "
                          f"{settings.rejection}")  # fmt: skip


def rejection_problem(family: str, config: dict) -> str | None:
    """Why rejection sampling cannot filter this model's images, or None."""
    if family not in REJECTION_FAMILIES:
        return (
            f"discriminator rejection needs a discriminator trained with the "
            f"logistic loss ({', '.join(REJECTION_FAMILIES)}); {family} has none"
        )
    if config.get("loss", "ns") != "ns":
        return (
            f"{family} trained with loss {config.get('loss')}: discriminator "
            "rejection needs the logistic loss (ns)"
        )
    return None


class FolderSink:
    """Writes each image to ``root/<name>`` (class folders created as needed)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def __call__(self, name: str, png: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)


def export_samples(
    checkpoint: Path,
    settings: ExportSettings,
    sink: Callable[[str, bytes], None],
    *,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    limit: int = MAX_IMAGES,
) -> dict:
    """Draw the images of ``settings`` from ``checkpoint`` into ``sink``.

    sink(name, png bytes) gets "<class>/<index>.png" with per_class, else
    "<index>.png"; progress(done, total) after each chunk. Deterministic for
    a seed. Returns the origin: family, step, settings, counts per class and,
    with rejection, the share of drawn samples kept. Raises ExportError
    (a ValueError) or CheckpointError.
    """
    from gan_core.sampling import load_generator

    handle = load_generator(Path(checkpoint), device=device)
    if handle.kind not in ("images", "classes"):
        raise ExportError(f"{handle.family} on {handle.kind} draws no images to export")
    k = len(handle.class_names) if handle.conditional else 1
    check_settings(settings, conditional=handle.conditional, num_classes=k, limit=limit)
    logit = None
    if settings.rejection is not None:
        logit = _discriminator(Path(checkpoint), handle, device)
    groups = list(range(k)) if settings.per_class else [None]
    total, done, counts, accepted = settings.total(k), 0, {}, []
    for group in groups:
        folder = "" if group is None else f"{_folder_name(handle.class_names[group])}/"
        seed = settings.seed * 1_009 + (0 if group is None else group)
        if logit is None:
            batches = _plain(handle, settings, seed, group)
        else:
            batches, stats = _rejected(handle, settings, seed, group, logit)
            accepted.append(stats["acceptance"])
        index = 0
        for batch in batches:
            for png in _pngs(batch):
                sink(f"{folder}{index:05d}.png", png)
                index += 1
            done += len(batch)
            if progress is not None:
                progress(done, total)
        counts[handle.class_names[group] if group is not None else "all"] = index
    origin = {
        "family": handle.family,
        "step": handle.step,
        "checkpoint": Path(checkpoint).name,
        "image_size": handle.image_size,
        "conditional": handle.conditional,
        **asdict(settings),
        "images": done,
        "counts": counts,
    }
    if logit is not None:
        # The share of drawn samples DRS keeps, averaged over the classes.
        origin["acceptance"] = round(sum(accepted) / len(accepted), 4)
    return origin


def export_folder(checkpoint: Path, settings: ExportSettings, out: Path, **kw) -> dict:
    """``export_samples`` into folder ``out``, with the origin as synthetic.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    origin = export_samples(checkpoint, settings, FolderSink(out), **kw)
    (out / ORIGIN_FILE).write_text(json.dumps(origin, indent=2) + "\n")
    return origin


def _folder_name(name: str) -> str:
    """A class name as a safe folder name (class names come from folders)."""
    cleaned = "".join(c if c.isalnum() or c in "-_. " else "_" for c in name).strip()
    return cleaned.strip(".") or "class"


def _labels(handle, m: int, group: int | None):
    import torch

    if not handle.conditional:
        return None
    if group is None:  # cycle through the classes, as sample() does
        return torch.arange(m) % len(handle.class_names)
    return torch.full((m,), group, dtype=torch.int64)


def _plain(handle, settings: ExportSettings, seed: int, group: int | None):
    """Batches of at most CHUNK images; chunk i draws with its own seed."""
    for i, start in enumerate(range(0, settings.n, CHUNK)):
        m = min(CHUNK, settings.n - start)
        yield handle.sample(
            m,
            seed=seed * 1_000_003 + i,
            truncation_psi=settings.truncation,
            labels=_labels(handle, m, group),
        )


def _rejected(handle, settings: ExportSettings, seed: int, group, logit):
    """DRS-kept images of one group (all in memory, then in CHUNK batches)."""
    from gan_core.rejection import BURN_IN, rejection_sample

    def draw(m: int, s: int):
        labels = _labels(handle, m, group)
        images = handle.sample(m, seed=s, truncation_psi=settings.truncation,
                               labels=labels)  # fmt: skip
        return images if labels is None else (images, labels)

    def judge(batch):
        return logit(*batch) if isinstance(batch, tuple) else logit(batch, None)

    # A burn-in pool of a few times n estimates M and gamma well enough for
    # small exports without drawing BURN_IN images per class.
    chunk = max(1000, min(BURN_IN, 4 * settings.n))
    pool, stats = _rejection_pairs(draw, judge, settings, seed, chunk, rejection_sample)
    return [pool[i : i + CHUNK] for i in range(0, len(pool), CHUNK)], stats


def _rejection_pairs(draw, judge, settings, seed, chunk, rejection_sample):
    """rejection_sample over (images, labels) pairs, packed as one tensor."""
    import torch

    def flat_draw(m: int, s: int):
        out = draw(m, s)
        if isinstance(out, tuple):  # labels ride along as an extra column
            images, labels = out
            return torch.cat([images.flatten(1), labels[:, None].float()], 1)
        return out.flatten(1)

    shape = draw(1, 0)
    conditional = isinstance(shape, tuple)
    image_shape = (shape[0] if conditional else shape).shape[1:]

    def unpack(rows):
        if conditional:
            images = rows[:, :-1].reshape(-1, *image_shape)
            return images, rows[:, -1].long()
        return rows.reshape(-1, *image_shape)

    kept, stats = rejection_sample(
        flat_draw,
        lambda rows: judge(unpack(rows)),
        settings.n,
        seed=seed,
        percentile=settings.rejection,
        chunk=chunk,
    )
    images = unpack(kept)
    return (images[0] if conditional else images), stats


def _discriminator(path: Path, handle, device: str):
    """D's logit (images, labels) -> [N] for the DRS families, else ExportError."""
    import torch

    from gan_core.checkpoint import load_checkpoint
    from gan_core.sampling import rebuild_recipe

    payload = load_checkpoint(path)
    problem = rejection_problem(handle.family, payload.get("config", {}))
    if problem or "D" not in payload.get("nets", {}):
        raise ExportError(problem or "the checkpoint has no discriminator")
    _family, _config, _info, recipe = rebuild_recipe(payload, path)
    D = recipe.nets["D"]
    D.load_state_dict(payload["nets"]["D"])
    D.to(handle.device).eval()
    pack = int(getattr(D, "pack", 1))

    @torch.no_grad()
    def logit(images, labels):
        out = []
        for i in range(0, len(images), CHUNK):
            x = images[i : i + CHUNK].to(handle.device)
            y = None if labels is None else labels[i : i + CHUNK].to(handle.device)
            if pack > 1:  # a packing D judges each image as a group of itself
                x = x.repeat_interleave(pack, dim=0)
            out.append(D(x, y).float().cpu().reshape(-1))
        return torch.cat(out)

    return logit


def _pngs(images):
    """PNG bytes of each image of [N, C, H, W] in [-1, 1]."""
    from PIL import Image

    from gan_core.sampling import to_uint8

    for arr in to_uint8(images):
        buffer = io.BytesIO()
        Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr).save(
            buffer, format="PNG"
        )
        yield buffer.getvalue()


# -- the command line ------------------------------------------------------------


def add_export_parser(subparsers) -> None:
    """Register ``export`` on the gan_core CLI's subparsers."""
    p = subparsers.add_parser(
        "export",
        help="write N generated images as a dataset folder",
        description="Generated images as a dataset folder (class folders with "
        "--per-class), with synthetic.json saying where they came from.",
    )
    p.add_argument("--checkpoint", required=True, help="a .pt checkpoint")
    p.add_argument("--n", type=int, required=True, help="images (per class with "
                   f"--per-class); at most {MAX_IMAGES:,} in all")  # fmt: skip
    p.add_argument("--out", required=True, help="the dataset folder to write")
    p.add_argument("--per-class", action="store_true", help="n per class, in "
                   "class folders (conditional models)")  # fmt: skip
    p.add_argument("--truncation", type=float, default=1.0, help="psi in (0, 1]")
    p.add_argument("--rejection", type=float, default=None, metavar="PERCENTILE",
                   help="keep images by discriminator rejection sampling (Azadi "
                   "et al. 2019), gamma at this percentile (80 is usual)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="noise seed")
    p.add_argument("--device", default="cpu", help="cpu, cuda, ...")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    import sys

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"--out: {out} exists and is not empty")
    settings = ExportSettings(
        n=args.n,
        per_class=args.per_class,
        truncation=args.truncation,
        rejection=args.rejection,
        seed=args.seed,
    )

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\rexporting: {done:,} / {total:,}{end}")

    origin = export_folder(
        Path(args.checkpoint), settings, out, device=args.device, progress=show
    )
    kept = (
        f", {origin['acceptance']:.1%} of drawn kept" if "acceptance" in origin else ""
    )
    print(f"{out}: {origin['images']:,} images from {origin['family']} step "
          f"{origin['step']}{kept}")  # fmt: skip
    return 0
