"""Penalties that differentiate a network twice work on compiled networks.

The networks are compiled with the aot_eager backend: AOTAutograd, whose
backward cannot be differentiated again, without inductor's minutes of C++
builds on a CPU. The same failure ended StyleGAN2's compiled runs on an H200.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from gan_core.losses.classic import gradient_penalty
from gan_core.losses.stylegan2 import StyleGAN2Loss, r1_penalty
from gan_core.nets.stylegan2 import StyleDiscriminator, StyleGenerator


def _compiled(module: nn.Module) -> nn.Module:
    torch._dynamo.reset()
    module.compile(backend="aot_eager")
    return module


def _pair():
    torch.manual_seed(0)
    g = StyleGenerator(8, 8, 16, 3, mapping_layers=2, channel_base=64, channel_max=8)
    d = StyleDiscriminator(16, 3, channel_base=64, channel_max=8)
    return g, d


def _grads(value: torch.Tensor, net: nn.Module) -> list[torch.Tensor]:
    """d value / d each parameter (zero for one a penalty does not reach, as
    the last bias under a gradient with respect to the input)."""
    params = list(net.parameters())
    grads = torch.autograd.grad(value, params, allow_unused=True)
    pairs = zip(params, grads, strict=True)
    return [torch.zeros_like(p) if g is None else g for p, g in pairs]


def _phase_grads(loss: StyleGAN2Loss, net: nn.Module, phase: str, real):
    torch.manual_seed(1)  # the same latents and path-length noise each time
    value, _ = loss.run_phase(phase, real, None)
    return value.detach(), _grads(value, net)


def test_a_compiled_network_cannot_be_differentiated_twice_by_itself():
    """Why the penalties run their passes eagerly: the case they avoid."""
    _, d = _pair()
    _compiled(d)
    real = (torch.rand(2, 3, 16, 16) * 2 - 1).requires_grad_(True)
    with pytest.raises(RuntimeError, match="double backward"):
        r1_penalty(real, d(real)).sum().backward()


@pytest.mark.parametrize("phase", ["D_reg", "G_reg"])
def test_r1_and_path_length_on_compiled_networks_equal_the_eager_ones(phase):
    real = torch.rand(4, 3, 16, 16) * 2 - 1
    g, d = _pair()
    eager_g, eager_d = copy.deepcopy(g), copy.deepcopy(d)
    trained = d if phase == "D_reg" else g.synthesis
    _compiled(trained)
    value, grads = _phase_grads(StyleGAN2Loss(g, d), trained, phase, real)
    eager_trained = eager_d if phase == "D_reg" else eager_g.synthesis
    want_value, want = _phase_grads(
        StyleGAN2Loss(eager_g, eager_d), eager_trained, phase, real
    )
    assert torch.allclose(value, want_value) and value > 0
    for got, expected in zip(grads, want, strict=True):
        assert torch.allclose(got, expected, atol=1e-6)
    assert any(g.abs().sum() > 0 for g in grads)


def test_the_gradient_penalty_on_a_compiled_critic_equals_the_eager_one():
    torch.manual_seed(2)
    critic = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
    eager = copy.deepcopy(critic)
    _compiled(critic)
    real, fake, eps = torch.randn(6, 5), torch.randn(6, 5), torch.rand(6)

    def grads(net):
        gp = gradient_penalty(lambda x: net(x).squeeze(1), real, fake, eps)
        return gp.detach(), _grads(gp, net)

    (value, got), (want_value, want) = grads(critic), grads(eager)
    assert torch.allclose(value, want_value) and value > 0
    for a, b in zip(got, want, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
