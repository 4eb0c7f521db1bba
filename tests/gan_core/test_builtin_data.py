"""Built-in datasets: documented shapes, ranges, classes, seeds and fingerprints."""

import time

import pytest
import torch

from gan_core.data.builtin import (
    BUILTIN_NAMES,
    builtin_fingerprint,
    describe_builtin,
    load_builtin,
)
from gan_core.data.loading import DataError, data_info, load_data
from gan_core.data.types import DomainData, ImageData, PointData


def _in_range(images: torch.Tensor) -> bool:
    return images.dtype == torch.float32 and -1 <= images.min() <= images.max() <= 1


def test_mnist_is_5000_balanced_digits_of_28_px():
    data = load_builtin("mnist")
    assert isinstance(data, ImageData) and data.images.shape == (5000, 1, 28, 28)
    assert _in_range(data.images) and data.labels.dtype == torch.int64
    assert data.labels.bincount().tolist() == [500] * 10
    assert data.class_names == tuple("0123456789")
    assert len(set(data.labels[:50].tolist())) >= 8  # a prefix mixes the classes


def test_mnist_resizes_and_turns_rgb_on_request():
    data = load_builtin("mnist", image_size=32, channels=3)
    assert data.images.shape == (5000, 3, 32, 32) and _in_range(data.images)
    assert torch.equal(data.images[:, 0], data.images[:, 2])
    assert torch.equal(data.labels, load_builtin("mnist").labels)


def test_digits_upsample_the_1797_sklearn_digits():
    data = load_builtin("digits")
    assert data.images.shape == (1797, 1, 16, 16) and _in_range(data.images)
    assert data.labels.unique().tolist() == list(range(10))
    assert load_builtin("digits", image_size=32).images.shape[-1] == 32


def test_shapes_are_balanced_coloured_and_deterministic_by_seed():
    data = load_builtin("shapes", image_size=16)
    assert data.images.shape == (5000, 3, 16, 16) and _in_range(data.images)
    assert data.class_names == ("circle", "square", "triangle", "cross", "ring")
    assert data.labels.bincount().tolist() == [1000] * 5
    again = load_builtin("shapes", image_size=16, seed=0)
    other = load_builtin("shapes", image_size=16, seed=1)
    assert torch.equal(data.images, again.images)
    assert not torch.equal(data.images, other.images)
    assert data.fingerprint != other.fingerprint
    # Coloured: the channels differ within images (not gray).
    assert (data.images[:, 0] - data.images[:, 1]).abs().mean() > 0.1


def test_shapes_fill_a_class_dependent_area():
    """A ring covers less of its disc than a filled circle of the same radius."""
    data = load_builtin("shapes", image_size=32)
    background = data.images[:, :, :1, :1]  # corners are ground (margin >= r)
    covered = ((data.images - background).abs().sum(1) > 0.3).float().mean((1, 2))
    area = {k: covered[data.labels == k].mean().item() for k in range(5)}
    assert area[4] < area[0]  # ring < circle
    assert all(0.02 < a < 0.6 for a in area.values()), area


def test_shapes_ab_domains_differ_in_colour_statistics():
    data = load_builtin("shapes-ab")
    assert isinstance(data, DomainData) and data.a.shape == (2000, 3, 32, 32)
    assert data.b.shape == data.a.shape and _in_range(data.a) and _in_range(data.b)
    mean_a, mean_b = data.a.mean().item(), data.b.mean().item()
    assert mean_a > 0.3 and mean_b < -0.4  # light ground versus dark ground
    # Both domains have shapes: pixels far from each image's median ground.
    for x in (data.a, data.b):
        ground = x.flatten(2).median(dim=2).values[:, :, None, None]
        assert ((x - ground).abs().sum(1) > 0.5).float().mean() > 0.03


@pytest.mark.parametrize(
    "name, k, std, spacing",
    [
        ("ring8", 8, 0.01, 2 * torch.sin(torch.tensor(torch.pi / 8)).item()),
        ("grid25", 25, 0.05, 2.0),
    ],
)
def test_mixtures_have_their_modes_std_and_points_near_modes(name, k, std, spacing):
    data = load_builtin(name)
    assert isinstance(data, PointData) and data.modes.shape == (k, 2)
    assert data.std == std and data.points.shape == (100_000, 2)
    gaps = torch.cdist(data.modes, data.modes) + 1e9 * torch.eye(k)
    assert gaps.min().item() == pytest.approx(spacing, rel=1e-5)
    dist, nearest = torch.cdist(data.points, data.modes).min(dim=1)
    assert dist.max() < 6 * std
    assert nearest.bincount(minlength=k).min() > 100_000 / k * 0.9
    # The per-axis spread of a mode is its std.
    offsets = data.points - data.modes[nearest]
    assert offsets.std(0).tolist() == pytest.approx([std, std], rel=0.03)


def test_ring_and_grid_modes_are_where_the_papers_put_them():
    ring = load_builtin("ring8").modes
    assert ring.norm(dim=1).tolist() == pytest.approx([1.0] * 8, abs=1e-6)
    grid = load_builtin("grid25").modes
    assert sorted(set(grid[:, 0].tolist())) == [-4, -2, 0, 2, 4]
    assert sorted(set(grid[:, 1].tolist())) == [-4, -2, 0, 2, 4]


def test_builtins_are_cached_and_fast():
    t0 = time.perf_counter()
    for name in BUILTIN_NAMES:
        load_builtin(name)
    assert time.perf_counter() - t0 < 4  # cold on a busy shared CPU, < 2 s alone
    assert load_builtin("shapes") is load_builtin("shapes", image_size=32, seed=0)


def test_fingerprints_name_the_content_without_building_it():
    for name in BUILTIN_NAMES:
        data = load_builtin(name, image_size=16)
        assert data.fingerprint == builtin_fingerprint(name, image_size=16)
        assert data_info(data).fingerprint == data.fingerprint
    assert builtin_fingerprint("ring8", image_size=16) == builtin_fingerprint("ring8")
    assert builtin_fingerprint("mnist", seed=3) == builtin_fingerprint("mnist")
    assert builtin_fingerprint("mnist", image_size=32) != builtin_fingerprint("mnist")


def test_load_data_reaches_builtins_and_unknown_names_are_clear_errors():
    data = load_data("builtin:digits", image_size=16)
    assert data is load_builtin("digits")
    with pytest.raises(DataError, match="unknown built-in dataset 'nope'"):
        load_builtin("nope")
    with pytest.raises(DataError, match="image_size"):
        load_builtin("shapes", image_size=2)
    with pytest.raises(DataError, match="channels"):
        load_builtin("mnist", channels=2)


def test_describe_lists_every_builtin_for_the_web():
    for name in BUILTIN_NAMES:
        d = describe_builtin(name)
        assert d["data"] == f"builtin:{name}" and d["title"] and d["description"]
        assert d["kind"] in ("classes", "domains", "pairs", "points")
    assert describe_builtin("mnist")["classes"] == list("0123456789")
    assert describe_builtin("ring8")["kind"] == "points"
    assert describe_builtin("shapes-ab")["default_size"] == 32
