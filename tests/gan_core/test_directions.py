"""PCA latent directions (gan_core.directions) and their CLI, on tiny models
trained two steps on the built-in shapes."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core import directions as D
from gan_core.sampling import load_generator, to_uint8

TINY_STYLE = {
    "image_size": 16,  # 6 ws: coarse 0-1, middle 2-3, fine 4-5
    "z_dim": 8,
    "w_dim": 8,
    "mapping_layers": 2,
    "channel_base": 64,
    "channel_max": 8,
    "batch_size": 4,
}
TINY_DC = {"image_size": 16, "g_channels": 8, "d_channels": 8, "batch_size": 4}
SAMPLES = 2000  # enough for 8-dim PCA, a fraction of a second


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    from gan_core.config import config_from_dict
    from gan_core.trainer import train

    root = tmp_path_factory.mktemp("directions")
    out = {}
    for family, settings in (("stylegan2", TINY_STYLE), ("dcgan", TINY_DC)):
        config = config_from_dict(
            family,
            {"steps": 2, "sample_every": 100, "checkpoint_every": 100, **settings},
        )
        result = train(
            config, data="builtin:shapes", out_dir=root / family, device="cpu"
        )
        out[family] = result.checkpoint
    return out


@pytest.fixture(scope="module")
def style(checkpoints):
    handle = load_generator(checkpoints["stylegan2"])
    return handle, D.compute_directions(handle, k=8, n=SAMPLES)


@pytest.fixture(scope="module")
def dc(checkpoints):
    handle = load_generator(checkpoints["dcgan"])
    return handle, D.compute_directions(handle, k=8, n=SAMPLES)


@pytest.mark.parametrize("which", ["style", "dc"])
def test_components_are_orthonormal_and_sorted_by_explained_variance(which, request):
    _, dirs = request.getfixturevalue(which)
    c = dirs.components.double()
    assert dirs.k == 8
    assert torch.allclose(c @ c.T, torch.eye(dirs.k, dtype=c.dtype), atol=1e-5)
    ratios = dirs.explained
    assert (ratios[:-1] >= ratios[1:]).all()
    assert ratios.min() > 0 and ratios.sum() <= 1 + 1e-6
    assert (dirs.sigma > 0).all()


def test_w_directions_explain_the_sampled_w_variance(style):
    handle, dirs = style
    # In W the components span the whole 8-dim space: the ratios sum to 1,
    # and sigma_i^2 is the variance of fresh w along component i.
    assert dirs.space == "w" and dirs.feature == "w"
    assert float(dirs.explained.sum()) == pytest.approx(1.0, abs=1e-4)
    z = torch.randn(4000, handle.z_dim, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        w = handle.net.mapping(z)[:, 0]
    spread = ((w - dirs.mean) @ dirs.components.T).std(0)
    assert torch.allclose(spread, dirs.sigma, rtol=0.1)


@pytest.mark.parametrize("which", ["style", "dc"])
def test_alpha_zero_returns_the_original_image_exactly(which, request):
    handle, dirs = request.getfixturevalue(which)
    for seed in (0, 5):
        original = handle.sample(1, seed=seed, truncation_psi=0.7)[0]
        same = D.edited_image(handle, dirs, {0: 0.0, 3: 0.0}, seed=seed,
                              truncation_psi=0.7)  # fmt: skip
        assert torch.equal(same, original)
        moved = D.edited_image(handle, dirs, {0: 3.0}, seed=seed, truncation_psi=0.7)
        assert not torch.equal(moved, original)
    strip = D.alpha_strip(handle, dirs, 1, -2.0, 2.0, frames=5, seed=5)
    assert strip.shape[0] == 5
    assert torch.equal(strip[2], handle.sample(1, seed=5)[0])


def _mean_change(handle, dirs, alpha, seeds):
    changes = []
    for seed in seeds:
        original = D.edited_image(handle, dirs, {}, seed=seed)
        edited = D.edited_image(handle, dirs, {0: alpha}, seed=seed)
        changes.append((edited - original).abs().mean())
    return float(torch.stack(changes).mean())


def test_first_component_changes_the_image_more_than_random_directions(dc):
    # In Z (a DCGAN, whose first layer is linear in z) the first component is
    # the z-direction that moves the first features most; a random unit
    # direction with the same step (alpha * sigma_0) moves the image less,
    # averaged over seeds, for every one of several random draws. (Not asserted
    # for the tiny StyleGAN2: trained 2 or even 100 steps, its synthesis has
    # not learnt W's principal axes, and random directions move it as much.)
    handle, dirs = dc
    seeds = range(8)
    along = _mean_change(handle, dirs, 2.0, seeds)
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        r = torch.randn(dirs.components.shape[1], generator=gen)
        unit = (r / r.norm())[None]
        random = D.Directions(
            "z", unit, dirs.sigma[:1], dirs.explained[:1], dirs.mean, "random", 0, 0
        )
        assert along > 1.1 * _mean_change(handle, random, 2.0, seeds)


def test_an_edit_of_the_fine_layers_leaves_the_coarse_styles_untouched(style):
    from gan_core.nets.stylegan2 import style_layer_ranges
    from gan_core.sampling_advanced import resolve_layers

    handle, dirs = style
    groups = style_layer_ranges(16)
    fine = resolve_layers(handle, "fine")
    with torch.no_grad():
        ws = handle.net.mapping(handle.latents(3, 0))
    edited = D.edit_ws(ws, dirs, {0: 4.0, 1: -2.0}, fine)
    assert torch.equal(edited[:, groups["coarse"]], ws[:, groups["coarse"]])
    assert torch.equal(edited[:, groups["middle"]], ws[:, groups["middle"]])
    assert not torch.allclose(edited[:, fine], ws[:, fine])
    expected = ws[:, fine] + 4.0 * dirs.sigma[0] * dirs.components[0]
    expected = expected - 2.0 * dirs.sigma[1] * dirs.components[1]
    assert torch.allclose(edited[:, fine], expected, atol=1e-6)


def test_bad_edits_are_refused(style, dc):
    from gan_core.sampling_advanced import UnsupportedSampling

    handle, dirs = style
    with pytest.raises(ValueError, match="direction must be in 0..7"):
        D.edited_image(handle, dirs, {8: 1.0})
    for alpha in (float("nan"), float("inf"), 10.5):
        with pytest.raises(ValueError, match="finite number"):
            D.edited_image(handle, dirs, {0: alpha})
    dc_handle, dc_dirs = dc
    with pytest.raises(UnsupportedSampling, match="layers needs stylegan2"):
        D.edited_image(dc_handle, dc_dirs, {0: 1.0}, layers="coarse")
    with pytest.raises(ValueError, match="another model"):
        D.edited_image(dc_handle, dirs, {0: 1.0})


def test_directions_are_cached_beside_the_checkpoint_by_its_digest(
    checkpoints, tmp_path
):
    checkpoint = tmp_path / "latest.pt"
    shutil.copyfile(checkpoints["stylegan2"], checkpoint)
    handle = load_generator(checkpoint)
    first, cached = D.directions_for(checkpoint, handle, k=4, n=SAMPLES)
    assert not cached and first.k == 4
    files = list((tmp_path / D.CACHE_DIR).glob("*.pt"))
    assert len(files) == 1 and files[0].name.startswith(
        D.checkpoint_digest(checkpoint)[:24]
    )
    again, cached = D.directions_for(checkpoint, handle, k=4, n=SAMPLES)
    assert cached and torch.equal(again.components, first.components)
    # Another file at the same path (a trainer rewriting latest.pt) misses.
    shutil.copyfile(checkpoints["dcgan"], checkpoint)
    other, cached = D.directions_for(
        checkpoint, load_generator(checkpoint), k=4, n=SAMPLES
    )
    assert not cached and other.space == "z"


def test_the_cache_keeps_only_the_newest_files(checkpoints, tmp_path, monkeypatch):
    """A trainer rewriting latest.pt gives every visit a new digest: the folder
    must not grow with them."""
    monkeypatch.setattr(D, "MAX_CACHED", 3)
    folder = tmp_path / D.CACHE_DIR
    folder.mkdir()
    old = []
    for age in range(5):  # older files, oldest last
        file = folder / f"{age:024d}-ema-n{SAMPLES}-s0.pt"
        file.write_bytes(b"stale")
        stamp = 1_000_000_000 - age * 100
        os.utime(file, (stamp, stamp))
        old.append(file)
    checkpoint = tmp_path / "latest.pt"
    shutil.copyfile(checkpoints["stylegan2"], checkpoint)
    handle = load_generator(checkpoint)
    _, cached = D.directions_for(checkpoint, handle, k=4, n=SAMPLES)
    assert not cached
    written = D.cache_path(checkpoint, n=SAMPLES)
    assert sorted(folder.glob("*.pt")) == sorted([written, old[0], old[1]])
    _, cached = D.directions_for(checkpoint, handle, k=4, n=SAMPLES)
    assert cached  # the file just written survives its own pruning


def _cli(argv, capsys):
    from gan_core.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_cli_directions_then_edit_and_strip(checkpoints, tmp_path, capsys):
    checkpoint = tmp_path / "model.pt"
    shutil.copyfile(checkpoints["stylegan2"], checkpoint)
    out = tmp_path / "dirs.pt"
    code, text, _ = _cli(
        ["directions", "--checkpoint", checkpoint, "--k", 5, "--samples", SAMPLES,
         "--out", out], capsys,
    )  # fmt: skip
    assert code == 0 and "5 directions in w" in text and "% of variance" in text
    saved = D.load_directions(out)
    assert saved.k == 5
    base = ["sample", "--checkpoint", checkpoint, "--seed", 4, "--directions", out]
    still = tmp_path / "still.png"
    code, _, _ = _cli([*base, "--direction", 0, "--alpha", 0, "--out", still], capsys)
    assert code == 0
    handle = load_generator(checkpoint)
    expected = to_uint8(handle.sample(1, seed=4))[0]
    assert np.array_equal(np.asarray(Image.open(still).convert("RGB")), expected)
    edit = tmp_path / "edit.png"
    argv = [*base, "--direction", 1, "--alpha", 3, "--layers", "coarse"]
    code, _, _ = _cli([*argv, "--out", edit], capsys)
    assert code == 0
    assert not np.array_equal(np.asarray(Image.open(edit).convert("RGB")), expected)
    strip = tmp_path / "strip.png"
    argv = [*base, "--direction", 0, "--alpha-range", -2, 2, "--frames", 3]
    code, _, _ = _cli([*argv, "--out", strip], capsys)
    assert code == 0 and Image.open(strip).size == (3 * 18 + 2, 20)


def test_cli_bad_edits_are_one_line_and_exit_code_2(checkpoints, tmp_path, capsys):
    out = tmp_path / "x.png"
    style = ["sample", "--checkpoint", checkpoints["stylegan2"], "--out", out]
    dc = ["sample", "--checkpoint", checkpoints["dcgan"], "--out", out]
    cases = [
        ([*style, "--direction", 99, "--alpha", 1], "direction must be in"),
        ([*style, "--direction", 0, "--alpha", "nan"], "finite number"),
        ([*style, "--direction", 0, "--alpha", 12], "finite number"),
        ([*style, "--direction", 0], "needs --alpha"),
        ([*style, "--alpha", 1], "needs --direction INDEX"),
        ([*dc, "--direction", 0, "--alpha", 1, "--layers", "fine"], "stylegan2"),
        ([*style, "--direction", 0, "--alpha", 1, "--style-mix"], "goes alone"),
    ]
    for argv, hint in cases:
        code, _, err = _cli(argv, capsys)
        assert code == 2, argv
        assert len(err.splitlines()) == 1 and hint in err, err
    assert not out.exists()
