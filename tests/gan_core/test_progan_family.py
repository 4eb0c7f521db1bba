"""The progan family on the one trainer: schedule in events, resume, learning."""

import pytest
import torch
from advanced_helpers import generated, make_trainer, pixel_distance, shapes_data

from gan_core.config import ConfigError, config_from_dict
from gan_core.registry import get_family
from gan_core.trainer import train

TINY = dict(
    image_size=16,
    batch_size=8,
    z_dim=16,
    channel_base=256,
    channel_max=32,
    sample_every=10_000,
    checkpoint_every=10_000,
)


def test_defaults_follow_the_paper_and_presets_validate():
    config = config_from_dict("progan", {})
    assert (config.lr_g, config.beta1, config.beta2) == (0.001, 0.0, 0.99)
    assert (config.gp_lambda, config.drift, config.n_critic) == (10.0, 0.001, 1)
    for preset in get_family("progan").presets.values():
        config_from_dict("progan", preset)
    with pytest.raises(ConfigError, match="power of two"):
        config_from_dict("progan", {"image_size": 24})


def test_step_events_carry_resolution_and_alpha_along_the_schedule(tmp_path):
    events = []
    # 16 px: 3 stages, 5 phases of 4 steps: 4 stable, 8 fade, 8, 16 fade, 16.
    train(
        config_from_dict("progan", {**TINY, "steps": 20, "phase_steps": 4}),
        data=shapes_data(16),
        out_dir=tmp_path,
        device="cpu",
        on_event=events.append,
    )
    seen = [
        (e.extras["resolution"], e.extras["alpha"]) for e in events if e.type == "step"
    ]
    assert seen[0] == (4, 1.0) and seen[3] == (4, 1.0)
    assert seen[4] == (8, 0.0) and seen[6] == (8, 0.5)
    assert seen[8] == (8, 1.0)
    assert seen[12] == (16, 0.0) and seen[14] == (16, 0.5)
    assert seen[-1] == (16, 1.0)


def test_resume_continues_the_schedule_exactly(tmp_path):
    data = shapes_data(16)
    full = config_from_dict("progan", {**TINY, "steps": 12, "phase_steps": 3})
    train(full, data=data, out_dir=tmp_path / "full", device="cpu")
    half = full.replace(checkpoint_every=6)
    train(half.replace(steps=6), data=data, out_dir=tmp_path / "half", device="cpu")
    events = []
    train(
        half,
        data=data,
        out_dir=tmp_path / "half",
        device="cpu",
        on_event=events.append,
        resume=True,
    )
    assert [e.extras["resolution"] for e in events if e.type == "step"][0] == 8
    a = torch.load(tmp_path / "full/checkpoints/latest.pt", weights_only=True)
    b = torch.load(tmp_path / "half/checkpoints/latest.pt", weights_only=True)
    for key, value in a["nets"]["G"].items():
        assert torch.allclose(value.float(), b["nets"]["G"][key].float(), atol=1e-6), (
            key
        )


def test_a_tiny_progan_grows_and_learns_the_shapes(tmp_path):
    torch.manual_seed(0)
    data = shapes_data(128)
    events = []
    trainer = make_trainer("progan", data, tmp_path, events, steps=200, **TINY)
    before = pixel_distance(generated(trainer, 128), data.images)
    trainer.loop()
    after = pixel_distance(generated(trainer, 128), data.images)
    assert int(trainer.ema.stage) == 2 and float(trainer.ema.alpha) == 1.0
    assert after < 0.6 * before, (before, after)
