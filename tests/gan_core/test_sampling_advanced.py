"""The sampling API beyond plain grids: paths in latent space, animations, mixing."""

import pytest
import torch
from PIL import Image

from gan_core.animation import lerp_path, save_animation, slerp, slerp_path


def test_slerp_hits_the_endpoints_and_stays_on_the_sphere():
    torch.manual_seed(0)
    a, b = torch.randn(16), torch.randn(16)
    b = b / b.norm() * a.norm()
    path = slerp_path(a, b, 9)
    assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(
        path[-1], b, atol=1e-5
    )
    assert torch.allclose(path.norm(dim=1), a.norm().expand(9), atol=1e-4)
    # A straight line between the same points dips inside the sphere.
    assert lerp_path(a, b, 9)[4].norm() < 0.95 * a.norm()


def test_slerp_of_parallel_vectors_falls_back_to_a_line():
    a = torch.ones(1, 4)
    mid = slerp(a, 3 * a, 0.5)
    assert torch.allclose(mid, 2 * a)


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_animations_are_written_with_every_frame(tmp_path, suffix):
    frames = [Image.new("RGB", (8, 8), (40 * i, 0, 0)) for i in range(5)]
    path = save_animation(frames, tmp_path / f"walk{suffix}", fps=10)
    with Image.open(path) as img:
        assert img.n_frames == 5
    assert [p.name for p in tmp_path.iterdir()] == [f"walk{suffix}"]


def test_animation_rejects_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="gif or .webp"):
        save_animation([Image.new("RGB", (4, 4))], tmp_path / "walk.mp4")


# -- the playground's calls on real checkpoints --------------------------------

TINY_STYLE = dict(
    image_size=16,
    batch_size=4,
    z_dim=8,
    w_dim=8,
    mapping_layers=2,
    channel_base=64,
    channel_max=8,
)


def tiny_checkpoint(root, family, data, **settings):
    from gan_core.config import config_from_dict
    from gan_core.trainer import train

    config = config_from_dict(
        family, {"steps": 2, "sample_every": 100, "checkpoint_every": 100, **settings}
    )
    result = train(config, data=data, out_dir=root / family, device="cpu")
    return result.checkpoint


def labelled(n=8, size=16, classes=("circle", "square")):
    from gan_core.data.types import ImageData

    gen = torch.Generator().manual_seed(0)
    images = torch.rand(n, 3, size, size, generator=gen) * 2 - 1
    labels = torch.arange(n) % len(classes)
    return ImageData(images, labels, tuple(classes), fingerprint="labelled")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    from gan_core.data.types import DomainData

    root = tmp_path_factory.mktemp("ckpt")
    images = labelled()
    unlabelled = type(images)(images.images, fingerprint="plain")
    return {
        "stylegan2": tiny_checkpoint(root, "stylegan2", unlabelled, **TINY_STYLE),
        "stylegan2-cond": tiny_checkpoint(
            root / "cond", "stylegan2", images, conditional=True, **TINY_STYLE
        ),
        "progan": tiny_checkpoint(
            root,
            "progan",
            unlabelled,
            image_size=16,
            batch_size=4,
            z_dim=8,
            channel_base=64,
            channel_max=8,
        ),
        "cyclegan": tiny_checkpoint(
            root,
            "cyclegan",
            DomainData(images.images, -images.images, "ab"),
            image_size=16,
            batch_size=2,
            ngf=4,
            ndf=4,
            n_blocks=1,
        ),
    }


@pytest.fixture(scope="module")
def handles(checkpoints):
    from gan_core.sampling import load_generator

    gens = {name: load_generator(path) for name, path in checkpoints.items()}
    # As if trained for long: a mean w away from the origin, visible noise.
    g = gens["stylegan2"].net
    with torch.no_grad():
        g.mapping.w_avg.copy_(
            torch.randn(8, generator=torch.Generator().manual_seed(1))
        )
        for layer in g.synthesis.layers:
            layer.noise_strength.fill_(0.3)
    return gens


