"""Quality figures of generated images on any image data, each with its sample
count and feature space: what the checkpoint timeline shows.

- Precision and recall (precision_recall.py) in one feature space, picked by
  the data: the digit classifier for builtin:mnist and builtin:digits (trained
  on the real digits, so its features are what a digit looks like); else
  Inception-v3 when the standard weights are configured (the space of
  published FID); else a small net trained on this dataset (dataset_net.py,
  which says why that space is meaningful and where it is weak).
- Class agreement for class data: the share of samples that a classifier
  trained on the real set labels as the class they were asked for (the digit
  classifier for digit classes, else the dataset's label net). Chance is 1/K.
- Inception FID and KID when the weights are configured (inception.py for
  the network, fid.py for the distances), in their own columns
  ("Inception FID (pool3, n=...)"). KID needs ``kid_subset_size`` samples a
  set (1,000 by default, as Binkowski et al. 2018); with fewer it is left out
  with a note, never measured on silently shrunk subsets.

A figure is a dict with ``metric``, ``value``, ``n``, ``space`` (a stable key),
``space_label`` (words) and ``column`` (metric, space and n together): figures
with another space or another n have another column and are never compared.
Real and generated sets have the same size n (the real set's size caps it),
as k-NN radii depend on the density of a set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from gan_core.data.types import ImageData, as_float

DIGIT_SETS = ("mnist", "digits")


@dataclass(frozen=True)
class Space:
    key: str  # stable: figures in one space share a key
    label: str  # in words, for people
    extract: Callable[[torch.Tensor], torch.Tensor]  # images -> [N, D]
    about: dict = field(default_factory=dict)  # how good the space is


def figure(metric: str, value: float, n: int, space: Space, **extra) -> dict:
    """One figure with its n and feature space; ``column`` joins all three."""
    return {
        "metric": metric,
        "value": round(float(value), 4),
        "n": int(n),
        "space": space.key,
        "space_label": space.label,
        "column": f"{metric} | {space.key} | n={n}",
        **space.about,
        **extra,
    }


def digit_space(name: str) -> Space:
    from gan_core.evaluation.classifier import get_classifier

    model = get_classifier(name)
    return Space(
        f"{name}-classifier",
        f"the builtin:{name} digit classifier's features (128-d)",
        model.features,
        {"space_accuracy": round(model.test_accuracy, 4)},
    )


def dataset_space(real: ImageData) -> Space:
    from gan_core.evaluation.dataset_net import get_dataset_net

    net = get_dataset_net(real)
    return Space(
        f"dataset-{net.task}",
        net.label,
        net.features,
        {
            "space_accuracy": round(net.held_out_accuracy, 4),
            "space_chance": round(net.chance, 4),
        },
    )


def inception_space(weights: str, sha256: str, device="cpu") -> Space:
    """Inception-v3 on ``device`` (the generator's: a GPU worker's Inception
    runs on its GPU); its features come back to the CPU as float64."""
    from gan_core.evaluation.fid import INCEPTION_FEATURES, inception_extractor

    return Space(
        "inception-v3-pool3",
        INCEPTION_FEATURES,
        inception_extractor(weights, device, sha256),
    )


INCEPTION_NAMES = {"inception_fid": "Inception FID", "inception_kid": "Inception KID"}


def inception_figure(metric: str, value: float, n: int, space: Space, **extra):
    """An Inception figure; its column names the layer and n in words."""
    column = f"{INCEPTION_NAMES[metric]} (pool3, n={n})"
    return figure(metric, value, n, space, column=column, **extra)


def real_subset(real: ImageData, n: int, seed: int) -> torch.Tensor:
    """n real images (all when fewer), float in [-1, 1], a seeded pick."""
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(real), generator=gen)[: min(n, len(real))]
    return as_float(real.images[pick]).float()


def quality_figures(
    real: ImageData,
    fake: torch.Tensor,
    *,
    builtin: str | None = None,
    asked: torch.Tensor | None = None,
    class_names: tuple[str, ...] = (),
    inception_weights: str | None = None,
    inception_sha256: str | None = None,
    digit_classifier: bool = True,
    kid_subset_size: int | None = None,
    seed: int = 0,
    device="cpu",
) -> dict:
    """{"figures": [...], "notes": [...]} for generated images ``fake``
    [N, C, H, W] in [-1, 1] against ``real``.

    ``asked``: the class index each sample was drawn for (into ``class_names``)
    for conditional models. ``digit_classifier``: False keeps the digit
    classifier out (a server that has not trained it). ``kid_subset_size``:
    KID's subset size (None: the standard 1,000). ``device``: where Inception
    runs (the other feature nets are small and stay on the CPU). A figure
    that cannot be made becomes a one-line note; the others are still made.
    ``inception`` says whether Inception figures were measured and, if not,
    why (a note for the page, not for each figure).
    """
    from gan_core.evaluation.inception_weights import STANDARD_SHA256
    from gan_core.evaluation.precision_recall import precision_recall

    figures, notes = [], []
    n = min(len(fake), len(real))
    if n <= 3:
        return {"figures": [], "notes": [f"too few images to measure (n={n})"]}
    real_x, fake_x = real_subset(real, n, seed), fake[:n]
    sha = inception_sha256 or STANDARD_SHA256
    inception, status = None, {"configured": bool(inception_weights)}
    if inception_weights:
        try:
            inception = inception_space(inception_weights, sha, device)
        except Exception as exc:  # noqa: BLE001 - missing file, wrong digest
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            status["reason"] = reason or "the Inception weights could not be used"
            notes.append(f"no Inception figures: {status['reason']}")
    digits = builtin if builtin in DIGIT_SETS and digit_classifier else None
    space = digit_space(digits) if digits else inception or dataset_space(real)
    real_f, fake_f = space.extract(real_x), space.extract(fake_x)
    pr = precision_recall(real_f, fake_f)
    figures += [
        figure("precision", pr.precision, n, space, k=pr.k),
        figure("recall", pr.recall, n, space, k=pr.k),
    ]
    if inception is not None:
        figures += _inception_figures(
            real_x, fake_x, inception, space, real_f, fake_f, kid_subset_size, notes
        )
    status["measured"] = inception is not None
    if asked is not None:
        agreement = class_agreement_figure(real, fake, asked, class_names, digits)
        if agreement is None:
            notes.append("no class agreement: the real set has no class labels")
        else:
            figures.append(agreement)
    return {"figures": figures, "notes": notes, "inception": status}


def _inception_figures(
    real_x, fake_x, inception, space, real_f, fake_f, subset_size, notes
) -> list:
    from gan_core.evaluation.fid import (
        KID_SUBSET_SIZE,
        fid_from_features,
        kid_from_features,
    )

    if inception is not space:  # else the features are already Inception's
        real_f, fake_f = inception.extract(real_x), inception.extract(fake_x)
    n = len(real_f)
    fid = inception_figure(
        "inception_fid", fid_from_features(real_f, fake_f), n, inception
    )
    size = subset_size or KID_SUBSET_SIZE
    if n < size:
        notes.append(
            f"no Inception KID at n={n}: its subsets hold {size} samples of each "
            "set (Binkowski et al. 2018), and fewer would not be the same measure"
        )
        return [fid]
    kid = kid_from_features(real_f, fake_f, subset_size=size)
    extra = {"std": round(kid.std, 6), "subset_size": size, "subsets": kid.subsets}
    return [fid, inception_figure("inception_kid", kid.mean, n, inception, **extra)]


def class_agreement_figure(
    real: ImageData,
    fake: torch.Tensor,
    asked: torch.Tensor,
    class_names: tuple[str, ...],
    digits: str | None = None,
) -> dict | None:
    """The class-agreement figure, or None when no classifier of the real
    classes can be had (unlabelled real data)."""
    asked = torch.as_tensor(asked, dtype=torch.int64).reshape(-1)
    names = tuple(class_names)
    if digits and names and all(c.isdigit() and len(c) == 1 for c in names):
        space = digit_space(digits)
        from gan_core.evaluation.classifier import get_classifier

        predict = get_classifier(digits).predict
        target = torch.tensor([int(c) for c in names])[asked]
        chance = 1 / 10
    elif real.labels is not None and real.num_classes > 1:
        from gan_core.evaluation.dataset_net import get_dataset_net

        space = dataset_space(real)
        predict = get_dataset_net(real).predict
        target = _to_real_classes(asked, names, real.class_names)
        chance = 1 / real.num_classes
    else:
        return None
    value = class_agreement(fake, target, predict)
    return figure("class_agreement", value, len(asked), space, chance=round(chance, 4))


def class_agreement(
    images: torch.Tensor, target: torch.Tensor, predict: Callable
) -> float:
    """Share of ``images`` that ``predict`` labels as ``target`` [N]."""
    if len(images) != len(target) or len(images) == 0:
        raise ValueError(f"{len(images)} images but {len(target)} asked classes")
    return (predict(images) == target).float().mean().item()


def _to_real_classes(asked, names, real_names) -> torch.Tensor:
    """Generated class indices -> the real set's label indices, by class name
    (by position when either side has no names)."""
    if not names or not real_names:
        return asked
    where = {name: i for i, name in enumerate(real_names)}
    missing = [c for c in names if c not in where]
    if missing:
        raise ValueError(f"classes {missing[:3]} are not in the real data")
    return torch.tensor([where[c] for c in names])[asked]
