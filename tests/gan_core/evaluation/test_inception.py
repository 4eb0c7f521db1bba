"""The FID Inception-v3 (inception.py) and Inception FID/KID with it.

No published weights can be fetched here, so: the module's state-dict layout
is checked against torchvision's Inception3 built the way pytorch-fid builds
the FID network (the layout its published file was saved from), and a
randomly initialised weights file, with its digest computed here, stands in
for the standard one. Inception at 299 px is slow on a CPU: a few images.
"""

from __future__ import annotations

import hashlib
import re

import pytest
import torch

from gan_core.data.types import ImageData
from gan_core.evaluation.features import NonFiniteFeatures
from gan_core.evaluation.fid import fid_from_features, kid_from_features
from gan_core.evaluation.inception import (
    FEATURES,
    FIDInceptionV3,
    fid_inception_extractor,
    prepare,
)
from gan_core.evaluation.inception_weights import InceptionUnavailable
from gan_core.evaluation.quality import quality_figures


def test_state_dict_has_torchvisions_fid_inception_layout():
    from torchvision.models import inception_v3

    reference = inception_v3(
        weights=None, aux_logits=False, init_weights=False, num_classes=1008
    ).state_dict()
    ours = FIDInceptionV3().state_dict()
    assert list(ours) == list(reference)  # same keys, in the file's order
    for key, value in reference.items():
        assert ours[key].shape == value.shape, key
    # And the check is strict: torchvision's tensors load into our module.
    FIDInceptionV3().load_state_dict(reference, strict=True)


def test_input_is_resized_to_299_and_gray_is_repeated_to_rgb():
    gray = torch.linspace(-1, 1, 64).reshape(1, 1, 8, 8)
    x = prepare(gray)
    assert x.shape == (1, 3, 299, 299)
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])
    assert x.min() >= -1 and x.max() <= 1 and x.min() < -0.9 and x.max() > 0.9


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A weights file of our module, randomly initialised (seeded), and its
    SHA-256: what GAN_INCEPTION_WEIGHTS and GAN_INCEPTION_SHA256 would name."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("inception") / "inception.pth"
    torch.save(FIDInceptionV3().state_dict(), path)
    return str(path), hashlib.sha256(path.read_bytes()).hexdigest()


def images(n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=gen) * 2 - 1


def test_features_are_2048_d_and_a_set_against_itself_has_fid_zero(weights):
    extract = fid_inception_extractor(*weights)
    real = extract(images(6, seed=1))
    assert real.shape == (6, FEATURES) and real.dtype == torch.float64
    assert real.std(0).max() > 0  # different images, different features
    assert fid_from_features(real, real[torch.randperm(6)]) < 1e-6 * real.var(0).sum()
    with pytest.raises(ValueError, match="KID subsets of 1000 need at least 1000"):
        kid_from_features(real, real)
    kid = kid_from_features(real, real, subsets=10, subset_size=4)
    assert kid.subset_size == 4 and kid.std >= 0


def test_nan_images_give_a_clear_error_not_a_linalg_failure(weights):
    bad = images(2, seed=2)
    bad[1, 0, 3, 3] = float("nan")
    with pytest.raises(NonFiniteFeatures, match="1 of 2 Inception samples"):
        fid_inception_extractor(*weights)(bad)


def test_a_wrong_digest_or_a_file_of_other_tensors_is_refused(weights, tmp_path):
    path, sha = weights
    with pytest.raises(InceptionUnavailable, match="is not the standard one"):
        fid_inception_extractor(path, "0" * 64)
    other = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, other)
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    with pytest.raises(InceptionUnavailable, match="not an FID Inception state dict"):
        fid_inception_extractor(other, digest)
    with pytest.raises(InceptionUnavailable, match="was not found"):
        fid_inception_extractor(tmp_path / "missing.pth", sha)


def test_quality_figures_give_inception_fid_and_kid_in_their_own_column(weights):
    path, sha = weights
    real = ImageData(images=images(6, seed=3))
    options = {"inception_weights": path, "inception_sha256": sha}
    report = quality_figures(real, real.images, **options)
    by_metric = {f["metric"]: f for f in report["figures"]}
    fid = by_metric["inception_fid"]
    assert fid["column"] == "Inception FID (pool3, n=6)" and fid["n"] == 6
    assert fid["space"] == "inception-v3-pool3" and "pool3" in fid["space_label"]
    assert fid["value"] < 1e-3  # the same 6 images on both sides
    assert by_metric["precision"]["space"] == "inception-v3-pool3"
    assert report["inception"] == {"configured": True, "measured": True}
    # KID's subsets hold 1,000 by default: with n=6 it is left out, said so.
    assert "inception_kid" not in by_metric
    assert any("no Inception KID at n=6" in note for note in report["notes"])


def test_inception_runs_on_the_device_asked_for(weights):
    """A GPU worker's Inception goes to its GPU: asked for CUDA, a machine
    without one says why in the note, one with one measures there."""
    path, sha = weights
    real = ImageData(images=images(6, seed=3))
    options = {"inception_weights": path, "inception_sha256": sha}
    # builtin digits: the other figures in the digit classifier's space, which
    # six 8x8 images can have (a dataset's own net could not be trained).
    report = quality_figures(
        real, real.images, builtin="digits", device="cuda", **options
    )
    if torch.cuda.is_available():
        assert report["inception"] == {"configured": True, "measured": True}
    else:
        reason = report["inception"]["reason"]
        assert re.search("CUDA|NVIDIA", reason), reason
        assert "inception_fid" not in {f["metric"] for f in report["figures"]}
