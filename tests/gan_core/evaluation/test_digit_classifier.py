"""The digit classifiers: their accuracy bar on held-out digits and their cache."""

import pytest
import torch

from gan_core.evaluation import classifier as clf
from gan_core.evaluation.classifier import get_classifier, split


@pytest.mark.parametrize("dataset, bar", [("mnist", 0.97), ("digits", 0.95)])
def test_classifier_reaches_its_bar_on_held_out_digits(dataset, bar):
    model = get_classifier(dataset)
    _, _, x_test, y_test = split(dataset)
    accuracy = (model.predict(x_test) == y_test).float().mean().item()
    assert accuracy >= bar, accuracy
    assert model.test_accuracy == pytest.approx(accuracy, abs=1e-6)


def test_classifier_takes_any_size_and_rgb():
    model = get_classifier("mnist")
    _, _, x_test, y_test = split("mnist")
    x, y = x_test[:200], y_test[:200]
    big_rgb = torch.nn.functional.interpolate(x, size=32, mode="bilinear")
    big_rgb = big_rgb.expand(-1, 3, -1, -1)
    assert (model.predict(big_rgb) == y).float().mean() > 0.95
    assert model.features(x).shape == (200, 128)


def test_held_out_split_is_disjoint_and_balanced():
    x, y, x_test, y_test = split("mnist")
    assert len(x) == 4000 and y_test.bincount().tolist() == [100] * 10
    flat = {tuple(row.tolist()) for row in x_test.flatten(1)[:, ::7]}
    assert not any(tuple(row.tolist()) in flat for row in x.flatten(1)[:500, ::7])


def test_weights_are_cached_atomically_and_reloaded(tmp_path, monkeypatch):
    calls = []

    def fake_train(dataset, seed=0):
        calls.append(dataset)
        return clf.DigitNet(), {
            "dataset": dataset,
            "version": clf.CLASSIFIER_VERSION,
            "input_size": 16,
            "test_accuracy": 0.5,
        }

    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path))
    monkeypatch.setattr(clf, "train_classifier", fake_train)
    clf._classifier.cache_clear()
    try:
        first = get_classifier("digits")
        path = clf.weights_path("digits")
        assert path.parent == tmp_path and path.is_file() and calls == ["digits"]
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp left
        clf._classifier.cache_clear()
        second = get_classifier("digits")  # from disk, not retrained
        assert calls == ["digits"]
        for a, b in zip(
            first.net.state_dict().values(),
            second.net.state_dict().values(),
            strict=True,
        ):
            assert torch.equal(a, b)
        path.write_bytes(b"not a checkpoint")  # damaged: retrain
        clf._classifier.cache_clear()
        get_classifier("digits")
        assert calls == ["digits", "digits"]
    finally:
        clf._classifier.cache_clear()


def test_unknown_classifier_is_a_clear_error():
    with pytest.raises(ValueError, match="no classifier for 'cifar'"):
        get_classifier("cifar")
