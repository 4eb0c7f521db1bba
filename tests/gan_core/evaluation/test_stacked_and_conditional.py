"""Stacked-MNIST mode counting, conditional accuracy and classifier-FID on real
digits."""

import pytest
import torch

from gan_core.evaluation.classifier import split
from gan_core.evaluation.conditional import class_accuracy
from gan_core.evaluation.fid import classifier_scores
from gan_core.evaluation.stacked import (
    make_stacked_mnist,
    stacked_mnist_modes,
    stacked_triples,
)


def test_real_stacked_mnist_covers_many_modes():
    data = make_stacked_mnist(2000, seed=0)
    assert data.images.shape == (2000, 3, 28, 28) and data.labels.max() < 1000
    assert torch.equal(data.images, make_stacked_mnist(2000, seed=0).images)
    report = stacked_mnist_modes(data.images)
    # 2,000 uniform draws over 1,000 modes cover 1000 (1 - e^-2) ~ 865 of them.
    assert report.modes_covered >= 800 and report.n_samples == 2000
    assert report.kl_to_uniform < 0.5
    assert (stacked_triples(data.images) == data.labels).float().mean() > 0.9


def test_a_collapsed_stack_covers_few_modes():
    data = make_stacked_mnist(300, seed=1)
    collapsed = data.images[:3].repeat(100, 1, 1, 1)
    report = stacked_mnist_modes(collapsed)
    assert report.modes_covered <= 3 and report.kl_to_uniform > 5.0


def test_conditional_accuracy_is_high_for_true_labels_and_chance_for_shuffled():
    _, _, x, y = split("digits")
    assert class_accuracy(x, y, "digits") > 0.95
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    assert class_accuracy(x, shuffled, "digits") < 0.25
    with pytest.raises(ValueError, match="asked labels"):
        class_accuracy(x, y[:3], "digits")


def test_classifier_fid_ranks_real_digits_above_noise_and_one_class():
    x_train, y_train, x_test, y_test = split("mnist")
    real = x_train[:1000]
    same = classifier_scores(real, x_test, "mnist")
    one_class = classifier_scores(real, x_train[y_train == 3][:300], "mnist")
    noise = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    noisy = classifier_scores(real, noise * 2 - 1, "mnist")
    assert same.classifier_fid < 0.2 * one_class.classifier_fid
    assert one_class.classifier_fid < noisy.classifier_fid
    assert abs(same.classifier_kid) < 0.1 * one_class.classifier_kid
    assert "not Inception" in same.note
