"""``python -m gan_core directions`` and the edit flags of ``sample``.

``directions --checkpoint F --k 20 --out dirs.pt`` computes the PCA directions
(gan_core.directions), caches them beside the checkpoint and writes them to
``--out``, printing each component's explained variance.

``sample --checkpoint F --seed S --direction I --alpha A [--layers coarse]
--out img.png`` draws seed S moved alpha standard deviations along component
I; ``--alpha-range LO HI [--frames N]`` draws a strip of N images from LO to
HI instead. ``--directions dirs.pt`` uses a saved file, otherwise the cache
(computed on first use). Bad values raise ValueError, which the CLI prints as
one line with exit code 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_core import directions as D
from gan_core.sampling_advanced import UnsupportedSampling, is_style


def add_directions_parser(sub) -> None:
    """The ``directions`` subcommand."""
    parser = sub.add_parser("directions", help="PCA latent directions (GANSpace)")
    parser.add_argument("--checkpoint", required=True, help="a .pt checkpoint")
    parser.add_argument("--k", type=int, default=D.DEFAULT_K, help="components")
    parser.add_argument(
        "--samples",
        type=int,
        default=D.DEFAULT_SAMPLES,
        help=f"latents sampled (default {D.DEFAULT_SAMPLES})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of those samples")
    parser.add_argument("--out", required=True, help="where to write the .pt")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda, ...")


def add_edit_flags(parser: argparse.ArgumentParser) -> None:
    """``--alpha``, ``--alpha-range`` and ``--directions`` on ``sample`` (the
    component comes from ``--direction I``, shared with --translate)."""
    group = parser.add_argument_group("latent edits (with --direction INDEX)")
    amount = group.add_mutually_exclusive_group()
    amount.add_argument(
        "--alpha",
        type=float,
        default=None,
        help=f"standard deviations along the component (|alpha| <= {D.MAX_ALPHA:g})",
    )
    amount.add_argument(
        "--alpha-range",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        default=None,
        help="a strip of --frames images from alpha LO to HI",
    )
    group.add_argument(
        "--directions",
        default=None,
        metavar="FILE",
        help="directions saved by `directions` (default: the checkpoint's cache)",
    )


def cmd_directions(args: argparse.Namespace) -> int:
    from gan_core.sampling import load_generator

    if args.k < 1:
        raise ValueError("--k must be at least 1")
    if args.samples < 2:
        raise ValueError("--samples must be at least 2")
    handle = load_generator(Path(args.checkpoint), device=args.device)
    dirs, cached = D.directions_for(
        Path(args.checkpoint), handle, k=args.k, n=args.samples, seed=args.seed
    )
    out = dirs.save(Path(args.out))
    source = "cache" if cached else f"{dirs.samples} samples"
    print(f"{dirs.k} directions in {dirs.space} (PCA of {dirs.feature}, {source})")
    for i, (ratio, sigma) in enumerate(zip(dirs.explained, dirs.sigma, strict=True)):
        print(f"  {i:2d}  {100 * float(ratio):6.2f}% of variance  sigma {sigma:.4f}")
    print(out)
    return 0


def edit_requested(args: argparse.Namespace) -> bool:
    """Whether ``sample`` was asked for an edit (--alpha / --alpha-range, or a
    --direction that is a component index)."""
    if args.alpha is not None or args.alpha_range is not None:
        return True
    return args.direction is not None and str(args.direction).lstrip("-").isdigit()


def run_edit(handle, args: argparse.Namespace) -> Path:
    """Draw the requested edit (or strip) and write it to ``--out``."""
    from gan_core.sampling import grid_image, save_grid
    from gan_core.sampling_cli import _save, playground_mode

    if playground_mode(args) is not None:
        raise ValueError("an edit (--direction INDEX --alpha A) goes alone")
    if args.direction is None or not str(args.direction).lstrip("-").isdigit():
        raise ValueError("--alpha needs --direction INDEX (a component number)")
    if args.alpha is None and args.alpha_range is None:
        raise ValueError("--direction INDEX needs --alpha A or --alpha-range LO HI")
    if args.out is None:
        raise ValueError("sample: the following arguments are required: --out")
    index = int(args.direction)
    layers = args.layers  # parsed by sampling_cli's --layers
    if layers is not None and not is_style(handle):
        raise UnsupportedSampling(
            f"--layers: {handle.family} has no per-layer styles (needs stylegan2)"
        )
    if args.directions:
        dirs = D.load_directions(Path(args.directions))
    else:
        dirs, _ = D.directions_for(Path(args.checkpoint), handle)
    kwargs = {
        "seed": args.seed,
        "layers": layers,
        "truncation_psi": args.truncation,
        "label": args.label,
    }
    if args.alpha_range is not None:
        lo, hi = args.alpha_range
        images = D.alpha_strip(handle, dirs, index, lo, hi, args.frames, **kwargs)
        return save_grid(images, Path(args.out), nrow=len(images))
    image = D.edited_image(handle, dirs, {index: D.check_alpha(args.alpha)}, **kwargs)
    return _save(grid_image(image.unsqueeze(0), nrow=1, padding=0), Path(args.out))
