"""Learning on a CPU in seconds: the families do more than run."""

import pytest
import torch
from torch.nn import functional as F

from gan_core.config import config_from_dict
from gan_core.data.types import ImageData
from gan_core.registry import get_family
from gan_core.sampling import load_generator
from gan_core.trainer import train


def _builtin(name):
    """The built-in dataset when gan_core.data.builtin is present."""
    try:
        from gan_core.data.builtin import load_builtin
    except ImportError:
        return None
    return load_builtin(name)


def _mode_coverage(samples, modes, std):
    """VEEGAN/PacGAN protocol: (modes captured, high-quality fraction)."""
    try:
        from gan_core.evaluation.points import mode_coverage
    except ImportError:
        dist, nearest = torch.cdist(samples, modes).min(dim=1)
        good = dist < 3 * std
        return len(set(nearest[good].tolist())), good.float().mean().item()
    result = mode_coverage(samples, modes, std)
    return result[0], result[1]


@pytest.fixture(scope="module")
def ring8_checkpoint(tmp_path_factory, ring8_points):
    """The MLP GAN trained briefly on the ring (shared by the tests below)."""
    out = tmp_path_factory.mktemp("ring8")
    data = _builtin("ring8") or ring8_points
    # The original GAN: the preset without its self-conditioning clusters.
    settings = {**get_family("gan").presets["points"], "seed": 1, "clusters": 0}
    # Half the preset's steps keeps the test near half a minute on one core.
    settings.update(steps=1000, sample_every=10_000, checkpoint_every=10_000)
    train(config_from_dict("gan", settings), data=data, out_dir=out, device="cpu")
    return out / "checkpoints/latest.pt", data


@pytest.mark.slow
def test_mlp_gan_captures_at_least_6_of_8_ring_modes(ring8_checkpoint):
    path, data = ring8_checkpoint
    samples = load_generator(path).sample(2500, seed=0)
    captured, high_quality = _mode_coverage(samples, data.modes, data.std)
    assert captured >= 6, (captured, high_quality)
    assert high_quality > 0.2


@pytest.mark.slow
def test_discriminator_rejection_sampling_sharpens_the_ring(ring8_checkpoint):
    """The same generator, its samples kept by its discriminator: the points
    on the bridges between modes go, no mode is lost."""
    from gan_core.evaluation.cli import evaluate_checkpoint

    path, _data = ring8_checkpoint
    plain = evaluate_checkpoint(path)["modes"]
    kept = evaluate_checkpoint(path, rejection=80)["modes"]
    assert kept["modes_captured"] >= plain["modes_captured"]
    gain = kept["high_quality_fraction"] - plain["high_quality_fraction"]
    assert gain > 0.05, (plain, kept)
    assert 0 < kept["rejection"]["acceptance"] < 1


def _digits() -> ImageData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 8 - 1
    images = F.interpolate(x, size=16, mode="bilinear", align_corners=False)
    labels = torch.tensor(digits.target)
    return ImageData(images.clamp(-1, 1), labels, tuple(str(i) for i in range(10)))


def _digit_classifier():
    """(images [N, 1, H, W] in [-1, 1]) -> predicted digits: the evaluation
    engineer's classifier when present, else logistic regression on 8x8 digits."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    digits = load_digits()
    model = LogisticRegression(max_iter=3000).fit(digits.data, digits.target)

    def predict(images):
        small = F.adaptive_avg_pool2d(images.float(), 8)[:, 0].reshape(len(images), 64)
        return torch.tensor(model.predict(((small + 1) * 8).numpy()))

    return predict


@pytest.mark.slow
def test_cgan_draws_the_asked_digit_well_above_chance(tmp_path):
    settings = {
        "image_size": 16,
        "steps": 300,
        "batch_size": 64,
        "g_channels": 32,
        "d_channels": 32,
        "sample_every": 10_000,
        "checkpoint_every": 10_000,
        "conditioning": "projection",
    }
    data = _digits()
    train(config_from_dict("cgan", settings), data=data, out_dir=tmp_path, device="cpu")
    handle = load_generator(tmp_path / "checkpoints/latest.pt")
    asked = torch.arange(500) % 10
    predicted = _digit_classifier()(handle.sample(500, seed=0, labels=asked))
    accuracy = (predicted == asked).float().mean().item()
    assert accuracy > 0.5, accuracy  # chance is 0.1
