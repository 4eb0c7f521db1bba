"""The stylegan2 family on the one trainer: registration, lazy phases, learning."""

import pytest
import torch
from advanced_helpers import generated, make_trainer, pixel_distance, shapes_data

from gan_core.config import ConfigError, config_from_dict
from gan_core.registry import get_family

TINY = dict(
    image_size=16,
    batch_size=8,
    z_dim=16,
    w_dim=16,
    mapping_layers=2,
    channel_base=256,
    channel_max=32,
    sample_every=10_000,
    checkpoint_every=10_000,
)


def test_defaults_follow_the_paper_and_presets_validate():
    family = get_family("stylegan2")
    config = config_from_dict("stylegan2", {})
    assert (config.lr_g, config.beta1, config.beta2) == (0.002, 0.0, 0.99)
    assert (config.r1_interval, config.pl_interval) == (16, 4)
    assert (config.mapping_layers, config.style_mixing_prob, config.pl_weight) == (
        8,
        0.9,
        2.0,
    )
    for preset in family.presets.values():
        config_from_dict("stylegan2", preset)
    with pytest.raises(ConfigError, match="power of two"):
        config_from_dict("stylegan2", {"image_size": 48})


def test_lazy_regularization_runs_every_16_and_4_steps_in_the_trainer(tmp_path):
    events = []
    trainer = make_trainer(
        "stylegan2", shapes_data(32), tmp_path, events, steps=33, **TINY
    )
    trainer.loop()
    steps = [e for e in events if e.type == "step"]
    r1 = [e.step - 1 for e in steps if "r1_penalty" in e.extras]
    pl = [e.step - 1 for e in steps if "pl_penalty" in e.extras]
    assert r1 == [0, 16, 32]
    assert pl == list(range(0, 33, 4))
    # Adam is compensated for the lazy intervals (section 3.1): lr * k / (k + 1).
    d_lr = trainer.recipe.optimizers["D"].param_groups[0]["initial_lr"]
    assert d_lr == pytest.approx(0.002 * 16 / 17)
    # The tracked mean w travels to the EMA copy and into the checkpoint.
    assert trainer.ema.mapping.w_avg.abs().sum() > 0


def test_a_tiny_stylegan2_learns_the_shapes(tmp_path):
    torch.manual_seed(0)
    data = shapes_data(128)
    events = []
    trainer = make_trainer("stylegan2", data, tmp_path, events, steps=200, **TINY)
    before = pixel_distance(generated(trainer, 128), data.images)
    trainer.loop()
    after = pixel_distance(generated(trainer, 128), data.images)
    d_losses = [e.losses["d"] for e in events if e.type == "step"]
    assert after < 0.5 * before, (before, after)
    # D starts at 2 ln 2 (it cannot tell) and ends up telling real from fake.
    assert sum(d_losses[-20:]) / 20 < d_losses[0]


def test_resume_continues_exactly_with_the_path_length_mean(tmp_path):
    from gan_core.trainer import train

    data = shapes_data(16)
    config = config_from_dict("stylegan2", {**TINY, "steps": 8, "checkpoint_every": 4})
    train(config, data=data, out_dir=tmp_path / "full", device="cpu")
    train(config.replace(steps=4), data=data, out_dir=tmp_path / "half", device="cpu")
    train(config, data=data, out_dir=tmp_path / "half", device="cpu", resume=True)
    a = torch.load(tmp_path / "full/checkpoints/latest.pt", weights_only=True)
    b = torch.load(tmp_path / "half/checkpoints/latest.pt", weights_only=True)
    assert a["state"]["loss"]["path_length.pl_mean"] > 0
    assert torch.equal(
        a["state"]["loss"]["path_length.pl_mean"],
        b["state"]["loss"]["path_length.pl_mean"],
    )
    for key, value in a["nets"]["G"].items():
        assert torch.allclose(value, b["nets"]["G"][key], atol=1e-6), key