def test_psi_zero_gives_every_sample_the_image_of_the_mean_w(handles):
    h = handles["stylegan2"]
    imgs = h.sample(6, seed=3, truncation_psi=0.0)
    w_avg = h.net.mapping.w_avg.expand(1, h.net.num_ws, -1)
    ref = h.net.synthesis(w_avg, noise_mode="const").cpu()
    assert torch.allclose(imgs, ref.expand_as(imgs), atol=1e-6)


def test_stylegan2_truncates_in_w_and_seeds_are_reproducible(handles):
    h = handles["stylegan2"]
    assert torch.equal(h.sample(4, seed=5), h.sample(4, seed=5))
    assert not torch.allclose(h.sample(4, seed=5), h.sample(4, seed=6))
    ws = h.net.mapping(h.latents(4, 5))
    half = torch.lerp(h.net.mapping.w_avg.expand_as(ws), ws, 0.5)
    expected = h.net.synthesis(half, noise_mode="const")
    assert torch.allclose(h.sample(4, seed=5, truncation_psi=0.5), expected, atol=1e-5)


def test_other_families_truncate_in_z(handles):
    imgs = handles["progan"].sample(5, seed=0, truncation_psi=0.0)
    assert torch.allclose(imgs, imgs[:1].expand_as(imgs))


def _arr(img):
    import numpy as np

    return np.asarray(img, dtype=np.int16)


@pytest.mark.parametrize("name,space", [("stylegan2", "w"), ("progan", "z")])
def test_interpolation_starts_and_ends_at_the_two_seeds(handles, tmp_path, name, space):
    from gan_core.sampling_advanced import to_pil

    h = handles[name]
    frames = h.interpolate(2, 9, steps=5, path=tmp_path / "walk.gif")
    assert len(frames) == 5
    start, end = to_pil(h.sample(1, seed=2)[0]), to_pil(h.sample(1, seed=9)[0])
    assert abs(_arr(frames[0]) - _arr(start)).max() <= 1
    assert abs(_arr(frames[-1]) - _arr(end)).max() <= 1
    assert abs(_arr(frames[2]) - _arr(start)).max() > 1
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 5
    if space == "z":
        from gan_core.sampling_advanced import UnsupportedSampling

        with pytest.raises(UnsupportedSampling, match="no W space"):
            h.interpolate(0, 1, space="w")


def test_style_mix_takes_listed_layers_from_the_column(handles):
    h = handles["stylegan2"]
    from_row = h.style_mix([0, 1], [2, 3, 4], layers=[])
    from_col = h.style_mix([0, 1], [2, 3, 4], layers="all")
    assert from_row.cells.shape[:2] == (2, 3)
    # Cells, rows and columns are drawn in batches of different sizes, and the
    # CPU's convolutions may sum in another order per batch size (and thread
    # count): equal to float rounding, not bit for bit.
    assert torch.allclose(
        from_row.cells, from_row.rows[:, None].expand_as(from_row.cells), atol=1e-5
    )
    assert torch.allclose(
        from_col.cells, from_col.cols[None].expand_as(from_col.cells), atol=1e-5
    )
    middle = h.style_mix([0, 1], [2, 3, 4])  # Default: the middle layers.
    assert middle.layers == [2, 3] and not torch.allclose(
        middle.cells[0, 0], middle.rows[0]
    )
    assert middle.image().size == (4 * 18 + 2, 3 * 18 + 2)
    with pytest.raises(ValueError, match="coarse, middle, fine"):
        h.style_mix([0], [1], layers="textures")


def test_class_grid_has_one_row_per_class_with_shared_latents(handles):
    from gan_core.sampling_advanced import UnsupportedSampling

    h = handles["stylegan2-cond"]
    grid = h.class_grid(per_class=3, seed=1)
    assert grid.shape == (6, 3, 16, 16)
    assert not torch.allclose(grid[0], grid[3])  # Same z, another class.
    with pytest.raises(UnsupportedSampling, match="without classes"):
        handles["stylegan2"].class_grid(2)


@pytest.mark.parametrize("mode", ["resize", "tile"])
def test_translate_returns_an_image_of_the_input_size(handles, mode):
    h = handles["cyclegan"]
    upload = Image.new("RGB", (37, 23), (200, 30, 30))
    out = h.translate(upload, "AtoB", mode=mode)
    assert out.size == (37, 23) and out.mode == "RGB"
    back = h.translate(upload, "BtoA", mode=mode)
    assert _arr(back).shape == (23, 37, 3)
    with pytest.raises(ValueError, match="AtoB or BtoA"):
        h.translate(upload, "sideways")


