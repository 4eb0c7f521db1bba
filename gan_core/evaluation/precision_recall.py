"""Improved precision and recall (Kynkaanniemi et al. 2019) over features.

Each set's manifold is the union of balls around its points, each ball's radius
the distance to that point's k-th nearest neighbour in its own set (section 3,
eq. 1-2; k = 3 as the paper uses). Precision is the share of generated points
inside the real manifold (are the samples realistic?); recall the share of real
points inside the generated manifold (is the data's variety covered?).

Distances are computed in row batches of at most ``BATCH_ELEMENTS`` pairs, so
memory stays bounded for any n (the reference code batches the same way).
Distances are exact differences, not the |a|^2 + |b|^2 - 2ab shortcut, so a set
measured against itself gives exactly 1 and 1 (each point is at distance 0 from
its copy). The paper measures 50,000 samples in VGG-16 features; we measure
fewer in the spaces feature_spaces.py offers, so figures are comparable only
at one n and in one space, and every result carries both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

K = 3  # Kynkaanniemi et al. 2019, section 3: k = 3 throughout.
BATCH_ELEMENTS = 1 << 22  # distance entries per batch: 32 MiB of float64.


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float
    recall: float
    k: int
    n_real: int
    n_fake: int

    def to_dict(self) -> dict:
        return asdict(self)


def _rows_per_batch(n_columns: int) -> int:
    return max(1, BATCH_ELEMENTS // max(1, n_columns))


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact Euclidean distances [len(a), len(b)] (0 for identical rows)."""
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def knn_radii(features: torch.Tensor, k: int = K) -> torch.Tensor:
    """Distance from each row of ``features`` [N, D] to its k-th nearest other
    row, float64 [N]. Needs N > k."""
    x = torch.as_tensor(features).double()
    if x.dim() != 2 or len(x) <= k:
        raise ValueError(f"k-NN radii need more than k={k} points, got {len(x)}")
    step = _rows_per_batch(len(x))
    radii = []
    for start in range(0, len(x), step):
        d = _distances(x[start : start + step], x)
        # The k+1-th smallest: the smallest is the point itself, at 0.
        radii.append(d.kthvalue(k + 1, dim=1).values)
    return torch.cat(radii)


def manifold_share(
    query: torch.Tensor, points: torch.Tensor, radii: torch.Tensor
) -> float:
    """Share of ``query`` rows within radii[j] of some points[j] (eq. 1)."""
    q, p = torch.as_tensor(query).double(), torch.as_tensor(points).double()
    inside = 0
    step = _rows_per_batch(len(p))
    for start in range(0, len(q), step):
        d = _distances(q[start : start + step], p)
        inside += int((d <= radii[None, :]).any(dim=1).sum())
    return inside / len(q)


def precision_recall(
    real: torch.Tensor, fake: torch.Tensor, k: int = K
) -> PrecisionRecall:
    """Precision and recall of generated features ``fake`` [M, D] against real
    features ``real`` [N, D] (eq. 2). Raises ValueError for sets of k points or
    fewer, mismatched widths, or non-finite features."""
    from gan_core.evaluation.features import check_finite

    real, fake = torch.as_tensor(real), torch.as_tensor(fake)
    check_finite(real, "real"), check_finite(fake, "generated")
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"features must be [N, D] of one width, got {tuple(real.shape)} "
            f"and {tuple(fake.shape)}"
        )
    precision = manifold_share(fake, real, knn_radii(real, k))
    recall = manifold_share(real, fake, knn_radii(fake, k))
    return PrecisionRecall(precision, recall, k, len(real), len(fake))
