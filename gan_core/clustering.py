"""k-means for self-conditioning: split the training data into clusters that G
must each cover (Liu et al. 2020, "Diverse Image Generation via Self-Conditioned
GANs"). Seeded by its own generator so fitting never moves the training RNG."""

from __future__ import annotations

import torch

FIT_SAMPLE = 20_000  # Points k-means fits on; the shares count every point.
ITERATIONS = 50
CHUNK = 4096  # Rows per distance block, to bound memory on large image sets.


def nearest(features: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Index of each row's nearest centroid (squared Euclidean): int64 [N]."""
    out = []
    for block in features.split(CHUNK):
        out.append(torch.cdist(block.float(), centroids.float()).argmin(dim=1))
    return torch.cat(out) if out else torch.empty(0, dtype=torch.int64)


def _plus_plus_init(x: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """k-means++ seeding (Arthur and Vassilvitskii 2007): each next centre drawn
    with probability proportional to its squared distance from the chosen ones,
    so well-separated modes each get a centre."""
    centres = [x[torch.randint(x.shape[0], (1,), generator=gen)].squeeze(0)]
    closest = (x - centres[0]).square().sum(1)
    for _ in range(1, k):
        if float(closest.sum()) <= 0:  # fewer distinct points than k
            pick = torch.randint(x.shape[0], (1,), generator=gen)
        else:
            pick = torch.multinomial(closest, 1, generator=gen)
        centres.append(x[pick].squeeze(0))
        closest = torch.minimum(closest, (x - centres[-1]).square().sum(1))
    return torch.stack(centres)


def kmeans(features: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """k centroids of ``features`` [N, F] (Lloyd's algorithm after k-means++
    seeding, on a seeded sample of at most FIT_SAMPLE rows): float32 [k, F]."""
    gen = torch.Generator().manual_seed(int(seed))
    x = features.float()
    if x.shape[0] > FIT_SAMPLE:
        x = x[torch.randperm(x.shape[0], generator=gen)[:FIT_SAMPLE]]
    centroids = _plus_plus_init(x, k, gen)
    for _ in range(ITERATIONS):
        labels = nearest(x, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, labels, x)
        counts = torch.bincount(labels, minlength=k).unsqueeze(1)
        moved = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
        if torch.allclose(moved, centroids):
            break
        centroids = moved
    return centroids


def cluster_shares(labels: torch.Tensor, k: int) -> torch.Tensor:
    """The fraction of points in each of k clusters: float32 [k], sums to 1."""
    counts = torch.bincount(labels, minlength=k).float()
    return counts / counts.sum()
