"""Features for FID/KID: each image through the extractor once, and a clear
error for non-finite features (a NaN image would otherwise surface as a
LinAlgError deep inside the matrix square root)."""

from __future__ import annotations

from collections.abc import Callable

import torch

CHUNK = 100  # Images per extractor call (bounds memory).


class NonFiniteFeatures(ValueError):
    """Features hold NaN or infinity: their images were not finite."""


def check_finite(features, name: str) -> None:
    """Raise NonFiniteFeatures when ``features`` [N, D] are not all finite."""
    x = torch.as_tensor(features)
    if x.numel() and not torch.isfinite(x).all():
        rows = int((~torch.isfinite(x)).flatten(1).any(1).sum()) if x.dim() > 1 else 1
        raise NonFiniteFeatures(
            f"{rows} of {len(x)} {name} samples give NaN or infinite features "
            "(their images are not finite: a diverged generator?); FID and KID "
            "cannot be computed"
        )


def features_once(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    extract: Callable[[torch.Tensor], torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """(real, generated) features [N, D], every image extracted exactly once,
    in chunks of ``CHUNK``."""

    def run(images: torch.Tensor) -> torch.Tensor:
        parts = [extract(images[i : i + CHUNK]) for i in range(0, len(images), CHUNK)]
        return torch.cat(parts)

    return run(real_images), run(fake_images)
