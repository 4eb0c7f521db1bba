"""Discriminator rejection sampling turns the generator's density into the
one its discriminator's logit points at (gan_core.rejection)."""

import math

import pytest
import torch

from gan_core.rejection import acceptance, drs_scores, rejection_sample


def uniform(m: int, seed: int) -> torch.Tensor:
    """A 'generator' drawing uniformly on [0, 1]."""
    return torch.rand(m, generator=torch.Generator().manual_seed(seed))


def towards_linear(x: torch.Tensor) -> torch.Tensor:
    """The optimal logit, log(p_data / p_g), for p_data(x) = 2x on [0, 1]."""
    return torch.log(2 * x.clamp_min(1e-12))


def test_the_exact_rule_recovers_the_target_density():
    kept, figures = rejection_sample(
        uniform, towards_linear, 20_000, seed=3, percentile=None
    )
    # p_data(x) = 2x: mean 2/3 and P(x < 1/2) = 1/4, against 1/2 and 1/2 drawn.
    assert kept.mean().item() == pytest.approx(2 / 3, abs=0.01)
    assert (kept < 0.5).float().mean().item() == pytest.approx(0.25, abs=0.01)
    # exp(logit - M) keeps E[2x] / 2 = 1/2 of the draws.
    assert figures["acceptance"] == pytest.approx(0.5, abs=0.02)


def test_drs_shifts_acceptance_with_gamma_and_is_deterministic():
    loose, a = rejection_sample(uniform, towards_linear, 5000, seed=1, percentile=50)
    strict, b = rejection_sample(uniform, towards_linear, 5000, seed=1, percentile=95)
    again, _ = rejection_sample(uniform, towards_linear, 5000, seed=1, percentile=95)
    assert torch.equal(strict, again)
    assert b["acceptance"] < a["acceptance"] < 1
    assert strict.mean() > loose.mean() > 0.5  # both lean towards the target


def test_scores_follow_the_papers_formula():
    logits = torch.tensor([0.0, -1.0, -5.0])
    F = drs_scores(logits, max_logit=0.0)
    # F = l - M - log(1 - exp(l - M - eps)) for l - M = -1 and -5.
    assert F[1].item() == pytest.approx(-1 - math.log(1 - math.exp(-1 - 1e-6)))
    assert F[2].item() == pytest.approx(-5 - math.log(1 - math.exp(-5 - 1e-6)))
    assert F[0].item() > 10  # the largest logit is kept almost surely
    p = acceptance(logits, 0.0, gamma=float(F[1]))
    assert p[1].item() == pytest.approx(0.5) and p[0] > p[1] > p[2]


def test_a_discriminator_without_the_logistic_loss_is_refused(tmp_path, ring8_points):
    """A hinge D's output is no density ratio: say so rather than filter."""
    from gan_core.config import config_from_dict
    from gan_core.evaluation.cli import EvaluationError, evaluate_checkpoint
    from gan_core.trainer import train

    settings = {"loss": "hinge", "steps": 3, "batch_size": 64, "hidden": 16}
    settings.update(sample_every=100, checkpoint_every=100)
    train(
        config_from_dict("gan", settings),
        data=ring8_points,
        out_dir=tmp_path,
        device="cpu",
    )
    path = tmp_path / "checkpoints/latest.pt"
    with pytest.raises(EvaluationError, match="logistic loss"):
        evaluate_checkpoint(path, data="builtin:ring8", rejection=80)
    with pytest.raises(EvaluationError, match=r"\[0, 100\)"):
        evaluate_checkpoint(path, data="builtin:ring8", rejection=100)
    assert evaluate_checkpoint(path, data="builtin:ring8")["modes"]["n_samples"] == 2500
