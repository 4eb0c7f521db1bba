"""2D mixtures and users' CSV point files."""

import math

import pytest
import torch

from gan_core.data.loading import DataError
from gan_core.data.points import grid_modes, load_points_csv, make_grid, make_ring


def test_ring_modes_are_evenly_spaced_on_the_circle():
    data = make_ring(n=4000, k=6, radius=2.0, std=0.1, seed=3)
    angles = torch.atan2(data.modes[:, 1], data.modes[:, 0]) % (2 * math.pi)
    assert angles.tolist() == pytest.approx([i * math.pi / 3 for i in range(6)])
    assert data.modes.norm(dim=1).tolist() == pytest.approx([2.0] * 6)
    assert data.std == 0.1 and data.points.shape == (4000, 2)


def test_grid_modes_and_seeded_points():
    assert grid_modes(3, 1.5).tolist() == [
        [x, y] for x in (-1.5, 0.0, 1.5) for y in (-1.5, 0.0, 1.5)
    ]
    a, b = make_grid(n=500, seed=1), make_grid(n=500, seed=1)
    assert torch.equal(a.points, b.points)
    assert not torch.equal(a.points, make_grid(n=500, seed=2).points)


def test_csv_with_header_and_comments_loads_as_points(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("x,y\n# a comment\n0.5, -1\n\n2,3e-1\n")
    data = load_points_csv(path)
    assert data.points.flatten().tolist() == pytest.approx([0.5, -1.0, 2.0, 0.3])
    assert data.modes is None and data.fingerprint


@pytest.mark.parametrize(
    "text, message",
    [
        ("x,y\n1,2\n3\n", "line 3: expected 2 columns"),
        ("1,2\n3,4,5\n", "line 2: expected 2 columns"),
        ("1,2\nfoo,4\n", "line 2: expected two numbers"),
        ("1,2\nnan,4\n", "line 2: x and y must be finite"),
        ("x,y\n1,2\n", "too few points"),
        ("", "too few points"),
    ],
)
def test_bad_csv_is_one_clear_error_with_its_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_points_csv(path)


def test_missing_csv_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="cannot read points file"):
        load_points_csv(tmp_path / "nope.csv")
