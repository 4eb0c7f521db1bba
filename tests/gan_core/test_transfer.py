"""Starting from a trained model: init-from, FreezeD and mirrored data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.checkpoint import CheckpointError, load_checkpoint
from gan_core.cli import main
from gan_core.config import ConfigError, config_from_dict
from gan_core.data.loading import DataError
from gan_core.data.types import DomainData, ImageData
from gan_core.feed import DataFeed
from gan_core.trainer import Trainer, train


def _images(seed: int, n: int = 12, channels: int = 3, classes: int = 3):
    gen = torch.Generator().manual_seed(seed)
    images = torch.rand(n, channels, 8, 8, generator=gen) * 2 - 1
    names = tuple(f"c{i}" for i in range(classes))
    return ImageData(images, torch.arange(n) % classes, names)


def _trained(tmp_path, family, settings, data) -> tuple:
    config = config_from_dict(family, settings)
    result = train(config, data=data, out_dir=tmp_path / "origin", device="cpu")
    return config, result.checkpoint


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.equal(a, b)


def test_init_from_on_other_data_loads_every_tensor_fresh_optimizers_step_0(
    tmp_path, tiny_settings
):
    config, ckpt = _trained(tmp_path, "dcgan", tiny_settings("dcgan"), _images(0))
    origin = load_checkpoint(ckpt)
    assert origin["step"] == 4 and origin["ema"] is not None
    events = []
    trainer = Trainer(
        config, _images(1), tmp_path / "new", torch.device("cpu"), events.append, None
    )
    report = trainer.init_from(ckpt)
    r = trainer.recipe
    for name in ("G", "D"):
        for key, value in r.nets[name].state_dict().items():
            assert _same(value, origin["nets"][name][key]), f"{name}.{key}"
    for key, value in trainer.ema.state_dict().items():
        assert _same(value, origin["ema"][key]), f"ema.{key}"
    assert report.loaded == sum(
        len(sd) for sd in [*origin["nets"].values(), origin["ema"]]
    )
    assert report.reinitialised == []
    assert trainer.step == 0
    assert all(not opt.state for opt in r.optimizers.values())  # fresh moments
    trainer.loop()
    started = next(e for e in events if e.type == "started")
    assert started.start_step == 0 and started.init["loaded"] == report.loaded
    assert "started from step_0000004.pt" in started.init["note"]
    assert load_checkpoint(tmp_path / "new/checkpoints/latest.pt")["step"] == 4


def test_other_class_count_reinitialises_only_the_class_embeddings(
    tmp_path, tiny_settings
):
    settings = tiny_settings("cgan", steps=2)
    config, ckpt = _trained(tmp_path, "cgan", settings, _images(0, classes=3))
    origin = load_checkpoint(ckpt)["nets"]
    trainer = Trainer(
        config,
        _images(1, classes=2),
        tmp_path / "new",
        torch.device("cpu"),
        None,
        None,
    )
    report = trainer.init_from(ckpt)
    assert sorted(report.reinitialised) == [
        "D.features.0.weight (label channels)",
        "G.embed.weight",
    ]
    assert "re-initialised: " in report.note()
    nets = trainer.recipe.nets
    for name in ("G", "D"):
        for key, value in nets[name].state_dict().items():
            if key in ("embed.weight", "features.0.weight"):
                continue
            assert _same(value, origin[name][key]), f"{name}.{key}"
    first = nets["D"].state_dict()["features.0.weight"]
    assert torch.equal(first[:, :3], origin["D"]["features.0.weight"][:, :3])
    assert first.shape[1] == 3 + 2  # image channels, then one map per class


def _png_folder(root, channels: int, n: int = 6):
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    mode = "RGB" if channels == 3 else "L"
    for i in range(n):
        shape = (8, 8, 3) if channels == 3 else (8, 8)
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode).save(
            root / f"{i}.png"
        )
    return root


def test_cli_init_from_trains_and_refuses_incompatible_checkpoints(
    tmp_path, tiny_settings, capsys
):
    _, ckpt = _trained(tmp_path, "dcgan", tiny_settings("dcgan", steps=2), _images(0))
    rgb, gray = _png_folder(tmp_path / "rgb", 3), _png_folder(tmp_path / "gray", 1)
    common = ["--init-from", str(ckpt), "--cache-dir", str(tmp_path / "cache")]

    def run(model, data, *extra):
        out = str(tmp_path / f"out{len(extra)}{model}{data.name}")
        argv = ["train", "--model", model, "--data", str(data), "--out", out]
        return main([*argv, *common, "--quiet", *extra])

    assert run("dcgan", rgb, "--steps", "1") == 0
    assert "started from step_0000002.pt" in capsys.readouterr().err
    for args, says in [
        (("wgan", rgb), "is a dcgan checkpoint"),
        (("dcgan", rgb, "--image-size", "16"), "image size 8, this run has 16"),
        (("dcgan", gray), "3-channel images, this data has 1"),
    ]:
        assert run(*args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        errors = [line for line in err if line.startswith("error:")]
        assert errors == [err[-1]] and says in err[-1], err


def test_init_from_refuses_other_widths_naming_the_tensor(tmp_path, tiny_settings):
    _, ckpt = _trained(tmp_path, "dcgan", tiny_settings("dcgan", steps=1), _images(0))
    wider = config_from_dict("dcgan", tiny_settings("dcgan", g_channels=8))
    trainer = Trainer(
        wider, _images(1), tmp_path / "n", torch.device("cpu"), None, None
    )
    with pytest.raises(CheckpointError, match=r"G\.net\.0\.weight is \["):
        trainer.init_from(ckpt)


FREEZE_CASES = {
    "dcgan": lambda: ImageData(torch.rand(12, 3, 16, 16) * 2 - 1),
    "cyclegan": lambda: DomainData(
        torch.rand(6, 3, 16, 16) * 2 - 1, torch.rand(6, 3, 16, 16) * 2 - 1
    ),
}
FREEZE_SETTINGS = {
    "dcgan": {"g_channels": 4, "d_channels": 4, "batch_size": 4, "z_dim": 8},
    "cyclegan": {"ngf": 4, "ndf": 4, "n_blocks": 1, "batch_size": 2},
}


@pytest.mark.parametrize("family", ["dcgan", "cyclegan"])
def test_freeze_d_keeps_the_first_blocks_bit_identical_while_the_rest_trains(
    tmp_path, family
):
    settings = {**FREEZE_SETTINGS[family], "image_size": 16, "freeze_d": 1}
    settings.update(steps=3, ema=0.0, sample_every=10, checkpoint_every=10)
    config = config_from_dict(family, settings)
    data = FREEZE_CASES[family]()
    trainer = Trainer(config, data, tmp_path, torch.device("cpu"), None, None)
    D, G = trainer.recipe.nets["D"], trainer.recipe.nets["G"]
    frozen = {id(p) for p in D.d_blocks()[0].parameters()}
    assert frozen and {id(p) for p in trainer.frozen} == frozen
    before_d = {k: p.detach().clone() for k, p in D.named_parameters()}
    before_g = [p.detach().clone() for p in G.parameters()]
    trainer.loop()
    for key, param in D.named_parameters():
        if id(param) in frozen:
            assert torch.equal(param, before_d[key]), f"frozen {key} moved"
        else:
            assert not torch.equal(param, before_d[key]), f"{key} did not train"
    moved = [
        not torch.equal(a, b) for a, b in zip(G.parameters(), before_g, strict=True)
    ]
    assert all(moved)


def test_freeze_d_is_validated_against_the_discriminator_depth():
    assert config_from_dict("dcgan", {"image_size": 16, "freeze_d": 2}).freeze_d == 2
    with pytest.raises(ConfigError, match="freeze_d must be at most 2 at 16 px"):
        config_from_dict("dcgan", {"image_size": 16, "freeze_d": 3})
    with pytest.raises(ConfigError, match="freeze_d must be at most 2 at 16 px"):
        config_from_dict("stylegan2", {"image_size": 16, "freeze_d": 3})
    # CycleGAN at 16 px: PatchGANs of depth 2, so three blocks before the output.
    with pytest.raises(ConfigError, match="freeze_d must be at most 3 at 16 px"):
        config_from_dict("cyclegan", {"image_size": 16, "freeze_d": 4})
    with pytest.raises(ConfigError, match="unknown setting 'freeze_d'"):
        config_from_dict("gan", {"freeze_d": 1})


def _asymmetric(n: int) -> torch.Tensor:
    """Image i: value i/n on its left half, -1 on its right; it can be told
    from its mirror image and from every other image."""
    images = torch.full((n, 1, 4, 4), -1.0)
    images[:, :, :, :2] = (torch.arange(n) / n).view(n, 1, 1, 1)
    return images


def test_mirror_flips_about_half_the_real_images_and_never_the_labels():
    n = 400
    labels = torch.arange(n) % 7
    data = ImageData(_asymmetric(n), labels, tuple("abcdefg"))
    feed = DataFeed(data, n, 0, torch.device("cpu"), False, mirror=True)
    batch = feed.next()
    x = batch.real
    flipped = x[:, 0, 0, 0] == -1.0  # the -1 half is now on the left
    which = torch.where(flipped, x[:, 0, 0, 3], x[:, 0, 0, 0]) * n
    index = which.round().long()
    assert 0.4 < flipped.float().mean() < 0.6
    assert torch.equal(batch.labels, labels[index])  # each label with its image
    assert torch.equal(x[flipped], data.images[index[flipped]].flip(3))
    plain = DataFeed(data, n, 0, torch.device("cpu"), False).next().real
    assert (plain[:, 0, 0, 0] != -1.0).all()


def test_mirror_flips_each_domain_on_its_own_and_resumes_exactly():
    n = 200
    data = DomainData(_asymmetric(n), _asymmetric(n))
    feed = DataFeed(data, n, 0, torch.device("cpu"), False, mirror=True)
    a, b = feed.next().real
    flips_a, flips_b = a[:, 0, 0, 0] == -1.0, b[:, 0, 0, 0] == -1.0
    assert 0.35 < flips_a.float().mean() < 0.65
    assert 0.35 < flips_b.float().mean() < 0.65
    assert not torch.equal(flips_a, flips_b)
    state = feed.state_dict()
    after = feed.next().real[0]
    twin = DataFeed(data, n, 5, torch.device("cpu"), False, mirror=True)
    twin.load_state_dict(state)
    assert torch.equal(twin.next().real[0], after)


def test_mirror_refuses_point_data(tmp_path, tiny_points):
    config = config_from_dict("gan", {"mirror": True, "steps": 1})
    with pytest.raises(DataError, match="mirror flips images"):
        Trainer(config, tiny_points, tmp_path, torch.device("cpu"), None, None)
