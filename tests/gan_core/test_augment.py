import torch

from gan_core.augment import DiffAugment, rand_cutout, rand_translation


def test_translation_moves_content_and_pads_with_zeros():
    torch.manual_seed(0)
    x = torch.ones(16, 1, 8, 8)
    out = rand_translation(x)
    assert out.shape == x.shape and set(out.unique().tolist()) <= {0.0, 1.0}
    # Shifts of up to one pixel: at most one row and one column are zeroed.
    assert (out.sum(dim=(1, 2, 3)) >= 49).all()


def test_cutout_zeroes_at_most_a_quarter_of_the_image():
    torch.manual_seed(0)
    out = rand_cutout(torch.ones(32, 3, 8, 8))
    zeroed = (out == 0).float().mean(dim=(1, 2, 3))
    assert (zeroed <= 0.25).all() and (zeroed > 0).any()


def test_diffaugment_is_differentiable_and_leaves_points_alone():
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    DiffAugment("color,translation,cutout")(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    points = torch.randn(5, 2)
    assert DiffAugment("color")(points) is points
