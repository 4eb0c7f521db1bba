"""The playground flags of ``python -m gan_core sample``.

``--interpolate [SEED_A SEED_B]`` (a GIF between seeds 0 and 1 by default),
``--style-mix`` (seeds 0-3 by 4-7 over the middle layers), ``--class-grid``
and ``--translate IMAGE [--direction AtoB|BtoA]``; ``--truncation`` applies to
all of them. Each writes one file (a default name when ``--out`` is not given).
A flag the checkpoint's family cannot do raises UnsupportedSampling naming the
flag, which the CLI prints as one line with exit code 2. Latent edits
(``--direction INDEX --alpha A``) are gan_core.directions_cli's; they share
``--direction`` and ``--layers`` (an edit moves all layers unless told).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_core.animation import save_animation
from gan_core.sampling_advanced import DIRECTIONS, UnsupportedSampling, is_translator

DEFAULT_OUT = {
    "interpolate": "interpolation.gif",
    "style_mix": "style_mix.png",
    "class_grid": "class_grid.png",
    "translate": "translated.png",
}


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list: {text}") from exc


def _layers(text: str):
    if text in ("coarse", "middle", "fine", "all"):
        return text
    return _seeds(text)


def add_playground_flags(parser: argparse.ArgumentParser) -> None:
    """Add the interpolation, style-mixing, class-grid and translation flags."""
    group = parser.add_argument_group("playground (one at a time)")
    modes = group.add_mutually_exclusive_group()
    modes.add_argument(
        "--interpolate",
        nargs="*",
        type=int,
        metavar="SEED",
        help="animate from seed A to seed B (default 0 1)",
    )
    modes.add_argument(
        "--style-mix", action="store_true", help="style-mixing grid (StyleGAN2)"
    )
    modes.add_argument(
        "--class-grid",
        action="store_true",
        help="one row per class (conditional models)",
    )
    modes.add_argument(
        "--translate", metavar="IMAGE", help="translate an image (CycleGAN)"
    )
    group.add_argument(
        "--frames", type=int, default=16, help="interpolation frames (default 16)"
    )
    group.add_argument(
        "--space",
        default="auto",
        choices=("auto", "w", "z"),
        help="interpolate linearly in W or spherically in Z",
    )
    group.add_argument("--fps", type=float, default=12.0, help="animation speed")
    group.add_argument(
        "--rows",
        type=_seeds,
        default=[0, 1, 2, 3],
        help="style-mix row seeds (default 0,1,2,3)",
    )
    group.add_argument(
        "--cols",
        type=_seeds,
        default=[4, 5, 6, 7],
        help="style-mix column seeds (default 4,5,6,7)",
    )
    group.add_argument(
        "--layers",
        type=_layers,
        default=None,
        help="coarse, middle, fine, all or w indices like 0,1,2 "
        "(taken from the columns, default middle; what an edit moves, default all)",
    )
    group.add_argument(
        "--per-class",
        type=int,
        default=8,
        help="class-grid samples per class (default 8)",
    )
    group.add_argument(
        "--direction",
        default=None,
        help="translation direction AtoB or BtoA (default AtoB); with --alpha, "
        "the index of a latent direction",
    )
    group.add_argument(
        "--tile",
        action="store_true",
        help="translate at full size in model-sized tiles",
    )


def playground_mode(args: argparse.Namespace) -> str | None:
    """The requested playground call, or None for a plain sample grid."""
    if args.interpolate is not None:
        return "interpolate"
    for mode in ("style_mix", "class_grid"):
        if getattr(args, mode):
            return mode
    return "translate" if args.translate is not None else None


def run_playground(handle, args: argparse.Namespace) -> Path | None:
    """Do the requested playground call and write its file; None when no
    playground flag was given (the caller draws a plain grid)."""
    mode = playground_mode(args)
    if args.direction is not None and mode != "translate":
        raise ValueError("--direction goes with --translate IMAGE")
    if mode is None:
        if is_translator(handle):
            raise UnsupportedSampling(
                f"{handle.family} translates images: use --translate IMAGE "
                "[--direction AtoB|BtoA]"
            )
        return None
    if is_translator(handle) and args.truncation != 1.0:
        raise UnsupportedSampling(f"--truncation: {handle.family} has no latent space")
    flag = "--" + mode.replace("_", "-")
    out = Path(args.out or DEFAULT_OUT[mode])
    try:
        return _RUNNERS[mode](handle, args, out)
    except UnsupportedSampling as exc:
        raise UnsupportedSampling(f"{flag}: {exc}") from exc


def _interpolate(handle, args, out: Path) -> Path:
    seeds = args.interpolate or [0, 1]
    if len(seeds) != 2:
        raise ValueError("--interpolate takes two seeds (or none for 0 1)")
    frames = handle.interpolate(
        seeds[0],
        seeds[1],
        steps=args.frames,
        space=args.space,
        truncation_psi=args.truncation,
        label=args.label,
    )
    if out.suffix.lower() not in (".gif", ".webp"):
        raise ValueError(f"--interpolate writes .gif or .webp, not {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    return save_animation(frames, out, fps=args.fps)


def _style_mix(handle, args, out: Path) -> Path:
    grid = handle.style_mix(
        args.rows,
        args.cols,
        args.layers or "middle",
        truncation_psi=args.truncation,
        label=args.label,
    )
    return _save(grid.image(), out)


def _class_grid(handle, args, out: Path) -> Path:
    from gan_core.sampling import grid_image

    images = handle.class_grid(
        args.per_class, seed=args.seed, truncation_psi=args.truncation
    )
    return _save(grid_image(images, nrow=args.per_class), out)


def _translate(handle, args, out: Path) -> Path:
    mode = "tile" if args.tile else "resize"
    if args.direction not in (None, *DIRECTIONS):
        raise ValueError(f"--direction must be AtoB or BtoA (got {args.direction})")
    image = handle.translate(args.translate, args.direction or "AtoB", mode=mode)
    return _save(image, out)


def _save(image, out: Path) -> Path:
    """Write a PIL image atomically (temp name, then rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    image.save(
        tmp, format=(out.suffix.lstrip(".") or "png").upper().replace("JPG", "JPEG")
    )
    tmp.replace(out)
    return out


_RUNNERS = {
    "interpolate": _interpolate,
    "style_mix": _style_mix,
    "class_grid": _class_grid,
    "translate": _translate,
}
