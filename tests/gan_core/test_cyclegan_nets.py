"""CycleGAN networks and losses (Zhu 2017) on tiny CPU models."""

import pytest
import torch
from torch import nn

from gan_core.losses.cyclegan import (
    cycle_loss,
    identity_loss,
    lsgan_d_loss,
    lsgan_g_loss,
)
from gan_core.nets.cyclegan import (
    PatchDiscriminator,
    ResnetGenerator,
    default_res_blocks,
    patch_layers_for,
)


def receptive_field(model: nn.Module) -> int:
    """Receptive field of a stack of convs: 1 + sum (k - 1) * product of strides."""
    rf, jump = 1, 1
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            rf += (m.kernel_size[0] - 1) * jump
            jump *= m.stride[0]
    return rf


def test_cycle_loss_is_zero_for_identity_generators():
    a, b = torch.rand(4, 3, 8, 8) * 2 - 1, torch.rand(4, 3, 8, 8) * 2 - 1
    g_ab = g_ba = nn.Identity()
    total = cycle_loss(a, g_ba(g_ab(a))) + cycle_loss(b, g_ab(g_ba(b)))
    assert total.item() == 0.0
    # And it is lambda times the L1 error otherwise.
    shifted = a + 0.1
    assert cycle_loss(a, shifted).item() == pytest.approx(10 * 0.1, rel=1e-5)


def test_identity_loss_is_half_the_cycle_weight_by_default():
    b = torch.zeros(2, 3, 4, 4)
    assert identity_loss(b, b + 0.2).item() == pytest.approx(5 * 0.2, rel=1e-5)


def test_lsgan_losses_match_hand_computed_values():
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.5, -1.0])
    # 0.5 * (mean([0, 1]) + mean([0.25, 1])) = 0.5 * (0.5 + 0.625)
    assert lsgan_d_loss(real, fake).item() == pytest.approx(0.5625)
    # mean([0.25, 4]) = 2.125
    assert lsgan_g_loss(fake).item() == pytest.approx(2.125)


def test_default_patch_discriminator_sees_70x70_patches():
    d = PatchDiscriminator(3, ndf=4, n_layers=3)
    assert receptive_field(d) == 70
    assert d(torch.randn(1, 3, 128, 128)).shape == (1, 1, 14, 14)


@pytest.mark.parametrize("size", [8, 16, 32])
def test_patch_depth_shrinks_so_small_images_still_give_logits(size):
    d = PatchDiscriminator(3, ndf=4, n_layers=patch_layers_for(size))
    out = d(torch.randn(2, 3, size, size))
    assert out.shape[:2] == (2, 1) and out.shape[-1] >= 1


@pytest.mark.parametrize("size", [8, 20, 32])
def test_generator_keeps_the_image_size_and_range(size):
    g = ResnetGenerator(3, 3, ngf=4, n_blocks=2)
    out = g(torch.randn(2, 3, size, size))
    assert out.shape == (2, 3, size, size)
    assert out.abs().max() <= 1.0


def test_residual_blocks_follow_the_paper():
    assert default_res_blocks(128) == 6 and default_res_blocks(256) == 9
    g = ResnetGenerator(3, 3, ngf=4, n_blocks=default_res_blocks(32))
    blocks = [m for m in g.modules() if type(m).__name__ == "ResidualBlock"]
    assert len(blocks) == 6


def test_networks_start_from_the_authors_normal_initialization():
    """init_weights "normal": conv weights N(0, 0.02), biases 0, and affine norm
    weights N(1, 0.02) (junyanz/pytorch-CycleGAN-and-pix2pix)."""
    from gan_core.nets.cyclegan import init_normal

    torch.manual_seed(0)
    nets = [ResnetGenerator(3, 3, ngf=16, n_blocks=2), PatchDiscriminator(3, 16)]
    weights = []
    for net in nets:
        for m in net.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                weights.append(m.weight.flatten())
                assert m.bias is None or torch.equal(m.bias, torch.zeros_like(m.bias))
    w = torch.cat(weights)
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3
    # PyTorch's default (Kaiming uniform) would be far wider at these fan-ins.
    assert w.abs().max() < 0.2
    norm = init_normal(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm2d(4000)))
    assert abs(norm[1].weight.mean().item() - 1) < 2e-3
    assert abs(norm[1].weight.std().item() - 0.02) < 2e-3
    assert torch.equal(norm[0].bias, torch.zeros(4))
