"""Adaptive discriminator augmentation (Karras et al. 2020): p follows D's
overfitting, augments each image with probability p, survives resume, is on by
default for small datasets, and refuses the older DiffAugment-based state."""

import pytest
import torch

from gan_core.ada import SMALL_DATASET, AdaptiveAugment, ada_wanted
from gan_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gan_core.config import ConfigError, config_from_dict
from gan_core.data.loading import DataInfo
from gan_core.sampling import load_generator
from gan_core.trainer import train


def test_p_moves_by_the_stated_speed_in_the_direction_of_the_heuristic():
    ada = AdaptiveAugment(target=0.6, speed_kimg=1.0, interval=4)
    overfit = torch.tensor([3.0, 2.0, 1.0, -1.0, 2.0, 5.0, 1.0, 1.0])  # r_t = 0.75
    for _ in range(3):
        ada.observe(overfit)
    assert ada.p == 0.0  # adjusts only every 4 D steps
    ada.observe(overfit)
    assert ada.p == pytest.approx(32 / 1000)  # 4 batches of 8 images, 1 kimg
    balanced = torch.tensor([1.0, -1.0] * 4)  # r_t = 0 < 0.6: down again
    for _ in range(8):
        ada.observe(balanced)
    assert ada.p == 0.0  # and never below 0


def test_p_falls_when_d_does_not_overfit_and_stops_at_1_when_it_does():
    ada = AdaptiveAugment(target=0.6, speed_kimg=0.1, interval=1)
    ada.p = 0.5
    unsure = torch.tensor([1.0, 1.0, -1.0, -1.0, 1.0])  # r_t = 0.2
    ada.observe(unsure)
    assert ada.p == pytest.approx(0.5 - 5 / 100)
    ada.observe(torch.tensor([1.0, 1.0, 1.0, 1.0, -1.0]))  # r_t = 0.6: stays
    assert ada.p == pytest.approx(0.5 - 5 / 100)
    for _ in range(40):
        ada.observe(torch.ones(5))  # r_t = 1: D is sure of every real image
    assert ada.p == 1.0


def test_each_image_is_augmented_with_probability_p():
    torch.manual_seed(0)
    x = torch.rand(400, 3, 8, 8) * 2 - 1
    ada = AdaptiveAugment("brightness")  # changes an image whenever it fires
    assert torch.equal(ada(x), x)  # p = 0: the identity
    ada.p = 0.25
    changed = (ada(x) != x).flatten(1).any(1).float().mean().item()
    assert 0.18 < changed < 0.32
    ada.p = 1.0
    assert (ada(x) != x).flatten(1).any(1).all()
    points = torch.rand(10, 2)
    assert torch.equal(ada(points), points)  # only images are augmented


@pytest.mark.parametrize("family", ["dcgan", "stylegan2"])
def test_p_rises_on_a_tiny_dataset_and_is_restored_on_resume(
    family, tmp_path, tiny_images
):
    """24 images: D learns them by heart, r_t climbs above the target, p rises;
    the checkpoint keeps p and a resumed run starts from it."""
    if family == "dcgan":
        size = {"image_size": 8, "g_channels": 8, "d_channels": 8}
    else:
        size = {"image_size": 16, "z_dim": 16, "w_dim": 16, "mapping_layers": 2,
                "channel_base": 256, "channel_max": 16}  # fmt: skip
        tiny_images = type(tiny_images)(
            torch.nn.functional.interpolate(tiny_images.images, size=16),
            tiny_images.labels,
            tiny_images.class_names,
        )
    settings = {
        **size,
        "batch_size": 8,
        "steps": 40,
        "sample_every": 40,
        "checkpoint_every": 40,
        "ada": "auto",  # the classic families' default is off
        "ada_target": 0.6,
        "ada_kimg": 0.5,  # fast, so that a few dozen steps show it
        "lr_d": 2e-3,
    }
    events = []
    train(config_from_dict(family, settings), data=tiny_images, out_dir=tmp_path,
          device="cpu", on_event=lambda e: events.append(e.to_dict()))  # fmt: skip
    p_live = [e["extras"]["ada_p"] for e in events if e["type"] == "step"]
    assert p_live[0] == 0.0 and max(p_live) > 0.2, p_live
    saved = load_checkpoint(tmp_path / "checkpoints" / "latest.pt")["state"]["ada"]
    assert saved["p"] == pytest.approx(p_live[-1])

    resumed = []
    train(config_from_dict(family, {**settings, "steps": 44}), data=tiny_images,
          out_dir=tmp_path, device="cpu", resume=True,
          on_event=lambda e: resumed.append(e.to_dict()))  # fmt: skip
    first = next(e for e in resumed if e["type"] == "step")
    assert first["step"] == 41
    # One D step from the saved p: at most one adjustment of 4 x 8 / 500 away.
    assert abs(first["extras"]["ada_p"] - saved["p"]) <= 32 / 500 + 1e-9
    assert first["extras"]["ada_p"] > 0.1


