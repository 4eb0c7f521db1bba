"""gan_core.grid_sample: F.grid_sample's values and derivatives, with the
second derivative that R1 needs through ADA on CUDA (where PyTorch has none).
On the CPU PyTorch has one, so it is the reference here."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from gan_core.augment_pipe import AugmentPipe
from gan_core.grid_sample import grid_sample_bilinear


def _case(seed: int = 0, n: int = 2, c: int = 3, size: int = 7):
    """Images and a grid whose points fall inside and outside the image
    (zeros padding), at fractional positions."""
    gen = torch.Generator().manual_seed(seed)
    image = torch.randn(n, c, size, size, generator=gen, dtype=torch.float64)
    grid = torch.rand(n, size + 2, size - 1, 2, generator=gen, dtype=torch.float64)
    return image, grid * 2.6 - 1.3


def _reference(image, grid):
    return F.grid_sample(
        image, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )


def test_the_values_are_grid_samples():
    image, grid = _case()
    assert torch.allclose(grid_sample_bilinear(image, grid), _reference(image, grid))


def test_first_and_second_derivatives_are_right():
    image, grid = _case(1)
    image.requires_grad_(True)
    sample = lambda x: grid_sample_bilinear(x, grid)  # noqa: E731
    assert torch.autograd.gradcheck(sample, (image,))
    assert torch.autograd.gradgradcheck(sample, (image,))


def test_an_r1_style_penalty_has_the_reference_gradient():
    """The gradient of |d out / d image|^2 with respect to the image and to a
    weight after the sampling, as R1 takes it."""
    image, grid = _case(2)
    weight = torch.randn(3, 1, 1, dtype=torch.float64)

    def penalty_grads(sample):
        x = image.clone().requires_grad_(True)
        w = weight.clone().requires_grad_(True)
        score = (sample(x, grid).square() * w).sum()
        (grad,) = torch.autograd.grad(score, x, create_graph=True)
        return torch.autograd.grad(grad.square().sum(), (x, w))

    ours, reference = penalty_grads(grid_sample_bilinear), penalty_grads(_reference)
    for a, b in zip(ours, reference, strict=True):
        assert torch.allclose(a, b)
        assert b.abs().sum() > 0


def test_a_grid_that_needs_a_gradient_is_refused():
    image, grid = _case()
    with pytest.raises(ValueError, match="grid cannot take a gradient"):
        grid_sample_bilinear(image, grid.requires_grad_(True))


def test_the_augment_pipe_samples_through_it():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16).requires_grad_(True)
    out = AugmentPipe({"rotate": 1})(x, 1.0)
    names, todo, seen = set(), [out.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        todo.extend(next_fn for next_fn, _ in node.next_functions)
    assert "_SampleBackward" in names, sorted(names)
    assert not any(name.startswith("GridSampler2D") for name in names)
