"""Paired data for pix2pix: pairing by name, side-by-side images, the training
cache, the feed and the built-in paired set."""

import pytest
import torch
from PIL import Image

from gan_core.data.builtin import load_builtin
from gan_core.data.cache import open_or_build
from gan_core.data.loading import data_info, load_data
from gan_core.data.paired import DataError, find_pairs, pair_by_stem
from gan_core.data.types import PairData
from gan_core.feed import DataFeed


def save(path, value: int, size=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, value, value)).save(path)


def test_pairing_by_stem_lists_files_without_a_partner():
    pairs, lone_a, lone_b = pair_by_stem(
        ["A/1.png", "A/2.jpg", "A/3.png", "A/3.jpg"], ["B/2.png", "B/1.png", "B/9.png"]
    )
    assert pairs == [("A/1.png", "B/1.png"), ("A/2.jpg", "B/2.png")]
    assert lone_a == ["A/3.jpg", "A/3.png"]  # neither has a B
    assert lone_b == ["B/9.png"]


def test_folder_pairs_load_row_for_row(tmp_path):
    for i in range(5):  # A/i.png is grey 10 i, its partner B/i.png grey 10 i + 100
        save(tmp_path / "A" / f"{i}.png", 10 * i)
        save(tmp_path / "B" / f"{i}.png", 10 * i + 100)
    save(tmp_path / "A" / "lonely.png", 250)
    pairing = find_pairs(tmp_path, "folders")
    assert len(pairing.items) == 5 and pairing.unmatched_a == ("lonely.png",)
    data = load_data(f"pairs:{tmp_path}", image_size=8)
    assert isinstance(data, PairData) and len(data) == 5
    assert data.a.dtype == torch.uint8  # through the uint8 training cache
    a = data.a[:, 0, 0, 0].int()
    b = data.b[:, 0, 0, 0].int()
    assert torch.equal(b - a, torch.full((5,), 100, dtype=torch.int32))
    assert data_info(data).kind == "pairs"


def test_a_pair_with_a_corrupt_half_is_left_out_whole(tmp_path):
    for i in range(4):
        save(tmp_path / "A" / f"{i}.png", 20 * i)
        save(tmp_path / "B" / f"{i}.png", 20 * i + 50)
    (tmp_path / "B" / "2.png").write_bytes(b"not an image")
    data = load_data(f"pairs:{tmp_path}", image_size=8)
    assert len(data) == 3
    assert (data.b[:, 0, 0, 0].int() - data.a[:, 0, 0, 0].int()).tolist() == [50] * 3


def test_side_by_side_images_split_into_a_left_and_b_right(tmp_path):
    for i in range(3):
        img = Image.new("RGB", (16, 8), (30 * i, 0, 0))
        img.paste((0, 200, 0), (8, 0, 16, 8))  # right half green
        img.save(tmp_path / f"p{i}.png")
    data = load_data(f"pairs-sbs:{tmp_path}", image_size=8)
    assert len(data) == 3
    assert data.a[:, 0, 4, 4].tolist() == [0, 30, 60] and data.a[:, 1].max() == 0
    assert (data.b[:, 1] == 200).all() and data.b[:, 0].max() == 0


def test_paired_and_unpaired_caches_of_one_folder_live_side_by_side(tmp_path):
    for i in range(3):
        save(tmp_path / "A" / f"{i}.png", i)
        save(tmp_path / "B" / f"{i}.png", i)
    pairs = load_data(f"pairs:{tmp_path}", image_size=8)
    domains = open_or_build(tmp_path, image_size=8)  # CycleGAN's cache
    assert domains.kind == "domains"
    caches = sorted(p.name for p in (tmp_path / ".gan_cache").glob("*.gcache"))
    assert len(caches) == 2  # neither build removed the other
    assert len(load_data(f"pairs:{tmp_path}", image_size=8)) == len(pairs)


def test_streamed_pairs_stay_aligned_in_the_feed(tmp_path):
    from gan_core.data.loading import data_from_cache
    from gan_core.data.paired import open_or_build_pairs

    for i in range(6):
        save(tmp_path / "A" / f"{i}.png", 30 * i)
        save(tmp_path / "B" / f"{i}.png", 30 * i + 10)
    cache = open_or_build_pairs(tmp_path, "folders", image_size=8)
    data = data_from_cache(cache, ram_bytes=0)  # nothing in RAM: read on demand
    assert not isinstance(data.a, torch.Tensor)
    feed = DataFeed(data, 4, 0, torch.device("cpu"), False)
    try:
        for _ in range(3):
            a, b = feed.next().real
            assert torch.allclose(b - a, torch.full_like(a, 10 / 127.5), atol=1e-5)
    finally:
        feed.close()


def test_folders_without_a_and_b_are_refused(tmp_path):
    save(tmp_path / "x.png", 1)
    with pytest.raises(DataError, match="A/ and B/"):
        load_data(f"pairs:{tmp_path}", image_size=8)


def test_feed_keeps_pairs_together_through_the_mirror():
    n = 32
    a = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, 4, 4)
    a = (a + torch.linspace(0, 0.5, 4).view(1, 1, 1, 4)).contiguous()  # a ramp
    data = PairData(a, -a)
    feed = DataFeed(data, 8, 0, torch.device("cpu"), False, mirror=True)
    flipped = 0
    for _ in range(8):
        xa, xb = feed.next().real
        assert torch.equal(xb, -xa)  # same rows, same flips
        flipped += int((xa[:, 0, 0, 0] > xa[:, 0, 0, 3]).sum())
    assert 0 < flipped < 64  # some mirrored, some not


def test_builtin_pairs_fill_the_outline_on_the_inverted_ground():
    data = load_builtin("shapes-paired", image_size=16)
    assert isinstance(data, PairData) and data.a.shape == data.b.shape
    assert data.a.shape[1:] == (3, 16, 16)
    # Corners are ground: B's is 1 - A's (in [0, 1]: -x in [-1, 1]).
    assert torch.allclose(data.b[:, :, 0, 0], -data.a[:, :, 0, 0], atol=1e-6)
    # A's most inked pixel (its outline) has the same colour in B, and B's
    # shape covers more than the outline: its inside.
    ground = data.a[:, :, :1, :1]
    ink = (data.a - ground).abs().sum(1).flatten(1)
    n = torch.arange(len(ink))
    at = ink.argmax(1)
    same = (data.a.flatten(2)[n, :, at] - data.b.flatten(2)[n, :, at]).abs()
    # (the thin stroke rarely covers a whole pixel: close, not equal, while
    # the grounds differ by more than 1)
    assert (same.amax(1) < 0.1).float().mean() > 0.9
    line = (data.a - ground).abs().amax(1) > 0.3
    inked_b = (data.b + ground).abs().amax(1) > 0.3
    assert inked_b.sum() > 1.3 * line.sum()
    assert load_builtin("shapes-paired", image_size=16) is data  # cached
    again = load_builtin("shapes-paired", image_size=16, seed=1)
    assert not torch.equal(again.a, data.a)
