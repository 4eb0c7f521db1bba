"""Dataset containers shared by the loaders, the trainer and evaluation.

Every loader decodes once into one of these, so the training loop indexes tensors
instead of decoding files on each step (data loading must never stall a step).
Images from a folder stay uint8 (from the training cache, gan_core.data.cache)
until they reach the device; built-in and synthetic sets are float already.
``as_float`` turns either into float32 in [-1, 1].
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

import torch


class ImageRows(Protocol):
    """Images read on demand (gan_core.data.streamed.StreamedImages)."""

    shape: tuple[int, ...]
    nbytes: int

    def __len__(self) -> int: ...

    def __getitem__(self, indices) -> torch.Tensor: ...

    def load(self) -> torch.Tensor: ...


def as_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1] (x / 127.5 - 1); float passes through."""
    if images.dtype == torch.uint8:
        return images.float().div_(127.5).sub_(1.0)
    return images


def tensor_fingerprint(*tensors: torch.Tensor | None) -> str:
    """A short content hash of tensors (shape, dtype and bytes)."""
    h = hashlib.sha256()
    for t in tensors:
        if t is None:
            h.update(b"none")
            continue
        t = t.detach().cpu().contiguous()
        h.update(f"{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class ImageData:
    """Images as one tensor, optionally labelled by class.

    images: (N, C, H, W), C is 1 (grayscale) or 3 (RGB): float32 in [-1, 1],
        uint8 (a folder's cache, in RAM), or ImageRows (streamed from the cache).
    labels: int64 (N,) class indices into ``class_names``, or None (unconditional).
    """

    images: torch.Tensor | ImageRows
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

    def float_images(self) -> torch.Tensor:
        """Every image as float32 in [-1, 1] (all in memory: for small uses)."""
        return as_float(_in_memory(self.images))


@dataclass(frozen=True)
class DomainData:
    """Two unpaired image domains for translation (CycleGAN): ``A/`` and ``B/``.

    a, b: (N_a, C, H, W) and (N_b, C, H, W), as ImageData.images.
    """

    a: torch.Tensor | ImageRows
    b: torch.Tensor | ImageRows
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
class PairData:
    """Paired images for translation (pix2pix): b[i] is the target of a[i].

    a, b: (N, C, H, W) each, the same N, as ImageData.images.
    """

    a: torch.Tensor | ImageRows
    b: torch.Tensor | ImageRows
    fingerprint: str = ""

    kind = "pairs"

    @property
    def channels(self) -> int:
        return int(self.a.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.a.shape[-1])

    def __len__(self) -> int:
        return int(self.a.shape[0])


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


Data = ImageData | DomainData | PairData | PointData


def _in_memory(images: torch.Tensor | ImageRows) -> torch.Tensor:
    return images if isinstance(images, torch.Tensor) else images.load()
