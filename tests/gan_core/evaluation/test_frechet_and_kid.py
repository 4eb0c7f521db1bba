"""Frechet distance and KID: exact values where the maths gives them."""

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_core.evaluation.features import NonFiniteFeatures
from gan_core.evaluation.fid import (
    feature_stats,
    fid_from_features,
    frechet_distance,
    kid_from_features,
    kid_subset_size,
    polynomial_mmd2,
    scores_from_extractor,
)


def _gaussian(n=3000, d=16, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_identical_feature_sets_have_zero_distance():
    x = _gaussian()
    assert fid_from_features(x, x.clone()) == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("shift", [0.1, 0.5, 2.0])
def test_a_mean_shift_adds_shift_squared_times_dim(shift):
    x = _gaussian(d=16)
    assert fid_from_features(x, x + shift) == pytest.approx(shift**2 * 16, rel=1e-6)


def test_diagonal_covariances_give_the_closed_form():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 0.0, 2.0])
    expected = 5.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert got == pytest.approx(expected)


def test_non_commuting_covariances_match_scipy_sqrtm():
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = m1 @ m1.T, m2 @ m2.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_singular_covariances_stay_finite_and_non_negative():
    x = torch.zeros(100, 8)
    x[:, 0] = torch.linspace(-1, 1, 100)  # rank 1
    mu, sigma = feature_stats(x)
    value = frechet_distance(mu, sigma, mu, sigma)
    assert np.isfinite(value) and 0 <= value < 1e-8


def test_polynomial_mmd2_matches_a_hand_computation():
    # d = 1: k(a, b) = (a b + 1)^3. Kxx off-diagonal 27 -> 27; Kyy -> 1;
    # Kxy = [[1, 8], [1, 27]] -> mean 9.25. MMD^2 = 27 + 1 - 2 * 9.25 = 9.5.
    x, y = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [1.0]])
    assert polynomial_mmd2(x, y) == pytest.approx(9.5)


def test_kid_is_near_zero_on_one_distribution_and_grows_with_a_shift():
    a, b = _gaussian(2000, seed=1), _gaussian(2000, seed=2)
    same = kid_from_features(a, b, subsets=20, subset_size=500)
    shifted = kid_from_features(a, b + 0.5, subsets=20, subset_size=500)
    assert abs(same.mean) < 4 * same.std / np.sqrt(20) + 1e-3
    assert shifted.mean > 50 * abs(same.mean) and shifted.mean > 0.1
    assert same.subset_size == 500 and same.subsets == 20


def test_kid_refuses_subsets_larger_than_either_set():
    """No silent shrink: subsets as large as the set would all be the set, and
    the spread would read about 1e-14."""
    a, b = _gaussian(600, seed=1), _gaussian(1200, seed=2)
    with pytest.raises(ValueError, match="KID subsets of 1000 need at least 1000"):
        kid_from_features(a, b)
    assert kid_subset_size(600, 1200) == 300
    assert kid_subset_size(5000, 1000) == 1000
    kid = kid_from_features(a, b, subsets=10, subset_size=kid_subset_size(600, 1200))
    assert kid.subset_size == 300 and kid.std > 1e-6


def test_kid_spread_is_the_population_std_over_subsets():
    a, b = _gaussian(400, seed=3), _gaussian(400, seed=4) + 0.2
    kid = kid_from_features(a, b, subsets=4, subset_size=100, seed=7)
    gen = torch.Generator().manual_seed(7)  # the documented seeded draws
    values = []
    for _ in range(4):
        r = a[torch.randperm(400, generator=gen)[:100]]
        f = b[torch.randperm(400, generator=gen)[:100]]
        values.append(polynomial_mmd2(r, f))
    assert kid.mean == pytest.approx(np.mean(values))
    assert kid.std == pytest.approx(np.std(values, ddof=0))
    assert kid.std != pytest.approx(np.std(values, ddof=1))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_features_end_in_a_clear_error(bad):
    real, fake = _gaussian(50, seed=1), _gaussian(50, seed=2)
    fake[3, 0] = bad
    for metric in (fid_from_features, lambda r, f: kid_from_features(r, f, 2, 10)):
        with pytest.raises(NonFiniteFeatures, match="1 of 50 generated samples"):
            metric(real, fake)


def test_fid_and_kid_extract_every_image_once():
    seen = []
    weights = torch.randn(3 * 8 * 8, 16, generator=torch.Generator().manual_seed(0))

    def extract(images):  # a fixed random projection, counted
        seen.append(len(images))
        return images.flatten(1) @ weights

    gen = torch.Generator().manual_seed(1)
    real = torch.rand(250, 3, 8, 8, generator=gen)
    fake = torch.rand(130, 3, 8, 8, generator=gen)
    scores = scores_from_extractor(real, fake, extract, "projection")
    assert sum(seen) == 250 + 130
    assert (scores["n_real"], scores["n_fake"]) == (250, 130)
    assert scores["kid_subset_size"] == 65 and scores["features"] == "projection"
    assert scores["fid"] == pytest.approx(
        fid_from_features(real.flatten(1) @ weights, fake.flatten(1) @ weights)
    )
