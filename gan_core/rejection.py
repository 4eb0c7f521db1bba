"""Discriminator rejection sampling (DRS, Azadi et al. 2019).

A generator that maps one Gaussian onto a mixture of separated modes cannot
avoid drawing some points on the bridges between them. The trained
discriminator knows where those are: for the logistic (non-saturating) loss,
the optimal D's logit is log(p_data / p_g), so keeping a sample with
probability exp(logit - max logit) would turn p_g into p_data exactly.

With a D that is only approximately optimal, that exact rule keeps very few
samples. DRS (section 3.2 of the paper) keeps each sample with probability
sigmoid(F - gamma), where

    F = logit - M - log(1 - exp(logit - M - eps))

M is the largest logit seen (estimated from a burn-in pool, raised when a
larger one appears) and gamma shifts the acceptance: taking gamma at the
``percentile``-th percentile of F in the burn-in pool means that share of
samples is kept with probability under one half. ``percentile=None`` is the
exact rule. Only families trained with the logistic loss have a D whose logit
estimates the density ratio; for 2D points the recipe says how D sees a point.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

EPSILON = 1e-6  # Keeps log(1 - exp(.)) finite at the largest logit.
BURN_IN = 10_000  # Samples drawn to estimate M and gamma.
DEFAULT_PERCENTILE = 80.0


class RejectionUnsupported(ValueError):
    """The checkpoint has no discriminator whose logit is a density ratio."""


def drs_scores(logits: torch.Tensor, max_logit: float) -> torch.Tensor:
    """F(x) of the module's formula, float64, for logits [N]."""
    shifted = logits.double() - max_logit
    keep_finite = torch.clamp(torch.exp(shifted - EPSILON), max=1 - 1e-12)
    return shifted - torch.log1p(-keep_finite)


def acceptance(
    logits: torch.Tensor, max_logit: float, gamma: float | None
) -> torch.Tensor:
    """Probability of keeping each sample: exp(logit - M) when gamma is None
    (exact rejection sampling), else sigmoid(F - gamma)."""
    if gamma is None:
        return torch.exp(torch.clamp(logits.double() - max_logit, max=0.0))
    return torch.sigmoid(drs_scores(logits, max_logit) - gamma)


def rejection_sample(
    draw: Callable[[int, int], torch.Tensor],
    logit: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    seed: int = 0,
    percentile: float | None = DEFAULT_PERCENTILE,
    chunk: int = BURN_IN,
    max_rounds: int = 1000,
) -> tuple[torch.Tensor, dict]:
    """``n`` samples kept by DRS, and figures about the run.

    draw(m, seed) gives m generator samples (the same seed gives the same
    ones); logit(x) gives D's logits [m]. Deterministic for a seed. Raises
    RuntimeError when ``max_rounds`` chunks keep fewer than ``n``.
    """
    burn_in = draw(chunk, seed)
    logits = logit(burn_in).reshape(-1).double()
    max_logit = float(logits.max())
    gamma = None
    if percentile is not None:
        scores = drs_scores(logits, max_logit)
        gamma = float(torch.quantile(scores, percentile / 100.0))
    coins = torch.Generator().manual_seed(int(seed) + 7919)
    kept, drawn, pending = [], 0, (burn_in, logits)
    for round_index in range(1, max_rounds + 1):
        samples, logits = pending
        max_logit = max(max_logit, float(logits.max()))
        keep = torch.rand(len(logits), generator=coins, dtype=torch.float64)
        keep = keep < acceptance(logits, max_logit, gamma)
        kept.append(samples[keep])
        drawn += len(samples)
        total = sum(len(k) for k in kept)
        if total >= n:
            out = torch.cat(kept)[:n]
            return out, {
                "acceptance": total / drawn,
                "drawn": drawn,
                "percentile": percentile,
                "max_logit": max_logit,
            }
        batch = draw(chunk, int(seed) * 1_000_003 + round_index)
        pending = (batch, logit(batch).reshape(-1).double())
    raise RuntimeError(f"rejection sampling kept fewer than {n} samples")


def discriminator_logits(
    path: Path, device="cpu"
) -> Callable[[torch.Tensor], torch.Tensor]:
    """D's logit for 2D points from checkpoint ``path`` (families trained with
    the logistic loss). Raises RejectionUnsupported otherwise."""
    from gan_core.checkpoint import load_checkpoint
    from gan_core.devices import resolve_device
    from gan_core.sampling import rebuild_recipe

    payload = load_checkpoint(path)
    family, config, info, recipe = rebuild_recipe(payload, path)
    if getattr(config, "loss", None) != "ns":
        raise RejectionUnsupported(
            f"{family.name} with loss {getattr(config, 'loss', 'its own')}: rejection "
            "sampling needs a discriminator trained with the logistic loss (gan, ns)"
        )
    torch_device = resolve_device(str(device))
    if recipe.discriminate is None or "D" not in payload.get("nets", {}):
        raise RejectionUnsupported(
            f"{family.name} on {info.kind}: rejection sampling is for 2D points"
        )
    D = recipe.nets["D"]
    D.load_state_dict(payload["nets"]["D"])
    D.to(torch_device).eval()

    @torch.no_grad()
    def logit(x: torch.Tensor) -> torch.Tensor:
        return recipe.discriminate(x.to(torch_device)).float().cpu()

    return logit
