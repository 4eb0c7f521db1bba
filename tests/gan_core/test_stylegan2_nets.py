"""StyleGAN2 networks: the mechanisms of Karras 2020, on tiny CPU models."""

import math

import pytest
import torch

from gan_core.losses.stylegan2 import (
    PathLengthRegularizer,
    lazy_adam,
    lazy_due,
    r1_penalty,
)
from gan_core.nets.equalized import EqualLinear, minibatch_stddev
from gan_core.nets.stylegan2 import (
    ModulatedConv2d,
    StyleDiscriminator,
    StyleGenerator,
    mix_styles,
    num_ws_for,
    style_layer_ranges,
)


def tiny_generator(image_size=16, num_classes=0, seed=0):
    torch.manual_seed(seed)
    return StyleGenerator(
        z_dim=8,
        w_dim=8,
        image_size=image_size,
        channels=3,
        num_classes=num_classes,
        mapping_layers=2,
        channel_base=64,
        channel_max=8,
    )


def test_demodulated_conv_keeps_unit_variance_for_unit_variance_input():
    torch.manual_seed(0)
    conv = ModulatedConv2d(32, 32, 3, w_dim=8, demodulate=True)
    x = torch.randn(4, 32, 40, 40)
    # Styles far from one: without demodulation these would scale the variance.
    w = torch.randn(4, 8) * 3
    y = conv(x, w)[:, :, 1:-1, 1:-1]  # Interior pixels: zero padding adds no terms.
    per_sample_var = y.square().mean(dim=(1, 2, 3))
    assert torch.allclose(per_sample_var, torch.ones(4), atol=0.05)

    plain = ModulatedConv2d(32, 32, 3, w_dim=8, demodulate=False)
    plain.load_state_dict(conv.state_dict())
    plain_var = plain(x, w)[:, :, 1:-1, 1:-1].square().mean(dim=(1, 2, 3))
    assert (plain_var - 1).abs().max() > 0.5


def test_demodulation_matches_explicit_per_sample_weights():
    # Eq. 1-3 written literally (w' = s w, w'' = w' / sigma) with a grouped conv.
    torch.manual_seed(1)
    conv = ModulatedConv2d(4, 5, 3, w_dim=6)
    x, w = torch.randn(2, 4, 7, 7), torch.randn(2, 6)
    s = conv.affine(w)
    weight = conv.weight[None] * conv.weight_gain * s[:, None, :, None, None]
    weight = weight / weight.square().sum(dim=(2, 3, 4), keepdim=True).add(1e-8).sqrt()
    ref = torch.nn.functional.conv2d(
        x.reshape(1, 8, 7, 7), weight.reshape(10, 4, 3, 3), padding=1, groups=2
    ).reshape(2, 5, 7, 7)
    assert torch.allclose(conv(x, w), ref, atol=1e-5)


def test_psi_zero_gives_the_image_of_the_mean_w_for_every_sample():
    g = tiny_generator()
    g.mapping.w_avg.copy_(torch.randn(8))  # As if tracked during training.
    imgs = g(torch.randn(6, 8), truncation_psi=0.0, noise_mode="const")
    w_avg = g.mapping.w_avg.expand(1, g.num_ws, 8)
    ref = g.synthesis(w_avg, noise_mode="const")
    assert torch.allclose(imgs, ref.expand_as(imgs), atol=1e-6)
    # And psi = 1 leaves samples distinct.
    free = g(torch.randn(6, 8), truncation_psi=1.0, noise_mode="const")
    assert (free[0] - free[1]).abs().max() > 1e-3


def test_mapping_tracks_the_mean_w_while_training():
    g = tiny_generator()
    torch.manual_seed(3)
    z = torch.randn(256, 8)
    target = g.mapping(z)[:, 0].mean(dim=0)
    for _ in range(1500):  # beta = 0.995: 1 - 0.995^1500 ~ 0.9995 of the way.
        g.mapping(z, update_w_avg=True)
    assert torch.allclose(g.mapping.w_avg, target, atol=1e-3)


def test_style_mixed_image_equals_row_or_column_when_all_layers_come_from_it():
    g = tiny_generator(image_size=32)
    torch.manual_seed(4)
    ws_row = g.mapping(torch.randn(3, 8))
    ws_col = g.mapping(torch.randn(3, 8))
    row = g.synthesis(ws_row, noise_mode="const")
    col = g.synthesis(ws_col, noise_mode="const")
    all_layers = list(range(g.num_ws))
    from_row = g.synthesis(mix_styles(ws_row, ws_col, []), noise_mode="const")
    from_col = g.synthesis(mix_styles(ws_row, ws_col, all_layers), noise_mode="const")
    assert torch.equal(from_row, row)
    assert torch.allclose(from_col, col, atol=1e-6)
    middle = style_layer_ranges(32)["middle"]
    mixed = g.synthesis(mix_styles(ws_row, ws_col, middle), noise_mode="const")
    assert (mixed - row).abs().max() > 1e-4 and (mixed - col).abs().max() > 1e-4