def test_images_per_second_counts_the_real_images_d_sees(tmp_path):
    """G's phases and the lazy R1 batches draw batches too (19 batches in 8
    steps here); the rate counts the real images of D's main phase only."""
    trainer = make_trainer("stylegan2", shapes_data(32), tmp_path, steps=8, **TINY)
    trainer.loop()
    assert trainer.images_seen == 8 * 8
    assert trainer.feed.images_drawn == (8 + 8 + 2 + 1) * 8
    critic = make_trainer(
        "wgan", shapes_data(32), tmp_path / "wgan", steps=3, image_size=16,
        batch_size=4, g_channels=4, d_channels=4, sample_every=100,
    )  # fmt: skip
    critic.loop()
    assert critic.images_seen == 3 * 5 * 4  # five critic batches per step


def test_quality_preset_is_paper256():
    preset = get_family("stylegan2").presets["quality"]
    config = config_from_dict("stylegan2", preset)
    # stylegan2-ada-pytorch train.py, cfg_specs["paper256"].
    assert (config.batch_size, config.mbstd_group, config.channel_base) == (
        64,
        8,
        16384,
    )
    assert (config.lr_g, config.lr_d, config.r1_gamma) == (0.0025, 0.0025, 1.0)
    assert config.steps * config.batch_size == 25_000_000  # kimg 25000
    assert (config.ema_kimg, config.ema_rampup, config.mapping_layers) == (
        20.0,
        0.0,
        8,
    )


def _as_bilinear_era(payload: dict) -> dict:
    """The payload as the networks before FIR resampling saved it: no marker,
    one shared grad scaler, the per-step ema setting."""
    old = dict(payload)
    old["nets"] = {
        k: {n: t for n, t in sd.items() if n != "fir_resampling"}
        for k, sd in payload["nets"].items()
    }
    old["ema"] = {n: t for n, t in payload["ema"].items() if n != "fir_resampling"}
    old["scaler"] = next(iter(payload["scalers"].values()))
    del old["scalers"]
    config = dict(payload["config"], ema=0.998)
    for key in ("ema_kimg", "ema_rampup", "conv_clamp"):
        config.pop(key)
    old["config"] = config
    return old


def test_checkpoint_of_the_bilinear_networks_is_refused_with_a_clear_message(
    tmp_path,
):
    from gan_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
    from gan_core.sampling import load_generator
    from gan_core.trainer import train

    data = shapes_data(16)
    config = config_from_dict("stylegan2", {**TINY, "steps": 2})
    result = train(config, data=data, out_dir=tmp_path, device="cpu")
    old = _as_bilinear_era(load_checkpoint(result.checkpoint))
    save_checkpoint(result.checkpoint, old)
    save_checkpoint(tmp_path / "checkpoints/latest.pt", old)
    with pytest.raises(CheckpointError, match="predates FIR resampling"):
        load_generator(result.checkpoint)
    with pytest.raises(CheckpointError, match="predates FIR resampling"):
        train(config.replace(steps=4), data=data, out_dir=tmp_path, device="cpu",
              resume=True)  # fmt: skip


def test_compile_wraps_the_modules_the_loss_calls(tmp_path):
    """The loss calls G.mapping and G.synthesis, never G: compiling G alone
    would leave StyleGAN2's generator phases uncompiled. Compilation itself
    happens at the first call, which this test does not make."""
    trainer = make_trainer("stylegan2", shapes_data(32), tmp_path, compile=True, **TINY)
    G, D = trainer.recipe.nets["G"], trainer.recipe.nets["D"]
    for module in (G.mapping, G.synthesis, D):
        assert module._compiled_call_impl is not None, type(module).__name__
    plain = make_trainer("stylegan2", shapes_data(32), tmp_path / "plain", **TINY)
    assert plain.recipe.nets["G"].synthesis._compiled_call_impl is None