def test_tiled_translation_matches_the_network_on_an_exact_tile(handles):
    from gan_core.sampling_advanced import to_pil

    h = handles["cyclegan"]
    x = torch.rand(3, 16, 16) * 2 - 1
    direct = to_pil(h.net(x[None], "AtoB")[0])
    assert abs(_arr(h.translate(x, "AtoB", mode="tile")) - _arr(direct)).max() <= 1


def test_calls_the_family_cannot_do_fail_with_one_clear_line(handles):
    from gan_core.sampling_advanced import UnsupportedSampling

    cases = [
        (lambda: handles["stylegan2"].translate(Image.new("RGB", (8, 8))), "cyclegan"),
        (lambda: handles["progan"].style_mix(), "stylegan2"),
        (lambda: handles["cyclegan"].sample(4), "translate"),
        (lambda: handles["cyclegan"].interpolate(0, 1), "translate"),
    ]
    for call, hint in cases:
        with pytest.raises(UnsupportedSampling) as info:
            call()
        assert hint in str(info.value) and "\n" not in str(info.value)


def test_unknown_or_corrupt_files_fail_clearly(tmp_path, checkpoints):
    from gan_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
    from gan_core.sampling import load_generator

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_generator(garbage)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(checkpoints["stylegan2"].read_bytes()[:2000])
    with pytest.raises(CheckpointError):
        load_generator(truncated)
    payload = load_checkpoint(checkpoints["progan"])
    payload["family"] = "biggan"
    foreign = tmp_path / "foreign.pt"
    save_checkpoint(foreign, {k: v for k, v in payload.items() if k != "format"})
    with pytest.raises(CheckpointError, match="unusable"):
        load_generator(foreign)


# -- the command line ---------------------------------------------------------


