"""The classic families' maths against values worked out by hand."""

import math

import pytest
import torch
from torch import nn

from gan_core.config import config_from_dict
from gan_core.losses.classic import (
    clip_weights,
    gradient_penalty,
    hinge_d_loss,
    hinge_g_loss,
    ns_d_loss,
    ns_g_loss,
    wasserstein_d_loss,
)
from gan_core.nets.classic import DCDiscriminator
from gan_core.trainer import train


def test_hinge_losses_match_hand_computed_values():
    real = torch.tensor([0.5, 2.0, -1.0])
    fake = torch.tensor([-2.0, 0.5])
    # max(0, 1 - real) = [0.5, 0, 2] -> 5/6; max(0, 1 + fake) = [0, 1.5] -> 0.75
    assert hinge_d_loss(real, fake).item() == pytest.approx(5 / 6 + 0.75)
    assert hinge_g_loss(fake).item() == pytest.approx(0.75)


def test_non_saturating_losses_match_hand_computed_values():
    zero = torch.zeros(4)
    assert ns_d_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    assert ns_g_loss(zero).item() == pytest.approx(math.log(2))
    # -log sigmoid(2) - log(1 - sigmoid(-1)) = log(1 + e^-2) + log(1 + e^-1)
    d = ns_d_loss(torch.tensor([2.0]), torch.tensor([-1.0])).item()
    assert d == pytest.approx(math.log1p(math.exp(-2)) + math.log1p(math.exp(-1)))
    # -log sigmoid(-1) = log(1 + e)
    assert ns_g_loss(torch.tensor([-1.0])).item() == pytest.approx(math.log1p(math.e))


def test_wasserstein_critic_loss_is_the_mean_gap():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.5, -0.5])
    assert wasserstein_d_loss(real, fake).item() == pytest.approx(0.0 - 2.0)


def test_gradient_penalty_matches_analytic_value_on_a_linear_critic():
    # D(x) = <w, x> has gradient w everywhere: penalty (||w|| - 1)^2 = (3 - 1)^2.
    w = torch.zeros(1, 2, 3, 3)
    w.view(-1)[:2] = torch.tensor([2.0 * math.sqrt(2), 1.0])  # ||w|| = 3

    def critic(x):
        return (x * w).flatten(1).sum(1)

    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(4.0, rel=1e-5)


def test_gradient_penalty_matches_analytic_value_on_a_quadratic_critic():
    # D(x) = ||x||^2 / 2 has gradient x: penalty mean((||x_hat|| - 1)^2).
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    eps = torch.rand(6)
    x_hat = eps[:, None] * real + (1 - eps[:, None]) * fake
    expected = (x_hat.norm(dim=1) - 1).square().mean()
    got = gradient_penalty(lambda x: 0.5 * x.square().sum(1), real, fake, eps)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_clip_weights_bounds_every_parameter():
    net = nn.Linear(4, 4)
    nn.init.normal_(net.weight, std=5.0)
    clip_weights(net, 0.01)
    assert all(p.abs().max() <= 0.01 for p in net.parameters())


def test_wgan_training_keeps_every_critic_weight_within_c(
    tmp_path, tiny_images, tiny_settings
):
    values = tiny_settings("wgan", lr_d=0.5, lr_g=0.5, clip_value=0.02, steps=3)
    train(
        config_from_dict("wgan", values),
        data=tiny_images,
        out_dir=tmp_path,
        device="cpu",
    )
    state = torch.load(tmp_path / "checkpoints/latest.pt", weights_only=True)
    critic = [
        v
        for k, v in state["nets"]["D"].items()
        if "running" not in k and "num_batches" not in k
    ]
    assert critic and all(v.abs().max() <= 0.02 + 1e-7 for v in critic)
    assert max(v.abs().max() for v in critic) == pytest.approx(0.02)


def _largest_singular_values(net: nn.Module) -> list[float]:
    out = []
    for module in net.modules():
        if hasattr(module, "parametrizations") and "weight" in module.parametrizations:
            w = module.weight.detach()
            out.append(torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), 2).item())
    return out


def test_spectral_norm_gives_every_weight_unit_largest_singular_value():
    torch.manual_seed(0)
    D = DCDiscriminator(
        16, 3, width=8, norm="spectral", num_classes=4, conditioning="projection"
    )
    x, y = torch.randn(4, 3, 16, 16), torch.arange(4)
    for _ in range(5):  # power iterations run in training mode
        D(x, y)
    D.eval()
    sigmas = _largest_singular_values(D)
    assert len(sigmas) == 4  # three convolutions and the projection embedding
    assert all(abs(s - 1) < 0.05 for s in sigmas), sigmas


def test_sngan_discriminator_stays_normalized_after_training(
    tmp_path, tiny_images, tiny_settings
):
    config = config_from_dict("sngan", tiny_settings("sngan", steps=6))
    train(config, data=tiny_images, out_dir=tmp_path, device="cpu")
    state = torch.load(tmp_path / "checkpoints/latest.pt", weights_only=True)
    D = DCDiscriminator(8, 3, width=4, norm="spectral")
    D.load_state_dict(state["nets"]["D"])
    D.eval()
    sigmas = _largest_singular_values(D)
    assert sigmas and all(abs(s - 1) < 0.05 for s in sigmas), sigmas


def test_a_packing_discriminator_judges_groups_of_samples():
    """PacGAN: D sees ``pack`` samples side by side, one logit per group, and
    its verdict depends on every member of the group."""
    from gan_core.config import ConfigError
    from gan_core.nets.classic import MLPDiscriminator

    torch.manual_seed(0)
    D = MLPDiscriminator((2,), hidden=16, depth=2, pack=4)
    x = torch.randn(12, 2, requires_grad=True)
    logits = D(x)
    assert logits.shape == (3,)
    # The first group's logit moves with each of its four samples, not others.
    logits[0].backward()
    assert (x.grad[:4].abs().sum(1) > 0).all()
    assert (x.grad[4:] == 0).all()
    with pytest.raises(ValueError, match="packs of 4"):
        D(torch.randn(10, 2))
    with pytest.raises(ConfigError) as error:
        config_from_dict("gan", {"batch_size": 30, "pack": 4})
    assert error.value.field == "pack"


def test_a_packed_mlp_gan_trains_and_draws_its_heatmap(tmp_path):
    """The trainer and the points heatmap work with a packing D."""
    from gan_core.data.builtin import load_builtin

    config = config_from_dict(
        "gan",
        {
            "steps": 30,
            "batch_size": 64,
            "pack": 4,
            "hidden": 32,
            "z_dim": 8,
            "sample_every": 30,
            "checkpoint_every": 30,
        },
    )
    events = []
    result = train(
        config,
        data=load_builtin("ring8"),
        out_dir=tmp_path,
        device="cpu",
        on_event=lambda event: events.append(event.to_dict()),
    )
    assert result.status == "finished"
    samples = [e for e in events if e["type"] == "sample"]
    assert samples and samples[-1].get("points")
    surface = samples[-1]["surface"]  # one D value per grid point, not per pack
    assert len(surface["values"]) == surface["size"] ** 2
