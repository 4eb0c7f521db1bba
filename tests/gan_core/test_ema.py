"""The generator EMA: half-life in images for StyleGAN2, per-step elsewhere."""

import pytest
import torch
from advanced_helpers import make_trainer, shapes_data

from gan_core.ema import ema_beta, ema_beta_for_images

TINY_STYLE = dict(
    image_size=16,
    batch_size=8,
    z_dim=8,
    w_dim=8,
    mapping_layers=2,
    channel_base=128,
    channel_max=16,
    sample_every=10**6,
    checkpoint_every=10**6,
)


@pytest.mark.parametrize("batch", [8, 64])
def test_half_life_is_ten_thousand_images_whatever_the_batch(batch):
    steps = 10_000 // batch
    kept = ema_beta_for_images(10.0, 0.0, 10**6, batch) ** steps
    assert kept == pytest.approx(0.5 ** (steps * batch / 10_000))
    assert kept == pytest.approx(0.5, abs=0.01)


def test_ramp_up_copies_first_then_caps_the_half_life_at_a_share_of_images_seen():
    assert ema_beta_for_images(10.0, 0.05, 0, 32) == 0.0
    # 1,000 images seen: half-life min(10,000, 50) = 50 images.
    assert ema_beta_for_images(10.0, 0.05, 1000, 32) == pytest.approx(0.5 ** (32 / 50))
    # Late in training the ramp no longer binds.
    late = ema_beta_for_images(10.0, 0.05, 10**7, 32)
    assert late == pytest.approx(0.5 ** (32 / 10_000))


def _params(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def test_stylegan2_trainer_moves_its_ema_by_the_image_half_life(tmp_path):
    # 16-image half-life at batch 8, no ramp-up: beta = 0.5 ** (8 / 16).
    trainer = make_trainer(
        "stylegan2", shapes_data(16), tmp_path, ema_kimg=0.016, ema_rampup=0.0,
        **TINY_STYLE,
    )  # fmt: skip
    start = _params(trainer.ema)
    trainer.train_step()
    beta = 0.5**0.5
    want = beta * start + (1 - beta) * _params(trainer.recipe.nets["G"])
    assert torch.allclose(_params(trainer.ema), want, atol=1e-6)


def test_stylegan2_defaults_ramp_up_so_the_first_step_copies_the_generator(tmp_path):
    trainer = make_trainer("stylegan2", shapes_data(16), tmp_path, **TINY_STYLE)
    assert (trainer.config.ema_kimg, trainer.config.ema_rampup) == (10.0, 0.05)
    trainer.train_step()
    assert torch.equal(_params(trainer.ema), _params(trainer.recipe.nets["G"]))


def test_classic_families_keep_their_per_step_decay(tmp_path, tiny_images):
    trainer = make_trainer(
        "dcgan", tiny_images, tmp_path, image_size=8, batch_size=4, z_dim=8,
        g_channels=4, d_channels=4, ema=0.999,
    )  # fmt: skip
    assert trainer.config.ema_kimg == 0
    start = _params(trainer.ema)
    trainer.train_step()
    beta = ema_beta(0.999, 0)  # min(0.999, 1 / 10)
    want = beta * start + (1 - beta) * _params(trainer.recipe.nets["G"])
    assert torch.allclose(_params(trainer.ema), want, atol=1e-6)
