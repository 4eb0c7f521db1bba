"""Latent projection: the latent whose image is closest to a given image.

Gradient descent on the latent with the generator frozen (Karras et al. 2020,
StyleGAN2 section 5 projects into W the same way): StyleGAN2 searches W,
starting from the tracked mean w (one w for every layer); the other families
search Z, starting from a seeded draw and kept near the sphere where the prior
puts its mass. The distance is pixel MSE plus the same at half and quarter
resolution, which weighs the overall shapes and colours more than the finest
detail. A label (conditional models) is fixed, not searched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from gan_core.sampling_advanced import _image_tensor, is_style, is_translator


@dataclass
class Projection:
    space: str  # "w" or "z"
    latent: torch.Tensor  # [1, w_dim] or [1, z_dim], on the CPU
    image: torch.Tensor  # [C, H, W] in [-1, 1], on the CPU
    target: torch.Tensor  # the image projected, at the model's size
    losses: list[float]  # the distance after each step


def image_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pixel MSE at full, half and quarter resolution, summed ([N] per image)."""
    total = torch.zeros(a.shape[0], device=a.device)
    for level in range(3):
        if level:
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
        total = total + (a - b).pow(2).flatten(1).mean(1)
    return total


def render(handle, space: str, latent: torch.Tensor, labels) -> torch.Tensor:
    """The generator's image of ``latent`` in ``space``, differentiably."""
    G = handle.net
    if space == "w":
        return G.synthesis(
            latent.unsqueeze(1).expand(-1, G.num_ws, -1), noise_mode="const"
        )
    return handle.generate(G, latent, labels)


def project(
    handle,
    image,  # PIL image, path, or tensor [C, H, W] in [-1, 1]
    *,
    steps: int = 200,
    lr: float = 0.05,
    seed: int = 0,
    label=None,  # class index or name, for conditional models
    on_step: Callable[[int, float], None] | None = None,
    features: Callable[[torch.Tensor], torch.Tensor] | None = None,
    feature_weight: float = 1.0,
) -> Projection:
    """Find the latent whose image is closest to ``image``; see the module.

    ``features`` (differentiable, e.g. ``classifier_features``) adds a feature
    distance, weighted by ``feature_weight``, to the pixel one: what the
    image shows matters, not only where its pixels are."""
    if is_translator(handle):
        raise ValueError(f"{handle.family} translates images: it has no latent")
    if handle.kind == "points":
        raise ValueError("a model of 2D points has no image to project onto")
    target = _image_tensor(image, handle.channels).to(handle.device)
    size = handle.image_size
    if target.shape[-2:] != (size, size):
        target = F.interpolate(
            target, size=(size, size), mode="bilinear", antialias=True
        )
    labels = None
    if handle.conditional:
        index = handle.label_index(0 if label is None else label)
        labels = torch.tensor([index], device=handle.device)
    space = "w" if is_style(handle) else "z"
    if space == "w":
        start = handle.net.mapping.w_avg.detach().clone().unsqueeze(0)
    else:
        start = handle.latents(1, seed).to(handle.device)
    latent = start.requires_grad_(True)
    optimizer = torch.optim.Adam([latent], lr=lr)
    handle.net.requires_grad_(False)  # only the latent moves
    losses = []
    wanted = features(target).detach() if features is not None else None
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        drawn = render(handle, space, latent, labels)
        distance = image_distance(drawn, target).sum()
        if wanted is not None:
            apart = (features(drawn) - wanted).pow(2).mean()
            distance = distance + feature_weight * apart
        loss = distance
        if space == "z":  # stay where the prior has its mass
            loss = loss + 1e-3 * (latent.pow(2).mean() - 1).pow(2)
        loss.backward()
        optimizer.step()
        losses.append(float(distance.detach()))
        if on_step is not None:
            on_step(step + 1, losses[-1])
    with torch.no_grad():
        final = render(handle, space, latent, labels)
    return Projection(
        space=space,
        latent=latent.detach().cpu(),
        image=final[0].float().cpu(),
        target=target[0].float().cpu(),
        losses=losses,
    )


def classifier_features(dataset: str = "digits", device: str = "cpu"):
    """A differentiable feature map from this project's digit classifier
    (gan_core.evaluation.classifier): penultimate activations, scaled to unit
    size on average. Trains the classifier on first use if it is not cached."""
    from gan_core.evaluation.classifier import get_classifier, resize

    classifier = get_classifier(dataset, device=device)
    classifier.net.requires_grad_(False)
    classifier.net.eval()

    def features(images: torch.Tensor) -> torch.Tensor:
        x = images.mean(1, keepdim=True) if images.shape[1] == 3 else images
        x = resize(x.clamp(-1, 1), classifier.input_size)
        feats, _ = classifier.net(x.to(classifier.device).float())
        return feats / (feats.detach().norm(dim=1, keepdim=True).mean() + 1e-8)

    return features
