"""The data feed: the same batches in RAM and streamed, and exact resume on both."""

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.config import config_from_dict
from gan_core.data.loading import load_image_folder
from gan_core.data.streamed import StreamedImages
from gan_core.feed import DataFeed
from gan_core.trainer import train


def _folder(root, n, seed=0):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        arr = rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)
        Image.fromarray(arr).save(root / f"{i:03d}.png")
    return root


def _both(root, **kwargs):
    in_ram = load_image_folder(root, 8, ram_bytes=1 << 30, **kwargs)
    streamed = load_image_folder(root, 8, ram_bytes=0, **kwargs)
    return in_ram, streamed


def _batches(data, n, **kwargs):
    feed = DataFeed(data, 4, 3, torch.device("cpu"), False, **kwargs)
    try:
        return [feed.next() for _ in range(n)], feed
    finally:
        feed.close()


def test_streamed_and_in_ram_feeds_give_identical_batches(tmp_path):
    (tmp_path / "cls").mkdir()
    _folder(tmp_path / "cls" / "x", 7)
    _folder(tmp_path / "cls" / "y", 6, seed=1)
    in_ram, streamed = _both(tmp_path / "cls")
    assert isinstance(streamed.images, StreamedImages)
    assert in_ram.images.dtype == torch.uint8
    a, _ = _batches(in_ram, 9)  # 13 images, batch 4: three epochs
    b, _ = _batches(streamed, 9)
    for x, y in zip(a, b, strict=True):
        assert x.real.dtype == torch.float32 and torch.equal(x.real, y.real)
        assert torch.equal(x.labels, y.labels)
    assert a[0].real.min() >= -1 and a[0].real.max() <= 1


def test_streamed_domains_match_in_ram_domains(tmp_path):
    _folder(tmp_path / "ab" / "A", 5)
    _folder(tmp_path / "ab" / "B", 9, seed=2)
    in_ram, streamed = _both(tmp_path / "ab")
    for x, y in zip(_batches(in_ram, 5)[0], _batches(streamed, 5)[0], strict=True):
        assert torch.equal(x.real[0], y.real[0]) and torch.equal(x.real[1], y.real[1])


def test_streamed_feed_state_is_that_of_the_last_batch_handed_out(tmp_path):
    _, streamed = _both(_folder(tmp_path / "flat", 10))
    first, feed = _batches(streamed, 3)  # the reader has read further ahead
    state = feed.state_dict()
    later = DataFeed(streamed, 4, 99, torch.device("cpu"), False)
    later.load_state_dict(state)
    whole, _ = _batches(streamed, 6)
    try:
        for expected in whole[3:]:
            assert torch.equal(later.next().real, expected.real)
    finally:
        later.close()


def _states(path):
    payload = torch.load(path, weights_only=True)
    return payload["nets"], payload["ema"], payload["optimizers"], payload["step"]


def _same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, list | tuple):
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("ram_bytes", [0, 1 << 30], ids=["streamed", "in-ram"])
def test_run_resumed_ends_with_the_weights_of_an_uninterrupted_one(
    tmp_path, ram_bytes, tiny_settings
):
    data = load_image_folder(_folder(tmp_path / "d", 11), 8, ram_bytes=ram_bytes)
    config = config_from_dict("dcgan", tiny_settings("dcgan", steps=6, ema=0.9))

    def run(out, **kwargs):
        return train(config, data=data, out_dir=out, device="cpu", **kwargs)

    run(tmp_path / "whole")
    calls = iter(range(100))
    assert run(tmp_path / "split", should_stop=lambda: next(calls) >= 3).step == 3
    assert run(tmp_path / "split", resume=True).step == 6
    whole = _states(tmp_path / "whole/checkpoints/latest.pt")
    _same(whole, _states(tmp_path / "split/checkpoints/latest.pt"))
