"""gan_core.evaluation.augmentation: real / synthetic (CAS) / both, on real."""

from __future__ import annotations

import torch

from gan_core.cli import main
from gan_core.evaluation.augmentation import (
    ARMS,
    Recipe,
    evaluate_augmentation,
    fit_score,
    held_out_split,
)
from tests.ganweb.playground.tiny_models import tiny_checkpoint

QUICK = Recipe(steps=4, batch_size=16)


def test_held_out_split_takes_the_first_of_each_class():
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    images = torch.arange(6.0).view(6, 1, 1, 1)
    x, y, xt, yt = held_out_split(images, labels, 1)
    assert xt.flatten().tolist() == [0.0, 1.0] and yt.tolist() == [0, 1]
    assert x.flatten().tolist() == [2.0, 3.0, 4.0, 5.0]


def test_the_classifier_learns_a_separable_task_and_fails_a_shuffled_one():
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(64) % 2
    x = torch.randn(64, 1, 8, 8, generator=gen) * 0.1 + (y * 2 - 1).view(-1, 1, 1, 1)
    recipe = Recipe(steps=40, batch_size=16, shift=0)
    assert fit_score(x[:48], y[:48], x[48:], y[48:], 2, recipe) == 1.0
    wrong = 1 - y[48:]  # test labels swapped: a learnt rule scores 0
    assert fit_score(x[:48], y[:48], x[48:], wrong, 2, recipe) == 0.0


def test_report_has_three_arms_per_seed_on_held_out_digits():
    report = evaluate_augmentation(
        tiny_checkpoint("cgan"), per_class=8, seeds=(0, 1), recipe=QUICK
    )
    assert set(report["arms"]) == set(ARMS)
    for arm in ARMS:
        accuracy = report["arms"][arm]["accuracy"]
        assert len(accuracy) == 2 and all(0.0 <= a <= 1.0 for a in accuracy)
    assert report["n_test"] == 360 and report["n_real"] == 1797 - 360
    assert report["n_synthetic"] == 80 and report["data"] == "builtin:digits"
    assert any("optimistic" in note for note in report["notes"])  # saw all digits


def test_evaluate_augmentation_refuses_an_unconditional_model(capsys):
    ckpt = str(tiny_checkpoint("dcgan"))
    assert main(["evaluate", "--checkpoint", ckpt, "--augmentation"]) == 2
    assert "not conditional" in capsys.readouterr().err
