"""``python -m gan_core evaluate``: the report that fits a checkpoint's data.

- 2D points with known modes (builtin:ring8, builtin:grid25): the VEEGAN /
  PacGAN mode report (points.py).
- Digit images (builtin:mnist, builtin:digits, or --data with --classifier):
  classifier-FID and classifier-KID against the real images (NOT Inception FID:
  never compare with published figures), conditional accuracy for conditional
  models, and the stacked-MNIST mode count with --stacked.
- Standard Inception FID/KID with --inception-weights FILE (the standard file;
  README, "Quality figures").

The real data is recognised from the dataset fingerprint stored in the
checkpoint (built-in sets have fingerprints computable without building them)
or given with --data. Errors are one line and exit code 2: they are raised as
EvaluationError (a ValueError), which gan_core.cli reports that way.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

from gan_core.evaluation.points import PROTOCOL_SAMPLES
from gan_core.evaluation.stacked import STACKED_PROTOCOL_SAMPLES

SAMPLE_CHUNK = 500  # Generated images per forward pass (bounds memory).
DIGIT_SETS = ("mnist", "digits")


class EvaluationError(ValueError):
    """The checkpoint cannot be evaluated as asked; a one-line reason."""


def add_evaluate_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``evaluate`` on the gan_core CLI's subparsers."""
    p = subparsers.add_parser(
        "evaluate",
        help="quality report of a checkpoint (mode coverage, classifier-FID, ...)",
        description="Mode coverage for 2D mixtures; classifier-FID/KID (not "
        "Inception FID), conditional accuracy and stacked-MNIST modes for digits.",
    )
    p.add_argument("--checkpoint", required=True, help="a .pt checkpoint")
    p.add_argument(
        "--n",
        type=int,
        default=None,
        help=f"samples to draw (default: {STACKED_PROTOCOL_SAMPLES:,} with --stacked, "
        f"as the protocol; else {PROTOCOL_SAMPLES:,}); compare figures at one n",
    )
    p.add_argument("--seed", type=int, default=0, help="noise seed of the samples")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--data",
        default=None,
        help="the real data (builtin:NAME, folder or .csv); default: recognised "
        "from the checkpoint's dataset fingerprint",
    )
    p.add_argument(
        "--classifier",
        choices=DIGIT_SETS,
        default=None,
        help="digit classifier for classifier-FID (default: the data's own)",
    )
    p.add_argument(
        "--stacked", action="store_true", help="count stacked-MNIST modes (RGB)"
    )
    p.add_argument(
        "--inception-weights",
        default=None,
        help="local FID Inception-v3 weights file: add standard FID/KID",
    )
    p.add_argument(
        "--rejection",
        type=float,
        default=None,
        metavar="PERCENTILE",
        help="2D points: keep samples by discriminator rejection sampling (Azadi "
        "et al. 2019) with gamma at this percentile of F (80 is usual; 0 keeps "
        "the most)",
    )
    p.add_argument(
        "--quality",
        action="store_true",
        help="add precision/recall (Kynkaanniemi et al. 2019) and, for class "
        "data, class agreement, in the feature space that suits the data",
    )
    p.add_argument(
        "--augmentation",
        action="store_true",
        help="conditional models: accuracy on held-out real images of a small "
        "classifier trained on real, synthetic (CAS, Ravuri and Vinyals 2019) "
        "and real+synthetic images; --n is synthetic images per class",
    )
    p.add_argument(
        "--seeds", type=int, default=1, help="--augmentation: seeds from --seed"
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, ... for sampling")
    p.set_defaults(func=cmd_evaluate)
    return p


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.augmentation:
        from gan_core.evaluation import augmentation as aug

        report = aug.evaluate_augmentation(
            Path(args.checkpoint),
            data=args.data,
            per_class=args.n,
            seeds=tuple(range(args.seed, args.seed + max(1, args.seeds))),
            device=args.device,
        )
        print(
            json.dumps(report, indent=2)
            if args.json
            else aug.format_augmentation(report)
        )
        return 0
    report = evaluate_checkpoint(
        Path(args.checkpoint),
        n=args.n,
        seed=args.seed,
        data=args.data,
        classifier=args.classifier,
        stacked=args.stacked,
        inception_weights=args.inception_weights,
        device=args.device,
        rejection=args.rejection,
        quality=args.quality,
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


# -- the report -----------------------------------------------------------------


def evaluate_checkpoint(
    path: Path,
    *,
    n: int | None = None,
    seed: int = 0,
    data: str | None = None,
    classifier: str | None = None,
    stacked: bool = False,
    inception_weights: str | None = None,
    device: str = "cpu",
    rejection: float | None = None,
    quality: bool = False,
    real=None,
    quality_options: dict | None = None,
) -> dict:
    """The evaluation report of checkpoint ``path`` as a JSON-ready dict.

    ``quality``: add the figures of quality.py (precision/recall, class
    agreement; Inception ones when ``quality_options`` name the weights);
    ``real``: the real data already loaded (an upload), instead of ``data``.

    ``rejection``: for 2D points, draw the samples by discriminator rejection
    sampling with gamma at that percentile (gan_core.rejection). ``n``: the
    samples to draw, by default the protocol's (``default_samples``). Raises
    EvaluationError (or CheckpointError / DataError) with one line.
    """
    from gan_core.checkpoint import load_checkpoint
    from gan_core.sampling import load_generator

    n = default_samples(stacked) if n is None else n
    if n < 2:
        raise EvaluationError(f"--n must be at least 2, got {n}")
    handle = load_generator(path, device=device)
    stored = load_checkpoint(path).get("data", {})  # the handle has no fingerprint
    if real is None:
        real, builtin = real_data(handle, stored.get("fingerprint", ""), data)
    else:
        builtin = None
    report = {
        "checkpoint": str(path),
        "family": handle.family,
        "step": handle.step,
        "data": f"builtin:{builtin}" if builtin else data,
        "n": n,
        "seed": seed,
    }
    if handle.kind in ("domains", "pairs"):
        raise EvaluationError(
            f"{handle.family} translates images: evaluate has no report "
            "for translation models yet"
        )
    if handle.kind == "points":
        report["modes"] = _points_report(handle, real, n, seed, path, rejection)
        return report
    if rejection is not None:
        raise EvaluationError("--rejection is for 2D points only")
    options = dict(quality_options or {}) if quality else None
    report.update(
        _image_report(
            handle,
            real,
            builtin,
            n,
            seed,
            classifier,
            stacked,
            inception_weights,
            options,
        )
    )
    return report


def default_samples(stacked: bool) -> int:
    """The protocol's sample count: 26,000 for stacked MNIST, else 2,500."""
    return STACKED_PROTOCOL_SAMPLES if stacked else PROTOCOL_SAMPLES


def real_data(handle, fingerprint: str, data: str | None):
    """(real dataset or None, built-in name or None) for the checkpoint.

    With ``data``, that dataset at the generator's size; else the built-in set
    whose fingerprint matches the one stored in the checkpoint.
    """
    from gan_core.data.builtin import BUILTIN_NAMES, builtin_fingerprint, load_builtin
    from gan_core.data.loading import BUILTIN_PREFIX, load_data

    size = handle.image_size or None
    channels = handle.channels or None
    if data is not None:
        name = data[len(BUILTIN_PREFIX) :] if data.startswith(BUILTIN_PREFIX) else None
        loaded = load_data(data, image_size=size or 32, channels=channels)
        return loaded, name
    for name in BUILTIN_NAMES:
        fp = builtin_fingerprint(name, image_size=size, channels=channels)
        if fingerprint and fp == fingerprint:
            return load_builtin(name, image_size=size, channels=channels), name
    return None, None


def _draw(handle, n: int, seed: int, labels: torch.Tensor | None) -> torch.Tensor:
    """n samples; in chunks for images (chunk i uses its own derived seed)."""
    if handle.kind == "points" or n <= SAMPLE_CHUNK:
        return handle.sample(n, seed=seed, labels=labels)
    out = []
    for i, start in enumerate(range(0, n, SAMPLE_CHUNK)):
        m = min(SAMPLE_CHUNK, n - start)
        part = None if labels is None else labels[start : start + m]
        out.append(handle.sample(m, seed=seed * 1_000_003 + i, labels=part))
    return torch.cat(out)


def _points_report(
    handle, real, n: int, seed: int, path: Path, rejection: float | None
) -> dict:
    from gan_core.data.types import PointData
    from gan_core.evaluation.points import mode_coverage
    from gan_core.rejection import (
        RejectionUnsupported,
        discriminator_logits,
        rejection_sample,
    )

    if not isinstance(real, PointData) or real.modes is None:
        raise EvaluationError(
            "mode coverage needs a mixture with known modes: the checkpoint's data "
            "is not builtin:ring8 or builtin:grid25 (pass --data builtin:NAME)"
        )
    if rejection is None:
        samples = _draw(handle, n, seed, None)
        return mode_coverage(samples, real.modes, real.std).to_dict()
    if not 0 <= rejection < 100:
        raise EvaluationError(f"--rejection must be in [0, 100), got {rejection}")
    try:
        logit = discriminator_logits(path, device=handle.device)
    except RejectionUnsupported as exc:
        raise EvaluationError(str(exc)) from exc
    samples, figures = rejection_sample(
        lambda m, s: handle.sample(m, seed=s), logit, n, seed, percentile=rejection
    )
    report = mode_coverage(samples, real.modes, real.std).to_dict()
    return {**report, "rejection": figures}


def _digit_classes(class_names: tuple[str, ...]) -> list[int] | None:
    """Class index -> digit when every class name is a digit, else None."""
    digits = [int(c) for c in class_names if c.isdigit() and len(c) == 1]
    return digits if class_names and len(digits) == len(class_names) else None


def _image_report(
    handle, real, builtin, n, seed, classifier, stacked, inception_weights, quality
) -> dict:
    from gan_core.data.types import ImageData

    if real is not None and not isinstance(real, ImageData):
        raise EvaluationError(f"the real data is {real.kind} data, not images")
    classifier = classifier or (builtin if builtin in DIGIT_SETS else None)
    if quality is not None and not quality.get("digit_classifier", True):
        classifier = None  # not trained here: the data's own net instead
    digit_of = _digit_classes(handle.class_names) if handle.conditional else None
    labels = None
    if handle.conditional:
        labels = torch.arange(n) % len(handle.class_names)
    fake = _draw(handle, n, seed, labels)
    out: dict = {}
    if classifier is not None and real is not None:
        out["classifier_fid"] = _feature_scores(real, fake, classifier, seed)
    if classifier is not None and digit_of is not None:
        out["conditional"] = _conditional(fake, labels, digit_of, classifier)
    if stacked:
        out["stacked_mnist"] = _stacked(fake)
    if inception_weights is not None:
        out["inception"] = _inception(real, fake, inception_weights, handle.device)
    if quality is not None and real is not None:
        out["quality"] = _quality(handle, real, builtin, fake, labels, seed, quality)
    if not out:
        raise EvaluationError(
            "nothing to report for this data: pass --quality, --classifier "
            "mnist|digits and --data (the real digit images), --stacked for RGB "
            "stacked digits, or --inception-weights FILE"
        )
    return out


def _quality(handle, real, builtin, fake, labels, seed: int, options: dict) -> dict:
    from gan_core.evaluation.quality import quality_figures

    try:
        return quality_figures(
            real,
            fake,
            builtin=builtin,
            asked=labels,
            class_names=tuple(handle.class_names or ()),
            seed=seed,
            device=handle.device,
            **options,
        )
    except ValueError as exc:  # non-finite features, too few images
        raise EvaluationError(str(exc)) from None


def _real_subset(real, n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(real), generator=gen)[: min(n, len(real))]
    from gan_core.data.types import as_float

    return as_float(real.images[pick])  # a folder's cache is uint8


def _feature_scores(real, fake, classifier: str, seed: int) -> dict:
    from gan_core.evaluation.fid import classifier_scores

    try:
        scores = classifier_scores(
            _real_subset(real, len(fake), seed), fake, classifier
        )
    except ValueError as exc:  # non-finite features, too few for KID
        raise EvaluationError(str(exc)) from None
    return scores.to_dict()


def _conditional(fake, labels, digit_of: list[int], classifier: str) -> dict:
    from gan_core.evaluation.conditional import per_class_accuracy

    asked = torch.tensor(digit_of)[labels]
    per_class = per_class_accuracy(fake, asked, classifier)
    hits = sum(per_class[d] * int((asked == d).sum()) for d in per_class)
    return {
        "class_accuracy": hits / len(asked),
        "per_class": {str(k): v for k, v in sorted(per_class.items())},
        "chance": 1 / len(digit_of),
        "classifier": classifier,
        "n": len(asked),
    }


def _stacked(fake) -> dict:
    from gan_core.evaluation.stacked import stacked_mnist_modes

    if fake.shape[1] != 3:
        raise EvaluationError("--stacked needs an RGB generator (3 stacked digits)")
    return stacked_mnist_modes(fake).to_dict()


def _inception(real, fake, weights: str, device) -> dict:
    from gan_core.evaluation.fid import InceptionUnavailable, inception_scores

    if real is None:
        raise EvaluationError("Inception FID needs the real images: pass --data")
    try:
        subset = _real_subset(real, len(fake), 0)
        return inception_scores(subset, fake, weights, device=device)
    except (InceptionUnavailable, ValueError) as exc:
        raise EvaluationError(str(exc)) from None


# -- text -------------------------------------------------------------------------


def _num(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return "inf"
    return f"{x:.{digits}f}"


def _kid_caveat(subset_size: int) -> str:
    from gan_core.evaluation.fid import KID_SUBSET_SIZE

    if subset_size >= KID_SUBSET_SIZE:
        return ""
    return f", fewer than the standard {KID_SUBSET_SIZE:,}: too few samples"


def format_report(report: dict) -> str:
    """The report as a few readable lines."""
    lines = [
        f"{report['family']} at step {report['step']} on {report['data'] or '?'}: "
        f"{report['n']} samples, seed {report['seed']}"
    ]
    if "modes" in report:
        m = report["modes"]
        lines.append(
            f"modes captured {m['modes_captured']}/{m['num_modes']}, high quality "
            f"{100 * m['high_quality_fraction']:.1f}%, KL(q||uniform) "
            f"{_num(m['kl_to_uniform'])}  (n={m['n_samples']}; VEEGAN/PacGAN "
            "protocol)"
        )
        if "rejection" in m:
            r = m["rejection"]
            lines.append(
                f"discriminator rejection sampling: kept {100 * r['acceptance']:.1f}% "
                f"of {r['drawn']} drawn (gamma at percentile {r['percentile']:g})"
            )
    if "classifier_fid" in report:
        s = report["classifier_fid"]
        n_pair = f"n={s['n_real']} real, {s['n_fake']} generated"
        lines.append(
            f"classifier-FID {s['classifier_fid']:.3f} ({n_pair}; "
            f"{s['classifier']} classifier features, 128-d; NOT Inception FID, "
            "never compare with published figures)"
        )
        lines.append(
            f"classifier-KID {s['classifier_kid']:.5f} +- "
            f"{s['classifier_kid_std']:.5f} ({n_pair}; {s['kid_subsets']} subsets "
            f"of {s['kid_subset_size']}{_kid_caveat(s['kid_subset_size'])}; "
            f"{s['classifier']} classifier features)"
        )
    if "conditional" in report:
        c = report["conditional"]
        lines.append(
            f"conditional accuracy {100 * c['class_accuracy']:.1f}% "
            f"(chance {100 * c['chance']:.0f}%; n={c['n']}, {c['classifier']} "
            "classifier)"
        )
    if "stacked_mnist" in report:
        s = report["stacked_mnist"]
        protocol = (
            "the protocol's n"
            if s["n_samples"] == STACKED_PROTOCOL_SAMPLES
            else f"the protocol uses {STACKED_PROTOCOL_SAMPLES:,}"
        )
        lines.append(
            f"stacked-MNIST modes {s['modes_covered']}/{s['of_modes']}, "
            f"KL(q||uniform) {_num(s['kl_to_uniform'])} (n={s['n_samples']}, "
            f"{protocol}; builtin:mnist classifier)"
        )
    if "inception" in report:
        i = report["inception"]
        n_pair = f"n={i['n_real']} real, {i['n_fake']} generated"
        lines.append(f"Inception FID {i['fid']:.2f} ({n_pair}; {i['features']})")
        lines.append(
            f"Inception KID {i['kid']:.5f} +- {i['kid_std']:.5f} ({n_pair}; "
            f"subsets of {i['kid_subset_size']}{_kid_caveat(i['kid_subset_size'])})"
        )
    for item in report.get("quality", {}).get("figures", []):
        lines.append(
            f"{item['metric'].replace('_', ' ')} {item['value']:.4g} "
            f"(n={item['n']}; {item['space_label']})"
        )
    lines += report.get("quality", {}).get("notes", [])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m gan_core.evaluation.cli``); gan_core.cli
    normally registers the subcommand instead."""
    from gan_core.cli import main as gan_core_main

    return gan_core_main(["evaluate", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
