"""The VEEGAN/PacGAN mode protocol on hand-made samples with known answers."""

import math

import pytest
import torch

from gan_core.data.points import grid_modes, ring_modes
from gan_core.evaluation.points import kl_to_uniform, mode_coverage

RING = ring_modes(8, 1.0)  # modes[0] = (1, 0), modes[2] = (0, 1), ...
STD = 0.01


def test_hand_made_samples_give_exact_counts_quality_and_kl():
    samples = torch.stack(
        [
            RING[0],
            RING[0],
            RING[0],
            RING[1] + torch.tensor([0.02, 0.0]),  # 2 std away: high quality
            RING[2] + torch.tensor([0.0, 0.04]),  # 4 std away: not
            torch.zeros(2),  # the centre: far from every mode
        ]
    )
    report = mode_coverage(samples, RING, STD)
    assert report.modes_captured == 2
    assert report.high_quality_fraction == pytest.approx(4 / 6)
    assert report.per_mode_counts == (3, 1, 0, 0, 0, 0, 0, 0)
    # q = (3/4, 1/4) on 2 of 8 modes: sum q log(8 q).
    expected = 0.75 * math.log(6) + 0.25 * math.log(2)
    assert report.kl_to_uniform == pytest.approx(expected)
    assert report[0] == 2 and report[1] == pytest.approx(4 / 6)  # tuple order


def test_uniform_samples_on_every_mode_capture_all_with_zero_kl():
    modes = grid_modes(5, 2.0)
    samples = modes.repeat(100, 1) + 0.05 * torch.tensor([1.0, -1.0]) / 2  # 1.4 std
    report = mode_coverage(samples, modes, 0.05)
    assert report.modes_captured == 25 and report.high_quality_fraction == 1.0
    assert report.kl_to_uniform == pytest.approx(0.0, abs=1e-12)
    assert report.num_modes == 25 and report.n_samples == 2500


def test_collapse_onto_one_mode_has_kl_log_k():
    report = mode_coverage(RING[3].repeat(2500, 1), RING, STD)
    assert report.modes_captured == 1
    assert report.kl_to_uniform == pytest.approx(math.log(8))


def test_a_mode_is_captured_only_by_high_quality_samples():
    # Many samples near mode 5 but 3.5 std away: none count.
    samples = RING[5] + torch.tensor([0.035, 0.0]).repeat(100, 1)
    report = mode_coverage(samples, RING, STD)
    assert report.modes_captured == 0 and report.high_quality_fraction == 0.0
    assert math.isinf(report.kl_to_uniform)
    assert report.to_dict()["kl_to_uniform"] is None


def test_kl_of_histograms():
    assert kl_to_uniform(torch.tensor([5, 5, 5, 5])) == pytest.approx(0.0)
    assert kl_to_uniform(torch.tensor([1, 0, 0, 0])) == pytest.approx(math.log(4))
    assert kl_to_uniform(torch.tensor([1, 1, 0, 0])) == pytest.approx(math.log(2))


def test_bad_samples_are_refused():
    with pytest.raises(ValueError, match="samples must be"):
        mode_coverage(torch.zeros(5, 3), RING, STD)
    with pytest.raises(ValueError, match="NaN"):
        mode_coverage(torch.full((5, 2), float("nan")), RING, STD)