def test_layer_ranges_follow_the_paper_from_64_px_and_cover_all_ws():
    ranges = style_layer_ranges(256)  # 14 ws: 4-8 px, 16-32 px, 64-256 px.
    assert ranges["coarse"] == [0, 1, 2]
    assert ranges["middle"] == [3, 4, 5, 6]
    assert ranges["fine"] == list(range(7, 14))
    for size in (16, 32, 64, 1024):
        r = style_layer_ranges(size)
        assert sorted(r["coarse"] + r["middle"] + r["fine"]) == list(
            range(num_ws_for(size))
        )
        assert all(r[k] for k in ("coarse", "middle", "fine"))


@pytest.mark.parametrize("size", [16, 32])
def test_generator_and_discriminator_shapes(size):
    g = tiny_generator(image_size=size)
    d = StyleDiscriminator(image_size=size, channels=3, channel_base=64, channel_max=8)
    img = g(torch.randn(4, 8))
    assert img.shape == (4, 3, size, size)
    assert d(img).shape == (4, 1)
    assert g.num_ws == 2 * int(math.log2(size)) - 2


def test_conditional_models_need_and_use_labels():
    g = tiny_generator(num_classes=3)
    d = StyleDiscriminator(16, 3, num_classes=3, channel_base=64, channel_max=8)
    z = torch.randn(1, 8).repeat(3, 1)
    imgs = g(z, torch.tensor([0, 1, 2]), noise_mode="const")
    assert (imgs[0] - imgs[1]).abs().max() > 1e-4
    assert d(imgs, torch.tensor([0, 1, 2])).shape == (3, 1)
    with pytest.raises(ValueError, match="labels"):
        g(z)


def test_noise_strength_is_learned_and_const_noise_is_reproducible():
    g = tiny_generator()
    z = torch.randn(2, 8)
    assert torch.equal(g(z, noise_mode="const"), g(z, noise_mode="const"))
    for layer in g.synthesis.layers:
        layer.noise_strength.data.fill_(0.5)
    a, b = g(z, noise_mode="random"), g(z, noise_mode="random")
    assert (a - b).abs().max() > 1e-4
    assert all(
        p.requires_grad for p in (layer.noise_strength for layer in g.synthesis.layers)
    )


def test_equalized_linear_scales_weights_at_run_time():
    torch.manual_seed(5)
    layer = EqualLinear(100, 50, lr_mul=0.01)
    # Stored weights are N(0, 1 / lr_mul^2); the effective weights are He-scaled.
    assert 80 < layer.weight.std() < 120
    effective = layer.weight * layer.weight_gain
    assert abs(effective.std().item() - 1 / math.sqrt(100)) < 0.01


def test_minibatch_stddev_is_zero_for_identical_samples_and_positive_otherwise():
    same = torch.randn(1, 3, 4, 4).repeat(8, 1, 1, 1)
    assert minibatch_stddev(same)[:, -1].abs().max() < 1e-3
    varied = minibatch_stddev(torch.randn(8, 3, 4, 4))
    assert varied.shape == (8, 4, 4, 4) and varied[:, -1].min() > 0.3


def test_r1_penalty_is_the_squared_input_gradient_norm():
    # D(x) = sum(a * x) has gradient a everywhere: R1 = ||a||^2 per sample.
    a = torch.randn(1, 3, 4, 4)
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    logits = (a * x).sum(dim=(1, 2, 3))
    assert torch.allclose(r1_penalty(x, logits), a.square().sum().repeat(2), rtol=1e-5)


def test_path_length_regularizer_tracks_the_mean_length():
    # A linear "generator" img = ws @ M has a known Jacobian; lengths concentrate.
    torch.manual_seed(6)
    reg = PathLengthRegularizer(decay=0.01)
    m = torch.randn(4, 3 * 8 * 8)
    for _ in range(600):
        ws = torch.randn(16, 2, 4, requires_grad=True)
        img = (ws.sum(dim=1) @ m).reshape(16, 3, 8, 8)
        penalty = reg(img, ws)
    # Every w gets the gradient M y with y ~ N(0, I / HW), so the length is ||M y||
    # and E||M y||^2 = ||M||_F^2 / HW (E of the root is ~6% lower for 4 dims).
    expected = math.sqrt(m.square().sum().item() / 64)
    assert reg.pl_mean.item() == pytest.approx(expected, rel=0.15)
    assert penalty.shape == (16,)


def test_lazy_regularization_schedule_and_adam_compensation():
    r1_steps = [s for s in range(64) if lazy_due(s, 16)]
    pl_steps = [s for s in range(16) if lazy_due(s, 4)]
    assert r1_steps == [0, 16, 32, 48]
    assert pl_steps == [0, 4, 8, 12]
    assert not any(lazy_due(s, 0) for s in range(10))
    lr, betas = lazy_adam(0.002, (0.0, 0.99), 16)
    assert lr == pytest.approx(0.002 * 16 / 17)
    assert betas[1] == pytest.approx(0.99 ** (16 / 17))
