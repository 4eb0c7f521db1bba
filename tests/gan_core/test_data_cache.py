"""The training cache: exact pixels, rebuilt on change, atomic, built once."""

import multiprocessing
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.data.cache import open_or_build, read_header
from gan_core.data.decode import decode_image, image_files
from gan_core.data.errors import DataError
from gan_core.data.loading import load_data
from tests.gan_core.cache_children import build_and_die, race


def _photos(folder, n, seed=0, sizes=((20, 14), (9, 16), (12, 12))):
    """n noisy images of mixed sizes and formats (JPEG, PNG, palette GIF)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        suffix = (".jpg", ".png", ".gif")[i % 3]
        path = folder / f"{i:03d}{suffix}"
        (img.convert("P") if suffix == ".gif" else img).save(path)
        paths.append(path)
    return paths


def _cache_files(folder):
    return sorted((folder / ".gan_cache").glob("*.gcache"))


def test_cache_holds_exactly_the_pixels_of_a_direct_decode(tmp_path):
    paths = _photos(tmp_path, 7)
    direct = np.stack([decode_image(p, 8, "RGB").transpose(2, 0, 1) for p in paths])
    in_ram = load_data(tmp_path, image_size=8)
    assert in_ram.images.dtype == torch.uint8
    assert np.array_equal(in_ram.images.numpy(), direct)
    assert not open_or_build(tmp_path, image_size=8).built  # reused
    pooled = open_or_build(tmp_path, image_size=8, workers=2, cache_dir=tmp_path / "p")
    assert pooled.built and pooled.fingerprint == in_ram.fingerprint
    streamed = pooled.read_rows("images", np.array([6, 0, 3]))
    assert np.array_equal(streamed, direct[[6, 0, 3]])


def test_class_folders_keep_labels_and_domains_keep_both_sides(tmp_path):
    _photos(tmp_path / "cls" / "cats", 3)
    _photos(tmp_path / "cls" / "dogs", 4, seed=1)
    data = load_data(tmp_path / "cls", image_size=8, channels=3)
    assert data.class_names == ("cats", "dogs")
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1, 1]
    _photos(tmp_path / "ab" / "A", 2)
    _photos(tmp_path / "ab" / "B", 5, seed=2)
    pair = load_data(tmp_path / "ab", image_size=8)
    assert (len(pair.a), len(pair.b)) == (2, 5)
    assert not torch.equal(pair.a[:2], pair.b[:2])


def test_changed_file_gives_a_new_fingerprint_and_cache(tmp_path):
    paths = _photos(tmp_path, 4)
    before = load_data(tmp_path, image_size=8)
    (old,) = _cache_files(tmp_path)
    Image.new("RGB", (10, 10), (250, 0, 0)).save(paths[1])  # same name, new pixels
    after = load_data(tmp_path, image_size=8)
    (new,) = _cache_files(tmp_path)  # the old listing's cache is gone
    assert new != old and after.fingerprint != before.fingerprint
    assert after.images[1, 0].float().mean() > 240


def test_unreadable_image_is_skipped_and_counted(tmp_path):
    _photos(tmp_path, 4)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    cache = open_or_build(tmp_path, image_size=8, workers=1)
    assert cache.count("images") == 4 and cache.header["skipped"] == 1
    assert cache.header["skipped_files"][0][0] == "broken.png"


def test_interrupted_build_leaves_no_cache_that_is_used(tmp_path):
    _photos(tmp_path, 80)
    child = multiprocessing.get_context("spawn").Process(
        target=build_and_die, args=(tmp_path,)
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL
    leftovers = list((tmp_path / ".gan_cache").glob("*.tmp-*"))
    assert leftovers and not _cache_files(tmp_path)  # only a temporary file
    cache = open_or_build(tmp_path, image_size=8, workers=1)
    assert cache.built and cache.count("images") == 80
    assert not list((tmp_path / ".gan_cache").glob("*.tmp-*"))


def test_two_processes_asked_for_one_cache_build_it_once(tmp_path):
    _photos(tmp_path, 120)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=race, args=(tmp_path, barrier, results)) for _ in "ab"]
    for p in procs:
        p.start()
    got = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert sorted(built for built, _, _ in got) == [False, True]
    assert got[0][1:] == got[1][1:]  # the same file, by the same builder
    assert len(_cache_files(tmp_path)) == 1


def _assert_full_disk_is_clear_and_harmless(tmp_path, cache_dir, message):
    assert "no space left while writing the training cache" in message
    assert not any(read_header(p) for p in cache_dir.glob("*.gcache*"))
    assert not list(cache_dir.glob("*.tmp-*"))
    assert len(load_data(tmp_path / "data", image_size=32)) == 30  # still usable


def test_full_disk_while_building_is_a_clear_error(tmp_path):
    _photos(tmp_path / "data", 30)
    cache_dir = tmp_path / "cache"
    proc = subprocess.run(
        [
            *(os.sys.executable, "-c"),
            "import sys; from tests.gan_core.cache_children import fill_disk; "
            "fill_disk(sys.argv[1], sys.argv[2], 20000)",
            str(tmp_path / "data"),
            str(cache_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.getcwd(),
    )
    assert proc.returncode != 0, proc.stderr
    _assert_full_disk_is_clear_and_harmless(tmp_path, cache_dir, proc.stderr)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_full_tmpfs_while_building_is_a_clear_error(tmp_path):
    _photos(tmp_path / "data", 30)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(cache_dir)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.fail(f"mounting a 64 KB tmpfs failed: {mounted.stderr!r}")
    try:
        with pytest.raises(DataError) as err:
            open_or_build(tmp_path / "data", image_size=32, cache_dir=cache_dir)
        assert "No space left on device" in str(err.value)
        _assert_full_disk_is_clear_and_harmless(tmp_path, cache_dir, str(err.value))
    finally:
        subprocess.run(["umount", str(cache_dir)], check=True)


def test_listing_keeps_images_by_name_and_skips_hidden_and_folders(tmp_path):
    _photos(tmp_path, 3)
    (tmp_path / ".hidden.png").write_bytes((tmp_path / "001.png").read_bytes())
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "dir.jpg").mkdir()  # a folder named like an image
    assert [p.name for p in image_files(tmp_path)] == ["000.jpg", "001.png", "002.gif"]


def test_a_relative_folder_gets_the_cache_of_its_absolute_path(tmp_path, monkeypatch):
    _photos(tmp_path / "data", 3)
    absolute = open_or_build(tmp_path / "data", image_size=8)
    monkeypatch.chdir(tmp_path / "data")
    relative = open_or_build(Path("."), image_size=8)
    assert not relative.built and relative.path.name == absolute.path.name
