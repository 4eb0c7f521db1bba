"""Images read from a training cache on demand, for sets larger than RAM."""

from __future__ import annotations

import numpy as np
import torch

from gan_core.data.cache import CacheFile


class StreamedImages:
    """uint8 (N, C, H, W) rows of one array of a cache, read when indexed.

    Indexing reads only the rows asked for (pread, in file order), so the
    resident size does not grow with the dataset.
    """

    dtype = torch.uint8

    def __init__(self, cache: CacheFile, name: str):
        self.cache, self.name = cache, name
        self.shape = (cache.count(name), *cache.row_shape)
        self.nbytes = cache.nbytes(name)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, indices) -> torch.Tensor:
        idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1).numpy()
        if ((idx < 0) | (idx >= len(self))).any():
            raise IndexError(f"row out of range for {len(self)} images")
        return torch.from_numpy(self.cache.read_rows(self.name, idx))

    def load(self) -> torch.Tensor:
        """Every row in memory (uint8)."""
        return torch.from_numpy(self.cache.read_all(self.name))

    def load_to(self, device: torch.device, rows: int = 1024) -> torch.Tensor:
        """Every row on ``device``, moved in chunks (never all in host memory)."""
        out = torch.empty(self.shape, dtype=torch.uint8, device=device)
        for start in range(0, len(self), rows):
            idx = np.arange(start, min(start + rows, len(self)))
            out[start : start + len(idx)] = self[idx].to(device)
        return out