def _cli(argv, capsys):
    from gan_core.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_each_playground_flag_works_alone_with_defaults(
    checkpoints, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    sg2, cycle = checkpoints["stylegan2"], checkpoints["cyclegan"]
    assert _cli(["sample", "--checkpoint", sg2, "--interpolate"], capsys)[0] == 0
    with Image.open(tmp_path / "interpolation.gif") as gif:
        assert gif.n_frames == 16
    assert _cli(["sample", "--checkpoint", sg2, "--style-mix"], capsys)[0] == 0
    with Image.open(tmp_path / "style_mix.png") as grid:  # 4 x 4 plus sources.
        assert grid.size == (5 * 18 + 2, 5 * 18 + 2)
    upload = tmp_path / "upload.png"
    Image.new("RGB", (40, 30), (10, 200, 10)).save(upload)
    code, out, _ = _cli(
        ["sample", "--checkpoint", cycle, "--translate", upload, "--direction", "BtoA"],
        capsys,
    )
    assert code == 0 and out.endswith("translated.png")
    with Image.open(tmp_path / "translated.png") as translated:
        assert translated.size == (40, 30)
    code, _, _ = _cli(
        ["sample", "--checkpoint", sg2, "--truncation", "0.5", "--out", "g.png"], capsys
    )
    assert code == 0 and (tmp_path / "g.png").exists()


def test_a_flag_the_family_cannot_do_is_one_line_and_exit_code_2(
    checkpoints, tmp_path, capsys
):
    out = tmp_path / "x.png"
    cases = [
        (["--checkpoint", checkpoints["progan"], "--style-mix"], "--style-mix"),
        (["--checkpoint", checkpoints["stylegan2"], "--translate", out], "--translate"),
        (["--checkpoint", checkpoints["stylegan2"], "--class-grid"], "--class-grid"),
        (["--checkpoint", checkpoints["cyclegan"], "--out", out], "--translate IMAGE"),
        (["--checkpoint", checkpoints["cyclegan"], "--interpolate"], "--interpolate"),
        (
            ["--checkpoint", checkpoints["stylegan2"], "--direction", "AtoB"],
            "--translate",
        ),
        (["--checkpoint", checkpoints["progan"], "--interpolate", "--space", "w"], "W"),
    ]
    for argv, hint in cases:
        code, _, err = _cli(["sample", *argv], capsys)
        assert code == 2, argv
        assert len(err.splitlines()) == 1 and hint in err, err


def test_handles_say_which_spaces_and_calls_they_have(handles):
    assert handles["stylegan2"].latent_spaces == ("z", "w")
    assert handles["progan"].latent_spaces == ("z",)
    assert handles["cyclegan"].latent_spaces == ()
    assert handles["stylegan2"].calls == ("sample", "interpolate", "style_mix")
    assert "class_grid" in handles["stylegan2-cond"].calls
    assert handles["progan"].calls == ("sample", "interpolate")
    assert handles["cyclegan"].calls == ("translate",)


def test_tiled_translation_of_300x200_leaves_no_seam_at_tile_borders(handles):
    """A network with strong border effects (a blur over zero padding): cut into
    tiles naively, its output is wrong along every tile border; overlapped,
    blended tiles put the error there below a tenth of that, close to running
    the network on the whole image at once."""
    import torch.nn.functional as F

    from gan_core.sampling_advanced import _tiles

    torch.manual_seed(0)
    height, width, size = 200, 300, 32
    smooth = F.interpolate(torch.rand(1, 3, 25, 38), size=(height, width))
    kernel = torch.full((3, 1, 7, 7), 1 / 49)

    def blur(batch):
        return F.conv2d(batch, kernel, padding=3, groups=3)

    whole = blur(smooth)
    naive = torch.empty_like(whole)
    for top in range(0, height, size):
        for left in range(0, width, size):
            tile = smooth[:, :, top : top + size, left : left + size]
            naive[:, :, top : top + size, left : left + size] = blur(tile)
    blended = _tiles(smooth, size, blur)

    border = torch.zeros(height, width, dtype=torch.bool)
    for edge in range(size, width, size):
        border[:, edge - 3 : edge + 3] = True
    for edge in range(size, height, size):
        border[edge - 3 : edge + 3, :] = True
    naive_error = (naive - whole).abs().mean(1)[0][border].mean()
    blended_error = (blended - whole).abs().mean(1)[0][border].mean()
    assert naive_error > 0.05  # the seams a naive cut leaves are real
    assert blended_error < naive_error / 10

    out = handles["cyclegan"].translate(smooth[0] * 2 - 1, "AtoB", mode="tile")
    assert out.size == (width, height)


def test_round_trip_errors_are_the_per_pixel_cycle_and_identity_losses(handles):
    from gan_core.sampling_advanced import error_heatmap, round_trip

    h = handles["cyclegan"]
    upload = Image.new("RGB", (20, 12), (200, 30, 30))
    trip = round_trip(h, upload, "AtoB")
    assert trip.source.shape == trip.back.shape == (3, 12, 20)
    assert trip.cycle_error.shape == (12, 20)
    expected = (trip.back - trip.source).abs().mean(0) / 2
    assert torch.allclose(trip.cycle_error, expected)
    assert torch.allclose(
        trip.identity_error, (trip.identity - trip.source).abs().mean(0) / 2
    )
    # Generators that change nothing: no error anywhere (up to 8-bit rounding).
    try:
        h.net.forward = lambda batch, direction: batch
        still = round_trip(h, upload, "BtoA")
    finally:
        del h.net.forward
    assert still.cycle_error.max() < 1 / 255 and still.identity_error.max() < 1 / 255
    heat = error_heatmap(torch.tensor([[0.0, 0.125, 0.25, 1.0]]))
    assert [heat.getpixel((x, 0)) for x in range(4)] == [
        (0, 0, 0),
        (255, 0, 0),
        (255, 255, 0),
        (255, 255, 0),
    ]


@pytest.mark.parametrize("shape", [(8, 8), (5, 30), (30, 5), (17, 40), (1, 100)])
def test_tile_count_is_the_number_of_tiles_a_tiled_translation_runs(shape):
    """What the playground checks before translating is what the tiling does."""
    from gan_core.sampling_advanced import _tiles, tile_count

    seen = []

    def network(batch):
        seen.append(batch.shape[0])
        return batch

    x = torch.zeros(1, 3, *shape)
    _tiles(x, 8, network)
    assert sum(seen) == tile_count(*shape, 8)
