"""History of generated images for the discriminator (Shrivastava et al. 2017).

CycleGAN (Zhu 2017, section 4) updates its discriminators with a buffer of the 50
most recently generated images instead of only the latest batch, which damps
oscillation. Until the pool is full every image is stored and returned; after
that each image is, with probability one half, swapped for a random stored one
(which is returned) or returned as it is.
"""

from __future__ import annotations

import torch


class HistoryPool:
    """Pool of up to ``size`` generated images; size 0 disables it."""

    def __init__(self, size: int = 50, generator: torch.Generator | None = None):
        self.size = size
        self.images: list[torch.Tensor] = []
        self.generator = generator  # Seeded generator for reproducible draws.

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch like ``images`` [N, C, H, W], mixing in stored images.

        Stores detached copies; the returned batch carries no gradient.
        """
        images = images.detach()
        if self.size <= 0:
            return images
        out = []
        for img in images:
            img = img.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
                continue
            coin, pick = torch.rand(2, generator=self.generator).tolist()
            if coin < 0.5:
                i = min(int(pick * self.size), self.size - 1)
                out.append(self.images[i].clone())
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.cat(out, dim=0)

    def state_dict(self) -> dict:
        """Stored images as one tensor (empty when the pool is empty)."""
        stack = torch.cat(self.images, 0) if self.images else torch.empty(0)
        return {"size": self.size, "images": stack}

    def load_state_dict(self, state: dict) -> None:
        """Restore images saved by ``state_dict``."""
        self.size = int(state["size"])
        images = state["images"]
        self.images = [images[i : i + 1].clone() for i in range(images.shape[0])]