def test_ada_is_on_by_default_for_small_datasets_only():
    auto = config_from_dict("stylegan2", {})
    assert (auto.ada, auto.ada_target) == ("auto", 0.6)
    assert ada_wanted(auto, 24) and ada_wanted(auto, SMALL_DATASET)
    assert not ada_wanted(auto, SMALL_DATASET + 1)
    assert not ada_wanted(auto, 0)  # size unknown (older data info)
    # A fixed DiffAugment policy chosen by the user wins over auto.
    chosen = {"ada": "auto", "augment": "color"}
    assert not ada_wanted(config_from_dict("stylegan2", chosen), 24)
    assert not ada_wanted(config_from_dict("dcgan", chosen), 24)
    assert ada_wanted(config_from_dict("dcgan", {"ada": "on"}), 10**6)
    assert not ada_wanted(config_from_dict("dcgan", {"ada": "off"}), 24)
    # Older configs stored ada_target 0 for "off": they stay off.
    assert not ada_wanted(config_from_dict("dcgan", {"ada_target": 0.0}), 24)
    with pytest.raises(ConfigError, match="do not combine"):
        config_from_dict("dcgan", {"ada": "on", "augment": "color"})
    with pytest.raises(ConfigError, match="ada_target"):
        config_from_dict("dcgan", {"ada": "on", "ada_target": 0.0})


@pytest.mark.parametrize("family", ["dcgan", "wgan", "wgan-gp", "sngan", "cgan"])
def test_classic_families_get_ada_only_when_asked(family):
    """ADA was defined and tuned on StyleGAN2: auto is its default alone."""
    default = config_from_dict(family, {})
    assert default.ada == "off" and not ada_wanted(default, 24)
    for mode in ("auto", "on"):
        assert ada_wanted(config_from_dict(family, {"ada": mode}), 24)
    assert not ada_wanted(config_from_dict(family, {"ada": "auto"}), 10**6)


def test_a_small_dataset_trains_with_ada_unless_it_is_off(
    tmp_path, tiny_images, tiny_settings
):
    for mode, kept in (("auto", True), ("off", False), (None, False)):
        out = tmp_path / str(mode)  # None: dcgan's default, off
        extra = {"ada": mode} if mode else {}
        config = config_from_dict("dcgan", tiny_settings("dcgan", **extra))
        train(config, data=tiny_images, out_dir=out, device="cpu")
        state = load_checkpoint(out / "checkpoints/latest.pt")["state"]
        assert ("ada" in state) is kept
    assert DataInfo.from_dict({"kind": "images"}).size == 0  # older info loads


def test_an_older_ada_state_is_refused_on_resume_but_still_samples(
    tmp_path, tiny_images, tiny_settings
):
    config = config_from_dict("dcgan", tiny_settings("dcgan", ada="on"))
    train(config, data=tiny_images, out_dir=tmp_path, device="cpu")
    path = tmp_path / "checkpoints/latest.pt"
    payload = load_checkpoint(path)
    old = payload["state"]["ada"]
    payload["state"]["ada"] = {k: old[k] for k in ("p", "sign_sum", "seen", "steps")}
    save_checkpoint(path, payload)
    with pytest.raises(CheckpointError, match="older DiffAugment-based ADA"):
        train(config.replace(steps=6), data=tiny_images, out_dir=tmp_path,
              device="cpu", resume=True)  # fmt: skip
    assert load_generator(path).sample(2, seed=0).shape == (2, 3, 8, 8)
