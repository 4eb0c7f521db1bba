"""Augmentation value of a conditional generator, measured on real images.

A small classifier (classifier.DigitNet, trained from scratch) is trained
three times, for the same number of steps: on the real training images, on
synthetic images alone, and on both; each is scored on held-out real images.
The synthetic-alone accuracy is the Classification Accuracy Score (CAS,
Ravuri and Vinyals 2019, section 3): a generator whose class-conditional
samples carry what the classes look like scores close to the real-data
classifier; one that draws few modes or the wrong classes scores low.

The held-out images are the first ``test_per_class`` of each class in the
data's order (for builtin:digits the same split as the digit classifier's);
a generator trained on them has seen the test set, and the report says so.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import torch
from torch.nn import functional as F

from gan_core.data.builtin import resize
from gan_core.evaluation.classifier import DigitNet, _shift, accuracy_of

ARMS = ("real", "synthetic", "real+synthetic")


@dataclass(frozen=True)
class Recipe:
    """How each arm's classifier is trained (the digit classifier's numbers)."""

    steps: int = 400  # the same for every arm, whatever its size
    batch_size: int = 64
    lr: float = 2e-3
    shift: int = 1  # random translation (pixels), as the digit classifier
    width: int = 16


def held_out_split(images: torch.Tensor, labels: torch.Tensor, test_per_class: int):
    """(train x, train y, test x, test y): the first ``test_per_class`` of each
    class are held out."""
    test = torch.zeros(len(labels), dtype=torch.bool)
    for k in labels.unique():
        index = (labels == k).nonzero()[:, 0]
        if len(index) <= test_per_class:
            raise ValueError(
                f"class {int(k)} has {len(index)} images: too few to hold out "
                f"{test_per_class} and train on the rest"
            )
        test[index[:test_per_class]] = True
    return images[~test], labels[~test], images[test], labels[test]


def fit_score(
    x: torch.Tensor,  # [N, C, S, S] in [-1, 1], training images
    y: torch.Tensor,  # [N] class indices
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    num_classes: int,
    recipe: Recipe = Recipe(),
    seed: int = 0,
) -> float:
    """Train a fresh DigitNet on (x, y) for ``recipe.steps``; its accuracy on
    (x_test, y_test)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = DigitNet(recipe.width, num_classes=num_classes, in_channels=x.shape[1])
        opt = torch.optim.AdamW(net.parameters(), lr=recipe.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, recipe.lr, total_steps=recipe.steps
        )
        net.train()
        perm, cursor = torch.randperm(len(x), generator=gen), 0
        for _ in range(recipe.steps):
            if cursor + recipe.batch_size > len(perm):
                perm, cursor = torch.randperm(len(x), generator=gen), 0
            idx = perm[cursor : cursor + recipe.batch_size]
            cursor += recipe.batch_size
            batch = _shift(x[idx], recipe.shift, gen) if recipe.shift else x[idx]
            loss = F.cross_entropy(net(batch)[1], y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return accuracy_of(net, x_test, y_test)


def match_images(images: torch.Tensor, channels: int, size: int) -> torch.Tensor:
    """Generated images as the real ones are: ``channels`` and ``size`` px."""
    x = images.float().clamp(-1, 1)
    if x.shape[1] != channels:
        x = x.mean(1, keepdim=True) if channels == 1 else x.expand(-1, 3, -1, -1)
    return resize(x, size) if x.shape[-1] != size else x


def synthetic_set(
    handle,
    class_names: tuple[str, ...],
    per_class: int,
    channels: int,
    size: int,
    seed: int = 0,
    truncation: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, labels in ``class_names``' indices): per_class of each class."""
    if not handle.conditional:
        raise ValueError(
            f"{handle.family} is not conditional: augmentation needs labelled samples"
        )
    missing = [c for c in class_names if c not in handle.class_names]
    if missing:
        raise ValueError(
            f"the model has no class {missing[0]!r} of the real data "
            f"(its classes: {', '.join(handle.class_names)})"
        )
    xs, ys = [], []
    for real_index, name in enumerate(class_names):
        k = handle.class_names.index(name)
        for start in range(0, per_class, 500):
            m = min(500, per_class - start)
            out = handle.sample(m, seed=(seed * 1_009 + k) * 1_000_003 + start,
                                truncation_psi=truncation, labels=k)  # fmt: skip
            xs.append(match_images(out, channels, size))
            ys.append(torch.full((m,), real_index, dtype=torch.int64))
    return torch.cat(xs), torch.cat(ys)


def augmentation_value(
    handle,  # a conditional GeneratorHandle (gan_core.sampling)
    images: torch.Tensor,  # [N, C, S, S] real images in [-1, 1]
    labels: torch.Tensor,  # [N] their classes
    class_names: tuple[str, ...],
    *,
    test_per_class: int,
    per_class: int | None = None,  # synthetic images per class; None: as real
    seeds: tuple[int, ...] = (0,),
    truncation: float = 1.0,
    recipe: Recipe = Recipe(),
) -> dict:
    """Accuracy on held-out real images of classifiers trained on real,
    synthetic and real+synthetic images, per seed and summarised.

    Returns {"arms": {arm: {"accuracy": [per seed], "mean", "min", "max"}},
    "n_real", "n_synthetic", "n_test", ...}. Raises ValueError when the model
    is not conditional or lacks a class of the data.
    """
    x, y, x_test, y_test = held_out_split(images, labels, test_per_class)
    k = len(class_names)
    per_class = per_class or max(1, round(len(x) / k))
    channels, size = images.shape[1], images.shape[-1]
    started = time.perf_counter()
    scores: dict[str, list[float]] = {arm: [] for arm in ARMS}
    for seed in seeds:
        xs, ys = synthetic_set(handle, class_names, per_class, channels, size,
                               seed=seed, truncation=truncation)  # fmt: skip
        sets = {
            "real": (x, y),
            "synthetic": (xs, ys),
            "real+synthetic": (torch.cat([x, xs]), torch.cat([y, ys])),
        }
        for arm, (tx, ty) in sets.items():
            scores[arm].append(fit_score(tx, ty, x_test, y_test, k, recipe, seed))
    return {
        "family": handle.family,
        "step": handle.step,
        "arms": {arm: _summary(values) for arm, values in scores.items()},
        "seeds": list(seeds),
        "n_real": len(x),
        "n_synthetic": per_class * k,
        "n_test": len(x_test),
        "truncation": truncation,
        "recipe": asdict(recipe),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _summary(values: list[float]) -> dict:
    return {
        "accuracy": [round(v, 4) for v in values],
        "mean": round(statistics.fmean(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def format_augmentation(report: dict) -> str:
    """The report as a few lines of text."""
    lines = [
        f"augmentation value of {report['family']} step {report['step']}: "
        f"accuracy on {report['n_test']} held-out real images "
        f"({len(report['seeds'])} seed(s); {report['n_real']} real, "
        f"{report['n_synthetic']} synthetic training images)"
    ]
    for arm, s in report["arms"].items():
        label = "synthetic (CAS)" if arm == "synthetic" else arm
        spread = f" ({s['min']:.1%}-{s['max']:.1%})" if len(s["accuracy"]) > 1 else ""
        lines.append(f"  {label:<16} {s['mean']:.1%}{spread}")
    lines.extend(f"  note: {note}" for note in report.get("notes", []))
    return "\n".join(lines)


def evaluate_augmentation(
    path,
    *,
    data: str | None = None,
    per_class: int | None = None,
    seeds: tuple[int, ...] = (0,),
    truncation: float = 1.0,
    device: str = "cpu",
    recipe: Recipe = Recipe(),
    real=None,
) -> dict:
    """``augmentation_value`` of checkpoint ``path`` against its real data
    (``real`` when loaded already, else ``data``, else the built-in set its
    fingerprint names)."""
    from gan_core.checkpoint import load_checkpoint
    from gan_core.data.types import ImageData
    from gan_core.evaluation.classifier import RECIPES
    from gan_core.evaluation.cli import EvaluationError, real_data
    from gan_core.sampling import load_generator

    handle = load_generator(path, device=device)
    if not handle.conditional:
        raise EvaluationError(
            f"--augmentation: {handle.family} is not conditional (it draws no labels)"
        )
    fingerprint = load_checkpoint(path).get("data", {}).get("fingerprint", "")
    builtin = None
    if real is None:
        real, builtin = real_data(handle, fingerprint, data)
    if not isinstance(real, ImageData) or real.labels is None:
        raise EvaluationError(
            "--augmentation needs the labelled real images: pass --data (a folder "
            "of class folders or builtin:NAME)"
        )
    images = real.float_images()
    if builtin in RECIPES:
        test_per_class = RECIPES[builtin].test_per_class
    else:  # a fifth of the smallest class
        test_per_class = max(1, int(torch.bincount(real.labels).min()) // 5)
    try:
        report = augmentation_value(
            handle, images, real.labels, real.class_names,
            test_per_class=test_per_class, per_class=per_class, seeds=seeds,
            truncation=truncation, recipe=recipe,
        )  # fmt: skip
    except ValueError as exc:
        raise EvaluationError(f"--augmentation: {exc}") from exc
    report["data"] = f"builtin:{builtin}" if builtin else data
    report["notes"] = []
    if fingerprint and fingerprint == real.fingerprint:
        report["notes"].append(
            "the generator was trained on all of this data, held-out images "
            "included: the synthetic scores are optimistic"
        )
    return report
