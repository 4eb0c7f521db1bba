"""Self-conditioning (gan with clusters > 0): k-means, the cluster-conditioned
pair, and what it buys on the grid of 25 Gaussians."""

import pytest
import torch

from gan_core.clustering import cluster_shares, kmeans, nearest
from gan_core.config import ConfigError, config_from_dict
from gan_core.data.points import grid_modes, sample_mixture
from gan_core.data.types import PointData
from gan_core.evaluation.points import mode_coverage
from gan_core.nets.self_conditioned import (
    ClusterDiscriminator,
    ClusterGenerator,
    fit_clusters,
)
from gan_core.registry import get_family
from gan_core.sampling import load_generator
from gan_core.trainer import train


@pytest.fixture(scope="module")
def grid25() -> PointData:
    modes = grid_modes()
    return PointData(sample_mixture(modes, 0.05, 20_000, seed=3), modes, 0.05)


def test_kmeans_gives_every_separated_mode_a_centre(grid25):
    rng_before = torch.get_rng_state()
    centroids = kmeans(grid25.points, 40, seed=0)
    assert torch.equal(torch.get_rng_state(), rng_before)  # training RNG untouched
    assert centroids.shape == (40, 2)
    # Every one of the 25 modes has a centre on it, and no centre sits between
    # modes (over-clustering splits modes, it never bridges them).
    to_modes = torch.cdist(grid25.modes, centroids).min(dim=1).values
    assert to_modes.max() < 0.15, to_modes
    off_mode = torch.cdist(centroids, grid25.modes).min(dim=1).values
    assert off_mode.max() < 0.15, off_mode
    assert torch.equal(centroids, kmeans(grid25.points, 40, seed=0))


def test_nearest_and_shares_count_by_hand():
    centroids = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.tensor([[1.0, 1.0], [9.0, -1.0], [8.0, 1.0], [-2.0, 3.0]])
    labels = nearest(x, centroids)
    assert labels.tolist() == [0, 1, 1, 0]
    assert cluster_shares(labels, 3).tolist() == [0.5, 0.5, 0.0]


def test_generator_draws_clusters_in_their_data_shares():
    G = ClusterGenerator(8, (2,), 4, hidden=16, depth=2, tanh=False)
    G.shares.copy_(torch.tensor([0.5, 0.3, 0.2, 0.0]))
    z = torch.randn(40_000, 8, generator=torch.Generator().manual_seed(0))
    picked = G.clusters_of(z)
    shares = cluster_shares(picked, 4)
    assert torch.allclose(shares, G.shares, atol=0.01), shares
    assert shares[3] == 0  # an empty cluster is never drawn
    # Given labels win over the noise's own pick.
    forced = torch.full((z.shape[0],), 2)
    assert not torch.equal(G(z[:64]), G(z[:64], forced[:64]))
    assert torch.equal(G(z[:64], picked[:64]), G(z[:64]))


def test_truncation_keeps_each_samples_cluster():
    G = ClusterGenerator(8, (2,), 5, hidden=16, depth=2, tanh=False)
    z = torch.randn(2000, 8, generator=torch.Generator().manual_seed(1))
    truncated = G.truncate(z, 0.2)
    assert torch.equal(G.clusters_of(truncated), G.clusters_of(z))
    assert torch.allclose(truncated[:, 1:], z[:, 1:] * 0.2)
    # Scaling the whole z would have crowded samples into the middle clusters.
    crowded = cluster_shares(G.clusters_of(z * 0.2), 5)
    assert crowded[2] > 0.6


def test_discriminator_judges_an_unlabelled_sample_in_its_nearest_cluster(grid25):
    G = ClusterGenerator(4, (2,), 30, hidden=16, depth=2, tanh=False)
    D = ClusterDiscriminator((2,), 30, hidden=16, depth=2)
    fit_clusters(G, D, grid25.points, seed=0)
    x = grid25.points[:500]
    by_hand = torch.cdist(x, D.centroids).argmin(dim=1)
    assert torch.equal(D.assign(x), by_hand)
    assert torch.equal(D(x), D(x, by_hand))
    assert not torch.equal(D(x), D(x, (by_hand + 1) % 30))
    assert torch.allclose(G.shares.sum(), torch.tensor(1.0))
    assert (G.shares > 0).sum() == 30  # every cluster has data


def test_clusters_refuse_packing_and_a_one_entry_noise():
    with pytest.raises(ConfigError, match="clusters and pack"):
        config_from_dict("gan", {"clusters": 10, "pack": 2})
    with pytest.raises(ConfigError, match="z_dim >= 2"):
        config_from_dict("gan", {"clusters": 10, "z_dim": 1})


@pytest.mark.slow
def test_self_conditioned_gan_covers_all_25_grid_modes(tmp_path, grid25):
    """Without clusters the points preset keeps 8-20 of the 25 modes
    (bench/RESULTS.md); with them G must cover every cluster."""
    settings = {**get_family("gan").presets["points"], "seed": 0, "clusters": 50}
    settings.update(steps=1000, sample_every=10_000, checkpoint_every=10_000)
    train(config_from_dict("gan", settings), data=grid25, out_dir=tmp_path)
    handle = load_generator(tmp_path / "checkpoints/latest.pt")
    report = mode_coverage(handle.sample(2500, seed=0), grid25.modes, grid25.std)
    assert report.modes_captured == 25, report
    assert report.high_quality_fraction > 0.9, report
    # Truncation keeps every mode: it tightens samples within their cluster.
    tight = mode_coverage(
        handle.sample(2500, seed=0, truncation_psi=0.5), grid25.modes, grid25.std
    )
    assert tight.modes_captured == 25, tight
