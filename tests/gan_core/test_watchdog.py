"""The divergence watchdog: a run whose weights blow up goes back to its last
healthy checkpoint with half the learning rate, a bounded number of times."""

import math

import pytest
import torch

from gan_core.checkpoint import load_checkpoint
from gan_core.config import config_from_dict
from gan_core.data.builtin import load_builtin
from gan_core.data.loading import load_data
from gan_core.devices import resolve_device
from gan_core.trainer import Trainer, TrainingDiverged

SETTINGS = {
    "steps": 60,
    "batch_size": 64,
    "hidden": 32,
    "z_dim": 8,
    "sample_every": 60,
    "checkpoint_every": 20,
}


def poisoned_run(tmp_path, poison_steps, **changes):
    """A real trainer whose generator weights are overwritten with NaN after
    each step in ``poison_steps`` (a fault injected from outside, the way an
    overflow would leave them)."""
    events = []
    holder = {}

    def on_event(event):
        events.append(event.to_dict())
        if event.type == "step" and event.step in poison_steps:
            poison_steps.discard(event.step)
            with torch.no_grad():
                for param in holder["trainer"].recipe.nets["G"].parameters():
                    param.fill_(float("nan"))

    config = config_from_dict("gan", {**SETTINGS, **changes})
    data = load_data(load_builtin("ring8"), image_size=config.image_size)
    trainer = Trainer(config, data, tmp_path, resolve_device("cpu"), on_event, None)
    holder["trainer"] = trainer
    return trainer, events


def test_an_injected_nan_rolls_back_and_the_run_finishes(tmp_path):
    trainer, events = poisoned_run(tmp_path, {25})
    result = trainer.loop()

    assert result.status == "finished" and result.step == 60
    rollbacks = [e for e in events if e["type"] == "rollback"]
    assert len(rollbacks) == 1
    rollback = rollbacks[0]
    assert rollback["step"] == 20 and rollback["from_step"] == 25
    assert "not finite" in rollback["reason"] or "nan" in rollback["reason"].lower()
    assert rollback["lr_scale"] == 0.5 and rollback["rollbacks_left"] == 2
    # Steps 21-25 were redone after the rollback, in order.
    steps = [e["step"] for e in events if e["type"] == "step"]
    assert steps[:25] == list(range(1, 26)) and steps[25:] == list(range(21, 61))
    final = load_checkpoint(tmp_path / "checkpoints" / "latest.pt")
    assert final["watchdog"]["lr_scale"] == 0.5
    assert final["watchdog"]["rollbacks"] == 1
    for tensor in final["nets"]["G"].values():
        assert torch.isfinite(tensor).all()
    from gan_core.cli import Progress

    assert Progress._line(rollback).startswith("diverged at step 25 (")
    assert Progress._line(rollback).endswith(
        "back to step 20, learning rate x0.5, 2 rollback(s) left"
    )
    # The learning rate really is halved from the rollback on.
    lr = trainer.recipe.optimizers["G"].param_groups[0]
    assert lr["lr"] == pytest.approx(lr["initial_lr"] * 0.5)


def test_rollbacks_are_bounded_then_the_run_fails_with_its_reason(tmp_path):
    trainer, events = poisoned_run(tmp_path, set(range(21, 60)), rollbacks=2)
    with pytest.raises(TrainingDiverged, match="diverged"):
        trainer.loop()
    types = [e["type"] for e in events]
    assert types.count("rollback") == 2 and types[-1] == "failed"
    # Every checkpoint on disk is healthy: none was written with NaN weights.
    for path in (tmp_path / "checkpoints").glob("step_*.pt"):
        weights = load_checkpoint(path)["nets"]["G"].values()
        assert all(torch.isfinite(t).all() for t in weights)


def test_without_a_checkpoint_or_with_rollbacks_off_the_run_fails_at_once(tmp_path):
    trainer, events = poisoned_run(tmp_path / "a", {5})
    with pytest.raises(TrainingDiverged):
        trainer.loop()  # step 6 diverges; the first checkpoint is at step 20
    assert "rollback" not in [e["type"] for e in events]

    trainer, events = poisoned_run(tmp_path / "b", {25}, rollbacks=0)
    with pytest.raises(TrainingDiverged):
        trainer.loop()
    assert "rollback" not in [e["type"] for e in events]


def test_a_resumed_run_keeps_the_lowered_learning_rate(tmp_path):
    trainer, _ = poisoned_run(tmp_path, {25}, steps=40)
    trainer.loop()
    config = config_from_dict("gan", {**SETTINGS, "steps": 60})
    data = load_data(load_builtin("ring8"), image_size=config.image_size)
    resumed = Trainer(config, data, tmp_path, resolve_device("cpu"), None, None)
    resumed.restore()
    assert (resumed.lr_scale, resumed.rollbacks_used) == (0.5, 1)
    resumed.loop()
    lr = resumed.recipe.optimizers["G"].param_groups[0]
    assert math.isclose(lr["lr"], lr["initial_lr"] * 0.5 * _schedule(resumed))


def _schedule(trainer) -> float:
    from gan_core.trainer import lr_factor

    c = trainer.config
    return lr_factor(c.lr_schedule, trainer.step - 1, c.steps)


def faulty_run(tmp_path, fault, **changes) -> list[dict]:
    """Train SETTINGS (with ``changes``) to the end, applying ``fault(trainer)``
    once, after step 25; returns every event."""
    events, holder = [], {}

    def on_event(event):
        events.append(event.to_dict())
        if event.type == "step" and event.step == 25 and not holder.get("done"):
            holder["done"] = True
            with torch.no_grad():
                fault(holder["trainer"])

    config = config_from_dict("gan", {**SETTINGS, **changes})
    data = load_data(load_builtin("ring8"), image_size=config.image_size)
    trainer = Trainer(config, data, tmp_path, resolve_device("cpu"), on_event, None)
    holder["trainer"] = trainer
    assert trainer.loop().status == "finished"
    return events


def test_a_collapsed_generator_is_rolled_back_like_a_divergence(tmp_path):
    """Every noise drawn to one point: the fixed-noise samples stop spreading,
    and the run goes back to its last checkpoint with a lower learning rate."""

    def collapse(trainer):  # the last layer ignores its input now
        trainer.recipe.nets["G"].net[-1].weight.zero_()
        if trainer.ema is not None:
            trainer.ema.net[-1].weight.zero_()

    events = faulty_run(tmp_path, collapse, sample_every=10, collapse_ratio=0.1)
    rollbacks = [e for e in events if e["type"] == "rollback"]
    assert len(rollbacks) == 1, [e["type"] for e in events if e["type"] != "step"]
    assert rollbacks[0]["from_step"] == 30 and rollbacks[0]["step"] == 20
    assert rollbacks[0]["reason"].startswith("mode collapse")


def test_the_collapse_watchdog_is_off_unless_asked(tmp_path):
    trainer, events = poisoned_run(tmp_path, set())
    with torch.no_grad():
        trainer.recipe.nets["G"].net[-1].weight.zero_()
    trainer.loop()
    assert "rollback" not in [e["type"] for e in events]


def test_an_exploding_loss_is_rolled_back_too(tmp_path):
    """Finite but absurd: D's logits blown up by a huge weight."""

    def explode(trainer):
        trainer.recipe.nets["D"].net[-1].weight.mul_(1e10)

    events = faulty_run(tmp_path, explode)
    rollbacks = [e for e in events if e["type"] == "rollback"]
    assert len(rollbacks) == 1 and "exploded" in rollbacks[0]["reason"]
    assert rollbacks[0]["step"] == 20
