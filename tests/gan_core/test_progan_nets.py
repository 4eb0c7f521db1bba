"""Progressive growing (Karras 2018): fade-in, pixel norm and the WGAN-GP loss."""

import pytest
import torch

from gan_core.losses.progan import wgan_drift_d_loss
from gan_core.nets.progan import (
    ProDiscriminator,
    ProGenerator,
    downsample,
    fade,
    num_stages,
    pixel_norm,
    upsample,
)


def tiny_pair(image_size=16, seed=0):
    torch.manual_seed(seed)
    g = ProGenerator(
        z_dim=8, image_size=image_size, channels=3, channel_base=64, channel_max=8
    )
    d = ProDiscriminator(
        image_size=image_size, channels=3, channel_base=64, channel_max=8
    )
    return g, d


def test_fade_in_at_alpha_zero_equals_the_upsampled_previous_stage():
    g, _ = tiny_pair(image_size=16)
    z = torch.randn(4, 8)
    previous = g(z, stage=1, alpha=1.0, full_size=False)  # 8x8
    faded = g(z, stage=2, alpha=0.0, full_size=False)  # 16x16
    assert previous.shape[-1] == 8 and faded.shape[-1] == 16
    assert torch.allclose(faded, upsample(previous, 16), atol=1e-6)
    # At alpha 1 the new stage alone speaks, and it differs from the old one.
    new = g(z, stage=2, alpha=1.0, full_size=False)
    assert (new - faded).abs().max() > 1e-3
    half = g(z, stage=2, alpha=0.5, full_size=False)
    assert torch.allclose(half, (new + faded) / 2, atol=1e-5)


def test_discriminator_fade_in_at_alpha_zero_sees_only_the_previous_stage():
    _, d = tiny_pair(image_size=16)
    x = torch.randn(4, 3, 16, 16)
    faded = d(x, stage=2, alpha=0.0)
    previous = d(downsample(x, 8), stage=1, alpha=1.0)
    assert torch.allclose(faded, previous, atol=1e-5)


def test_a_fade_of_an_fp32_and_a_bf16_image_is_in_fp32():
    """What CUDA autocast hands the fade-in (seen on an H200: lerp refused it)."""
    old, new = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4, dtype=torch.bfloat16)
    with pytest.raises(RuntimeError):
        torch.lerp(old, new, 0.25)
    out = fade(old, new, 0.25)
    assert out.dtype == torch.float32
    assert torch.equal(out, torch.full_like(old, 0.25))


def test_generator_returns_full_size_images_at_every_stage():
    g, d = tiny_pair(image_size=16)
    z = torch.randn(2, 8)
    for stage in range(num_stages(16)):
        g.set_progress(stage, 0.5)
        img = g(z)
        assert img.shape == (2, 3, 16, 16)
        # A 4x4 stage upsampled by nearest neighbour is constant on 4x4 blocks.
        block = 16 // (4 * 2**stage)
        assert torch.allclose(
            img, upsample(downsample(img, 16 // block), 16), atol=1e-6
        )
        d.set_progress(stage, 0.5)
        assert d(img).shape == (2, 1)


def test_progress_lives_in_buffers_and_is_validated():
    g, _ = tiny_pair(image_size=16)
    g.set_progress(1, 0.25)
    state = g.state_dict()
    assert int(state["stage"]) == 1 and float(state["alpha"]) == 0.25
    g2, _ = tiny_pair(image_size=16, seed=1)
    g2.load_state_dict(state)
    assert int(g2.stage) == 1
    with pytest.raises(ValueError):
        g.set_progress(3, 1.0)
    with pytest.raises(ValueError):
        num_stages(24)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = torch.randn(2, 6, 5, 5) * 7
    assert torch.allclose(
        pixel_norm(x).square().mean(dim=1), torch.ones(2, 5, 5), atol=1e-5
    )


def test_wgan_drift_loss_matches_hand_computed_values():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.5, -0.5])
    # E[D(G(z))] - E[D(x)] + 0.001 E[D(x)^2] = 0 - 2 + 0.001 * 5.
    assert wgan_drift_d_loss(real, fake).item() == pytest.approx(-2 + 0.005)


def test_schedule_stabilizes_fades_in_and_ends_at_full_size():
    from gan_core.losses.progan import auto_phase_steps, progan_schedule

    # 3 stages, 10 steps per phase: 4x4 stable, 8 fade, 8 stable, 16 fade, 16 stable.
    assert progan_schedule(0, 3, 10) == (0, 1.0)
    assert progan_schedule(9, 3, 10) == (0, 1.0)
    assert progan_schedule(10, 3, 10) == (1, 0.0)
    assert progan_schedule(15, 3, 10) == (1, 0.5)
    assert progan_schedule(20, 3, 10) == (1, 1.0)
    assert progan_schedule(35, 3, 10) == (2, 0.5)
    assert progan_schedule(49, 3, 10) == (2, 1.0)
    assert progan_schedule(10_000, 3, 10) == (2, 1.0)
    assert auto_phase_steps(100, 3) == 20


def test_loss_moves_every_network_along_the_schedule_and_reports_it():
    from gan_core.losses.progan import ProGANLoss

    g, d = tiny_pair(image_size=16)
    ema, _ = tiny_pair(image_size=16, seed=2)
    loss = ProGANLoss(g, d, phase_steps=10)
    loss.followers.append(ema)
    assert loss.set_step(15) == {"resolution": 8, "alpha": 0.5}
    assert all(int(n.stage) == 1 and float(n.alpha) == 0.5 for n in (g, d, ema))
    real = torch.rand(4, 3, 16, 16) * 2 - 1
    value, stats = loss.run_phase("D_main", real)
    assert value.requires_grad and stats["resolution"] == 8 and stats["alpha"] == 0.5
    value, stats = loss.run_phase("G_main", real)
    assert value.requires_grad and "loss_g" in stats


def test_real_images_fade_like_the_generator():
    from gan_core.losses.progan import fade_reals

    real = torch.randn(2, 3, 16, 16)
    assert torch.allclose(fade_reals(real, 16, 0.0), upsample(downsample(real, 8), 16))
    assert torch.allclose(fade_reals(real, 16, 1.0), real)
    assert fade_reals(real, 8, 1.0).shape[-1] == 8
