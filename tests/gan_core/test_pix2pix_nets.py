"""pix2pix's U-Net and losses (Isola et al. 2017) on tiny CPU models."""

import math

import pytest
import torch
from torch import nn

from gan_core.losses.pix2pix import Pix2PixLoss, cgan_d_loss, cgan_g_loss, l1_loss
from gan_core.nets.cyclegan import PatchDiscriminator
from gan_core.nets.pix2pix import PairedTranslator, UnetGenerator, unet_depth


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_cgan_losses_match_hand_computed_cross_entropies():
    real, fake = torch.tensor([[0.0, 2.0]]), torch.tensor([[-1.0, 1.0]])
    # BCE(x, 1) = log(1 + e^-x), BCE(x, 0) = log(1 + e^x); D's sum is halved.
    want_d = 0.5 * (
        (softplus(-0.0) + softplus(-2.0)) / 2 + (softplus(-1.0) + softplus(1.0)) / 2
    )
    assert cgan_d_loss(real, fake).item() == pytest.approx(want_d, rel=1e-6)
    want_g = (softplus(1.0) + softplus(-1.0)) / 2  # -log sigmoid(D(x, G(x)))
    assert cgan_g_loss(fake).item() == pytest.approx(want_g, rel=1e-6)


def test_l1_term_is_lambda_100_times_the_mean_absolute_error():
    target = torch.zeros(1, 3, 2, 2)
    output = target.clone()
    output[0, 0, 0, 0] = 0.6  # one of 12 values off by 0.6
    assert l1_loss(target, output).item() == pytest.approx(100 * 0.6 / 12, rel=1e-6)
    assert l1_loss(target, output, weight=1.0).item() == pytest.approx(0.05, rel=1e-6)


class Fixed(nn.Module):
    """A 'generator' returning a fixed image, and a D that sums its input."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def forward(self, x):
        return self.out.expand_as(x)


class SumD(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, xy):
        self.seen.append(xy)
        return xy.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1)


def test_phases_add_adversarial_and_l1_and_condition_d_on_the_input():
    a = torch.full((2, 3, 4, 4), 0.5)
    b = torch.full((2, 3, 4, 4), -0.5)
    fake = torch.zeros(1, 3, 4, 4)
    D = SumD()
    loss = Pix2PixLoss(Fixed(fake), D, l1_weight=100.0)
    total, stats = loss.run_phase("G_main", (a, b))
    # D sees cat(a, G(a)): mean of 0.5 and 0 channels = 0.25 per image.
    assert D.seen[-1].shape == (2, 6, 4, 4)
    assert torch.equal(D.seen[-1][:, :3], a)
    adv = softplus(-0.25)
    assert stats["loss_g"] == pytest.approx(adv, rel=1e-6)
    assert stats["loss_l1"] == pytest.approx(100 * 0.5, rel=1e-6)
    assert total.item() == pytest.approx(adv + 50.0, rel=1e-6)
    d_total, d_stats = loss.run_phase("D_main", (a, b))
    # Real pair cat(a, b) averages 0; the fake pair kept from G's phase 0.25.
    want = 0.5 * (softplus(-0.0) + softplus(0.25))
    assert d_total.item() == pytest.approx(want, rel=1e-6)
    assert d_stats["d_fake"] == pytest.approx(0.25)


@pytest.mark.parametrize("size, depth", [(8, 3), (16, 4), (32, 5), (64, 6), (256, 8)])
def test_unet_skips_line_up_at_every_size(size, depth):
    assert unet_depth(size) == depth
    net = UnetGenerator(3, 1, ngf=2, depth=depth)
    shapes = []
    for layer in net.down:  # hook each encoder output: the skip it sends
        layer.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
    out = net(torch.randn(2, 3, size, size))
    assert out.shape == (2, 1, size, size)
    assert out.abs().max() <= 1.0  # Tanh
    # Each encoder layer halves the side; the innermost reaches size / 2^depth.
    assert [s[-1] for s in shapes] == [size // 2 ** (i + 1) for i in range(depth)]
    # The decoder layer mirroring encoder i takes its output plus the skip.
    for j, up in enumerate(net.up[1:], start=1):
        conv = next(m for m in up if isinstance(m, nn.ConvTranspose2d))
        i = depth - 1 - j
        assert conv.in_channels == 2 * shapes[i][1]


def test_unet_of_256_px_is_the_papers_encoder_and_decoder():
    net = UnetGenerator(3, 3, ngf=64, depth=8)
    enc = [
        next(m for m in d if isinstance(m, nn.Conv2d)).out_channels for d in net.down
    ]
    assert enc == [64, 128, 256, 512, 512, 512, 512, 512]
    dec = [
        next(m for m in u if isinstance(m, nn.ConvTranspose2d)).out_channels
        for u in net.up
    ]
    assert dec == [512, 512, 512, 512, 256, 128, 64, 3]
    dropouts = [any(isinstance(m, nn.Dropout) for m in u) for u in net.up]
    assert dropouts == [True, True, True, False, False, False, False, False]
    # No norm on C64 nor on the innermost encoder layer (1x1 at batch 1).
    norms = [any(isinstance(m, nn.BatchNorm2d) for m in d) for d in net.down]
    assert norms == [False, True, True, True, True, True, True, False]


def test_dropout_is_the_noise_in_training_and_off_in_eval():
    torch.manual_seed(0)
    g = PairedTranslator(UnetGenerator(3, 3, ngf=4, depth=4))
    x = torch.randn(2, 3, 16, 16)
    assert not torch.allclose(g(x), g(x))  # dropout draws differ
    g.eval()
    assert torch.equal(g(x), g(x))


def test_eval_translation_of_an_image_does_not_depend_on_its_batch():
    torch.manual_seed(0)
    g = PairedTranslator(UnetGenerator(3, 3, ngf=4, depth=4)).eval()
    x = torch.randn(4, 3, 16, 16)
    alone = g(x[:1])
    assert torch.allclose(g(x)[:1], alone, atol=1e-6)
    assert torch.allclose(g(torch.cat([x[:1], -x[1:]]))[:1], alone, atol=1e-6)


def test_translator_goes_one_way():
    g = PairedTranslator(UnetGenerator(3, 3, ngf=2, depth=3))
    with pytest.raises(ValueError, match="AtoB only"):
        g(torch.randn(1, 3, 8, 8), "BtoA")


def test_patch_discriminator_takes_the_pair_as_six_channels():
    d = PatchDiscriminator(6, ndf=4, n_layers=3)
    assert d(torch.randn(1, 6, 256, 256)).shape == (1, 1, 30, 30)  # the paper's
