"""Precision/recall (Kynkaenniemi et al. 2019) and class agreement: the
quality figures of the checkpoint timeline."""

import dataclasses

import pytest
import torch

from gan_core.data.builtin import load_builtin
from gan_core.evaluation import precision_recall as pr
from gan_core.evaluation.classifier import split
from gan_core.evaluation.inception_weights import (
    InceptionUnavailable,
    verify_inception_weights,
)
from gan_core.evaluation.quality import (
    class_agreement_figure,
    digit_space,
    quality_figures,
)


def _noise_over_half(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    out = images.clone()
    gen = torch.Generator().manual_seed(seed)
    half = len(out) // 2
    out[half:] = torch.rand(out[half:].shape, generator=gen) * 2 - 1
    return out


def test_a_set_against_itself_is_one_and_noise_over_half_lowers_both():
    real = load_builtin("digits").images[:600]
    space = digit_space("digits")
    features = space.extract(real)
    same = pr.precision_recall(features, features)
    assert (same.precision, same.recall) == (1.0, 1.0)
    assert (same.k, same.n_real, same.n_fake) == (3, 600, 600)
    noisy = pr.precision_recall(features, space.extract(_noise_over_half(real)))
    # The noise lies off the digits' manifold: about half the samples are not
    # realistic, and the real digits the noise replaced are partly uncovered.
    assert 0.4 < noisy.precision < 0.6, noisy
    assert noisy.recall < 0.99, noisy


def test_batched_distances_give_the_figures_of_one_pass(monkeypatch):
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(300, 16, generator=gen)
    fake = torch.randn(250, 16, generator=gen) * 1.3 + 0.2
    whole = pr.precision_recall(real, fake)
    monkeypatch.setattr(pr, "BATCH_ELEMENTS", 1000)  # 3-4 rows per batch
    assert pr.precision_recall(real, fake) == whole
    assert 0 < whole.precision < 1 and 0 < whole.recall < 1


def test_radii_are_the_kth_neighbour_of_each_point_in_its_own_set():
    points = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0]])
    # Neighbours of 0: 1, 3, 6 -> the 3rd is at 6; of 10: 6, 3, 1 -> 9.
    assert pr.knn_radii(points).tolist() == [6.0, 5.0, 3.0, 5.0, 9.0]
    with pytest.raises(ValueError, match="more than k=3"):
        pr.knn_radii(points[:3])


def test_class_agreement_on_held_out_real_digits_exceeds_90_percent():
    _, _, images, labels = split("digits")  # real digits the classifier never saw
    data = load_builtin("digits")
    figure = class_agreement_figure(data, images, labels, data.class_names, "digits")
    assert figure["metric"] == "class_agreement" and figure["n"] == len(labels)
    assert figure["value"] > 0.9, figure
    assert figure["space"] == "digits-classifier" and figure["chance"] == 0.1
    wrong = class_agreement_figure(
        data, images, (labels + 1) % 10, data.class_names, "digits"
    )
    assert wrong["value"] < 0.1, wrong


def test_every_figure_states_its_n_and_space_and_a_bad_weights_file_is_a_note(
    tmp_path,
):
    weights = tmp_path / "inception.pth"
    weights.write_bytes(b"not the standard weights")
    with pytest.raises(InceptionUnavailable, match="SHA-256"):
        verify_inception_weights(weights)
    real = load_builtin("digits")
    fake = real.images[:200]
    report = quality_figures(
        real, fake, builtin="digits", inception_weights=str(weights), seed=1
    )
    assert [f["metric"] for f in report["figures"]] == ["precision", "recall"]
    for figure in report["figures"]:
        assert figure["n"] == 200 and figure["space"] == "digits-classifier"
        assert figure["column"] == f"{figure['metric']} | digits-classifier | n=200"
    assert len(report["notes"]) == 1 and "SHA-256" in report["notes"][0]


def test_a_class_folder_is_measured_in_its_own_label_nets_space(monkeypatch, tmp_path):
    """Data with no digit classifier: the net trained on its own labels gives
    precision/recall and a class agreement far above chance on real images."""
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path))
    digits = load_builtin("digits")
    folder = dataclasses.replace(digits, fingerprint="")  # any labelled upload
    fake, asked = digits.images[:400], digits.labels[:400]
    report = quality_figures(folder, fake, asked=asked, class_names=digits.class_names)
    by_metric = {f["metric"]: f for f in report["figures"]}
    assert set(by_metric) == {"precision", "recall", "class_agreement"}
    agreement = by_metric["class_agreement"]
    assert agreement["space"] == "dataset-labels" and agreement["n"] == 400
    assert agreement["value"] > 0.9 and agreement["chance"] == 0.1
    assert "trained on this dataset's class labels" in agreement["space_label"]
    assert list(tmp_path.glob("dataset-nets/*.pt")), "the net is cached"


def test_asked_classes_map_to_the_real_sets_labels_by_name():
    from gan_core.evaluation.quality import _to_real_classes

    asked = torch.tensor([0, 1, 1, 0])
    mapped = _to_real_classes(asked, ("dogs", "cats"), ("cats", "dogs"))
    assert mapped.tolist() == [1, 0, 0, 1]
    with pytest.raises(ValueError, match="not in the real data"):
        _to_real_classes(asked, ("dogs", "birds"), ("cats", "dogs"))
