"""Sample grids drawn in chunks are the grids drawn in one batch."""

import numpy as np
import torch

from gan_core.config import config_from_dict
from gan_core.data.loading import data_info
from gan_core.data.types import ImageData
from gan_core.registry import get_family
from gan_core.sampling import generate_in_chunks, grid_image, to_uint8


def _generator(family, settings):
    config = config_from_dict(family, {"image_size": 16, **settings})
    data = ImageData(torch.zeros(4, 3, 16, 16, dtype=torch.uint8), None, ())
    torch.manual_seed(0)
    recipe = get_family(family).build(config, data_info(data), torch.device("cpu"))
    return recipe, recipe.nets[recipe.generator].eval()


def test_chunked_dcgan_grid_has_the_pixels_of_one_batch():
    recipe, net = _generator("dcgan", {"g_channels": 8, "d_channels": 8})
    z = torch.randn(40, recipe.z_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        whole = recipe.generate(net, z, None).float()
    chunked = generate_in_chunks(recipe.generate, net, z, None, 16)  # 16+16+8
    assert chunked.shape == whole.shape
    pixels = [np.asarray(grid_image(images)) for images in (chunked, whole)]
    assert np.array_equal(*pixels)
    assert not torch.equal(chunked[:8], chunked[8:16])  # rows follow their own z


def test_chunked_stylegan2_grid_differs_from_one_batch_by_rounding_only():
    # Its grouped convolution's CPU kernel rounds differently per batch size
    # (about 1e-5): a pixel on a rounding edge may move by one level.
    recipe, net = _generator("stylegan2", {})
    z = torch.randn(40, recipe.z_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        whole = recipe.generate(net, z, None).float()
    chunked = generate_in_chunks(recipe.generate, net, z, None, 16)
    assert (chunked - whole).abs().max() < 1e-4
    levels = to_uint8(chunked).astype(int) - to_uint8(whole).astype(int)
    assert np.abs(levels).max() <= 1 and (levels != 0).mean() < 1e-3
    again = generate_in_chunks(recipe.generate, net, z, None, 16)
    assert torch.equal(again, chunked)  # same seeds, same pixels


def test_a_generate_that_ignores_z_runs_once():
    calls = []

    def preview(net, z, labels):
        calls.append(len(z))
        return torch.ones(6, 3, 4, 4)

    out = generate_in_chunks(preview, None, torch.zeros(64, 1), None, 16)
    assert calls == [16] and out.shape == (6, 3, 4, 4)


def test_labels_are_chunked_with_their_z():
    seen = []

    def labelled(net, z, labels):
        seen.append(labels.tolist())
        return z[:, :, None, None] + labels[:, None, None, None]

    labels = torch.arange(5)
    out = generate_in_chunks(labelled, None, torch.zeros(5, 1), labels, 2)
    assert seen == [[0, 1], [2, 3], [4]]
    assert out.flatten().tolist() == [0, 1, 2, 3, 4]
