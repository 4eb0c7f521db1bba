"""In-memory dataset containers shared by the loaders, the trainer and evaluation.

Every loader decodes once into one of these, so the training loop indexes tensors
instead of decoding files on each step (data loading must never stall a step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class ImageData:
    """Images as one tensor, optionally labelled by class.

    images: float32 (N, C, H, W) in [-1, 1], C is 1 (grayscale) or 3 (RGB).
    labels: int64 (N,) class indices into ``class_names``, or None (unconditional).
    """

    images: torch.Tensor
    labels: torch.Tensor | None = None
    class_names: tuple[str, ...] = ()
    fingerprint: str = ""

    @property
    def kind(self) -> str:
        return "classes" if self.labels is not None else "images"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class DomainData:
    """Two unpaired image domains for translation (CycleGAN): ``A/`` and ``B/``.

    a, b: float32 (N_a, C, H, W) and (N_b, C, H, W) in [-1, 1].
    """

    a: torch.Tensor
    b: torch.Tensor
    fingerprint: str = ""

    kind = "domains"

    @property
    def channels(self) -> int:
        return int(self.a.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.a.shape[-1])

    def __len__(self) -> int:
        return int(max(self.a.shape[0], self.b.shape[0]))


@dataclass(frozen=True)
class PointData:
    """2D points, with the mixture's true modes when they are known.

    points: float32 (N, 2). modes: float32 (K, 2) or None. std: per-mode std.
    """

    points: torch.Tensor
    modes: torch.Tensor | None = None
    std: float = 0.0
    fingerprint: str = ""
    meta: dict = field(default_factory=dict)

    kind = "points"

    def __len__(self) -> int:
        return int(self.points.shape[0])


Data = ImageData | DomainData | PointData
