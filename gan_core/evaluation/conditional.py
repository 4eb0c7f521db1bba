"""Conditional accuracy: does a class-conditional generator draw what it is asked?

The share of samples that the digit classifier (classifier.py) labels as the
class they were generated for; chance is 1/10. It measures the conditioning,
not image quality; pair it with classifier-FID.
"""

from __future__ import annotations

import torch


def class_predictions(images: torch.Tensor, dataset: str = "mnist", device="cpu"):
    from gan_core.evaluation.classifier import get_classifier

    return get_classifier(dataset, device).predict(images)


def class_accuracy(
    images: torch.Tensor,  # [N, C, H, W] in [-1, 1], generated.
    asked_labels: torch.Tensor,  # [N] the digit each image was asked to show.
    dataset: str = "mnist",  # Whose classifier: "mnist" or "digits".
    device="cpu",
) -> float:
    """Share of ``images`` that the ``dataset`` classifier labels as asked."""
    asked = torch.as_tensor(asked_labels, dtype=torch.int64).reshape(-1).cpu()
    if len(asked) != len(images):
        raise ValueError(f"{len(images)} images but {len(asked)} asked labels")
    if len(asked) == 0:
        raise ValueError("class accuracy needs at least one image")
    predicted = class_predictions(images, dataset, device)
    return (predicted == asked).float().mean().item()


def per_class_accuracy(
    images: torch.Tensor,
    asked_labels: torch.Tensor,
    dataset: str = "mnist",
    device="cpu",
) -> dict[int, float]:
    """{asked digit: share labelled as that digit} for each asked digit."""
    asked = torch.as_tensor(asked_labels, dtype=torch.int64).reshape(-1).cpu()
    hit = class_predictions(images, dataset, device) == asked
    return {int(k): hit[asked == k].float().mean().item() for k in asked.unique()}
