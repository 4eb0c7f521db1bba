"""Mode coverage on 2D Gaussian mixtures: the VEEGAN / PacGAN protocol.

VEEGAN (Srivastava et al. 2017, section 5.1) and PacGAN (Lin et al. 2018,
section 5.1, Table 1) draw 2,500 samples from the generator; a sample is of
high quality when it lies within 3 standard deviations of its nearest mode; a
mode is captured when it is the nearest mode of at least one high-quality
sample. PacGAN adds the "reverse KL" column, which we compute as

    KL(q || u) = sum_k q_k log(q_k / (1 / K))      (natural log)

where q is the histogram over the K modes of the high-quality samples (each
counted at its nearest mode), normalised to sum to 1, and u is uniform. This is
the *reverse* direction (the model's mode distribution first), with 0 log 0 = 0,
so a run that drops modes still gets a finite value (at most log K, when all
high-quality samples sit on one mode). The forward direction KL(u || q) would
be infinite for any missed mode, which PacGAN's Table 1 (finite KL for runs
that miss modes) rules out. With no high-quality sample q is undefined and we
report infinity.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

PROTOCOL_SAMPLES = 2500  # Samples per evaluation in VEEGAN and PacGAN.
QUALITY_STDS = 3.0  # High quality: within 3 std of the nearest mode.


class ModeReport(NamedTuple):
    """The protocol's figures; index 0 and 1 are captured modes and quality."""

    modes_captured: int
    high_quality_fraction: float
    kl_to_uniform: float  # KL(q || uniform) over modes, natural log; see above.
    per_mode_counts: tuple[int, ...]  # High-quality samples per mode.
    num_modes: int
    n_samples: int

    def to_dict(self) -> dict:
        d = self._asdict()
        d["per_mode_counts"] = list(self.per_mode_counts)
        if math.isinf(d["kl_to_uniform"]):
            d["kl_to_uniform"] = None  # JSON has no infinity
        return d


def kl_to_uniform(counts: torch.Tensor) -> float:
    """KL(q || uniform) of a histogram ``counts`` [K] (natural log; 0 log 0 = 0).

    Infinity when the histogram is empty.
    """
    counts = counts.double()
    total = counts.sum()
    if total <= 0:
        return math.inf
    q = counts / total
    nz = q > 0
    return float((q[nz] * torch.log(q[nz] * len(counts))).sum())


def mode_coverage(
    samples: torch.Tensor,  # [N, 2] generated points (the protocol uses 2,500).
    modes: torch.Tensor,  # [K, 2] the mixture's means.
    std: float,  # The mixture's per-mode standard deviation.
    quality_stds: float = QUALITY_STDS,
) -> ModeReport:
    """Modes captured, high-quality fraction and KL(q || uniform) of ``samples``.

    A sample is high quality when its Euclidean distance to its nearest mode is
    at most ``quality_stds * std``.
    """
    samples = torch.as_tensor(samples).detach().cpu().double()
    modes = torch.as_tensor(modes).detach().cpu().double()
    if samples.dim() != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(f"samples must be [N, {modes.shape[1]}], got {samples.shape}")
    if not torch.isfinite(samples).all():
        raise ValueError("samples contain NaN or infinite values")
    k = modes.shape[0]
    dist, nearest = torch.cdist(samples, modes).min(dim=1)
    good = dist <= quality_stds * std
    counts = torch.bincount(nearest[good], minlength=k)
    n = samples.shape[0]
    return ModeReport(
        modes_captured=int((counts > 0).sum()),
        high_quality_fraction=float(good.sum()) / n if n else 0.0,
        kl_to_uniform=kl_to_uniform(counts),
        per_mode_counts=tuple(int(c) for c in counts),
        num_modes=k,
        n_samples=n,
    )
