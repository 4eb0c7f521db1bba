"""Bilinear grid sampling with a second derivative on every device.

ADA's geometric augmentations (gan_core.augment_pipe) sample the padded image
at an affine grid, and R1 differentiates D's gradient with respect to the real
images once more, so the sampling needs a second derivative. PyTorch's CUDA
kernel has none: "derivative for aten::grid_sampler_2d_backward is not
implemented" (pytorch/pytorch#34704; seen here on an H200, torch 2.11, as soon
as ADA's p rose above 0 in a StyleGAN2 run). stylegan2-ada-pytorch works
around it the same way (torch_utils/ops/grid_sample_gradfix.py).

Why it is simple: the sampling is linear in the image, out = A(grid) image, so
the image's gradient is A(grid)^T grad_out, and the derivative of that with
respect to grad_out is A(grid) again, the forward sampling. That is all R1
needs while the grid does not depend on anything trained (the augmentation's
grid comes from random parameters), so a grid that needs a gradient is refused.
"""

from __future__ import annotations

import torch

BILINEAR, ZEROS = 0, 0  # aten's interpolation and padding mode numbers
ALIGN_CORNERS = False


def grid_sample_bilinear(image: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """F.grid_sample(image, grid, "bilinear", "zeros", align_corners=False),
    differentiable twice with respect to ``image``."""
    if grid.requires_grad:
        raise ValueError("grid_sample_bilinear: the grid cannot take a gradient")
    # In the image's dtype: autocast would make the forward fp32 and leave the
    # backward's saved tensors in another dtype than its incoming gradient.
    with torch.autocast(image.device.type, enabled=False):
        return _Sample.apply(image, grid.to(image.dtype))


class _Sample(torch.autograd.Function):
    @staticmethod
    def forward(ctx, image, grid):
        ctx.save_for_backward(image, grid)
        return torch.ops.aten.grid_sampler_2d(
            image, grid, BILINEAR, ZEROS, ALIGN_CORNERS
        )

    @staticmethod
    def backward(ctx, grad_out):
        image, grid = ctx.saved_tensors
        grad_image = None
        if ctx.needs_input_grad[0]:
            grad_image = _SampleTransposed.apply(grad_out, image, grid)
        return grad_image, None


class _SampleTransposed(torch.autograd.Function):
    """grad_out -> A(grid)^T grad_out; ``image`` only gives the shape."""

    @staticmethod
    def forward(ctx, grad_out, image, grid):
        ctx.save_for_backward(grid)
        grad_image, _ = torch.ops.aten.grid_sampler_2d_backward(
            grad_out.contiguous(), image, grid, BILINEAR, ZEROS, ALIGN_CORNERS,
            [True, False],
        )  # fmt: skip
        return grad_image

    @staticmethod
    def backward(ctx, grad2):
        (grid,) = ctx.saved_tensors
        grad_grad_out = None
        if ctx.needs_input_grad[0]:
            grad_grad_out = _Sample.apply(grad2, grid)
        return grad_grad_out, None, None
