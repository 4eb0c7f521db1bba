"""Self-conditioned MLP pair (Liu et al. 2020): G and D conditioned on a cluster
of the training data found by k-means, so G must cover every cluster.

Both stay usable as unconditional networks, so sampling, interpolation,
rejection sampling and the playground need nothing new: G without labels picks
its cluster from its noise's first entry (a seed still names one sample; the
clusters are drawn in their data proportions), and D without labels judges a
sample in the cluster of its nearest centroid, which is how real data were
labelled.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from gan_core.clustering import cluster_shares, kmeans, nearest
from gan_core.nets.classic import MLPDiscriminator, MLPGenerator


class ClusterGenerator(nn.Module):
    """(z, cluster) -> sample: an MLP over z[1:] and the cluster's one-hot."""

    def __init__(
        self,
        z_dim: int,  # Noise size; entry 0 picks the cluster when none is given.
        out_shape: tuple[int, ...],  # (C, H, W) for images, (2,) for points.
        clusters: int,  # k of k-means.
        hidden: int = 256,
        depth: int = 3,
        tanh: bool = True,
    ):
        super().__init__()
        if z_dim < 2:
            raise ValueError("a self-conditioned generator needs z_dim >= 2")
        self.clusters = clusters
        # Share of the training data in each cluster; set by fit().
        self.register_buffer("shares", torch.full((clusters,), 1.0 / clusters))
        self.body = MLPGenerator(z_dim - 1 + clusters, out_shape, hidden, depth, tanh)

    def clusters_of(self, z: torch.Tensor) -> torch.Tensor:
        """The cluster each noise vector draws: z[:, 0] through the normal CDF
        is uniform, then inverted through the clusters' cumulative shares."""
        u = 0.5 * (1 + torch.erf(z[:, 0].float() / math.sqrt(2)))
        cdf = self.shares.float().cumsum(0)
        picks = torch.searchsorted(cdf / cdf[-1], u.contiguous(), right=True)
        return picks.clamp(max=self.clusters - 1)

    def truncate(self, z: torch.Tensor, psi: float) -> torch.Tensor:
        """Truncation in Z that keeps each sample's cluster: scaling z[:, 0]
        too would crowd every sample into the middle clusters of the CDF."""
        return torch.cat([z[:, :1], z[:, 1:] * float(psi)], dim=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None):
        if labels is None:
            labels = self.clusters_of(z)
        onehot = F.one_hot(labels, self.clusters).to(z.dtype)
        return self.body(torch.cat([z[:, 1:], onehot], dim=1))


class ClusterDiscriminator(nn.Module):
    """(x, cluster) -> one logit: an MLP over x and the cluster's one-hot."""

    pack = 1  # Judges one sample at a time (no PacGAN packing).

    def __init__(
        self,
        in_shape: tuple[int, ...],  # (C, H, W) or (2,).
        clusters: int,
        hidden: int = 256,
        depth: int = 3,
    ):
        super().__init__()
        self.clusters = clusters
        width = math.prod(in_shape)
        self.register_buffer("centroids", torch.zeros(clusters, width))
        self.body = MLPDiscriminator((width + clusters,), hidden, depth)

    def assign(self, x: torch.Tensor) -> torch.Tensor:
        """Each sample's cluster: its nearest centroid."""
        return nearest(x.detach().flatten(1), self.centroids)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        if labels is None:
            labels = self.assign(x)
        onehot = F.one_hot(labels, self.clusters).to(x.dtype)
        return self.body(torch.cat([x.flatten(1), onehot], dim=1))


@torch.no_grad()
def fit_clusters(
    G: ClusterGenerator, D: ClusterDiscriminator, features: torch.Tensor, seed: int
) -> None:
    """k-means on the training data [N, F]: D's centroids and G's shares."""
    centroids = kmeans(features, G.clusters, seed)
    shares = cluster_shares(nearest(features, centroids), G.clusters)
    D.centroids.copy_(centroids.to(D.centroids.device))
    G.shares.copy_(shares.to(G.shares.device))
