"""CycleGAN's loss phases: what the generators and discriminators minimize."""

import torch

from gan_core.losses.cyclegan import CycleGANLoss
from gan_core.nets.cyclegan import (
    CycleDiscriminators,
    CycleGenerators,
    PatchDiscriminator,
    ResnetGenerator,
)


def tiny_loss(**kwargs):
    torch.manual_seed(0)
    g = CycleGenerators(ResnetGenerator(3, 3, 4, 1), ResnetGenerator(3, 3, 4, 1))
    d = CycleDiscriminators(PatchDiscriminator(3, 4, 1), PatchDiscriminator(3, 4, 1))
    return g, d, CycleGANLoss(g, d, **kwargs)


def test_generator_phase_adds_cycle_and_identity_terms():
    g, d, loss = tiny_loss()
    a, b = torch.rand(2, 3, 8, 8) * 2 - 1, torch.rand(2, 3, 8, 8) * 2 - 1
    value, stats = loss.run_phase("G_main", (a, b))
    expected = stats["loss_g"] + stats["loss_cycle"] + stats["loss_identity"]
    assert abs(value.item() - expected) < 1e-4
    _, without = tiny_loss(identity_weight=0.0)[2].run_phase("G_main", (a, b))
    assert "loss_identity" not in without


def test_discriminator_phase_judges_the_generator_phase_images_through_the_pools():
    g, d, loss = tiny_loss(pool_size=50)
    a, b = torch.rand(3, 3, 8, 8) * 2 - 1, torch.rand(3, 3, 8, 8) * 2 - 1
    loss.run_phase("G_main", (a, b))
    value, stats = loss.run_phase("D_main", (a, b))
    value.backward()
    assert len(loss.pool_a) == 3 and len(loss.pool_b) == 3
    assert all(p.grad is not None for p in d.parameters())
    assert all(p.grad is None for p in g.parameters())
