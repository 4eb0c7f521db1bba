"""StyleGAN2's loss phases: lazy regularization intervals and what each phase does."""

import torch

from gan_core.losses.stylegan2 import StyleGAN2Loss, lazy_due
from gan_core.nets.stylegan2 import StyleDiscriminator, StyleGenerator


def tiny_loss(**kwargs):
    torch.manual_seed(0)
    g = StyleGenerator(8, 8, 16, 3, mapping_layers=2, channel_base=64, channel_max=8)
    d = StyleDiscriminator(16, 3, channel_base=64, channel_max=8)
    return g, d, StyleGAN2Loss(g, d, **kwargs)


def test_lazy_regularization_runs_r1_every_16_and_path_length_every_4_steps():
    g, d, loss = tiny_loss()
    calls = {name: [] for name in loss.phase_intervals()}
    real = torch.rand(4, 3, 16, 16) * 2 - 1
    for step in range(33):
        for phase, interval in loss.phase_intervals().items():
            if lazy_due(step, interval):
                calls[phase].append(step)
    assert calls["D_reg"] == [0, 16, 32]
    assert calls["G_reg"] == list(range(0, 33, 4))
    assert calls["G_main"] == calls["D_main"] == list(range(33))
    # The lazy penalties are scaled by their interval (section 3.1).
    value, stats = loss.run_phase("D_reg", real, None)
    assert torch.isclose(value, torch.tensor(stats["r1_penalty"] * 10 / 2 * 16))


def test_regularizers_switch_off_with_zero_weight():
    _, _, loss = tiny_loss(r1_gamma=0.0, pl_weight=0.0)
    assert loss.phase_intervals()["D_reg"] == 0 and loss.phase_intervals()["G_reg"] == 0


def test_style_mixing_regularization_mixes_with_the_stated_probability():
    g, _, loss = tiny_loss(style_mixing_prob=0.9)
    torch.manual_seed(1)
    z = torch.randn(2, 8)
    plain = g.mapping(z)
    mixed = 0
    for _ in range(200):
        ws = loss.generate_ws(z, None)
        mixed += int(not torch.allclose(ws, plain))
    assert 160 <= mixed <= 195  # 0.9 of 200, +- about 3 standard errors.


def test_g_main_updates_the_tracked_mean_w_and_phases_give_gradients():
    g, d, loss = tiny_loss()
    real = torch.rand(4, 3, 16, 16) * 2 - 1
    before = g.mapping.w_avg.clone()
    for phase in ("G_main", "G_reg", "D_main", "D_reg"):
        value, stats = loss.run_phase(phase, real, None)
        value.backward()
        assert stats and torch.isfinite(value)
    assert not torch.equal(before, g.mapping.w_avg)
    assert loss.path_length.pl_mean.item() > 0
    assert "path_length.pl_mean" in loss.state_dict()
