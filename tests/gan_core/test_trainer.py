"""The training loop: events, files, stop, divergence and exact resume."""

import json

import pytest
import torch

from gan_core.checkpoint import CheckpointError
from gan_core.config import config_from_dict
from gan_core.data.loading import DataError
from gan_core.data.types import ImageData
from gan_core.registry import list_families
from gan_core.sampling import load_generator
from gan_core.trainer import TrainingDiverged, lr_factor, train


def _run(family, data, out, settings, **kwargs):
    events = []
    result = train(
        config_from_dict(family, settings),
        data=data,
        out_dir=out,
        device="cpu",
        on_event=events.append,
        **kwargs,
    )
    return result, events


@pytest.mark.parametrize("family", [f.name for f in list_families()][:6])
def test_every_classic_family_trains_and_its_checkpoint_samples(
    family, tmp_path, tiny_images, tiny_points, tiny_settings
):
    data = tiny_points if family == "gan" else tiny_images
    result, events = _run(family, data, tmp_path, tiny_settings(family))
    assert result.status == "finished" and result.step == 4
    types = [e.type for e in events]
    assert types[0] == "started" and types[-1] == "finished"
    assert types.count("step") == 4
    handle = load_generator(tmp_path / "checkpoints/latest.pt")
    a, b = handle.sample(6, seed=3), handle.sample(6, seed=3)
    assert torch.equal(a, b) and not torch.equal(a, handle.sample(6, seed=4))
    assert a.shape == ((6, 2) if family == "gan" else (6, 3, 8, 8))


def test_run_writes_checkpoints_samples_and_metrics(
    tmp_path, tiny_images, tiny_settings
):
    _run("dcgan", tiny_images, tmp_path, tiny_settings("dcgan"))
    ckpts = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert ckpts == ["latest.pt", "step_0000003.pt", "step_0000004.pt"]
    samples = sorted(p.name for p in (tmp_path / "samples").iterdir())
    # Every sample_every (2) steps, and with every checkpoint (3) too.
    assert samples == ["step_0000002.png", "step_0000003.png", "step_0000004.png"]
    lines = [
        json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().split("\n") if x
    ]
    steps = [x for x in lines if x["type"] == "step"]
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    assert set(steps[0]["losses"]) == {"d", "g"}
    assert 0 <= steps[0]["d_real"] <= 1 and steps[0]["images_per_sec"] > 0
    assert lines[-1]["type"] == "finished"


def test_point_samples_carry_points_and_discriminator_surface(
    tmp_path, tiny_points, tiny_settings
):
    _, events = _run("gan", tiny_points, tmp_path, tiny_settings("gan"))
    sample = next(e for e in events if e.type == "sample").to_dict()
    assert len(sample["points"]) == 512 and len(sample["points"][0]) == 2
    assert len(sample["real_points"]) == 256
    surface = sample["surface"]
    assert len(surface["values"]) == surface["size"] ** 2
    xmin, xmax, ymin, ymax = surface["extent"]
    assert xmin < -1 < 1 < xmax and ymin < -1 < 1 < ymax
    assert (tmp_path / sample["path"]).is_file()


def test_should_stop_checkpoints_and_reports_stopped(
    tmp_path, tiny_images, tiny_settings
):
    calls = iter(range(100))
    result, events = _run(
        "dcgan",
        tiny_images,
        tmp_path,
        tiny_settings("dcgan"),
        should_stop=lambda: next(calls) >= 2,
    )
    assert result.status == "stopped" and result.step == 2
    stopped = events[-1].to_dict()
    assert stopped["type"] == "stopped" and stopped["step"] == 2
    assert stopped["checkpoint"] == "checkpoints/step_0000002.pt"
    assert (
        torch.load(tmp_path / "checkpoints/latest.pt", weights_only=True)["step"] == 2
    )


def test_nan_loss_fails_with_a_reason_and_writes_no_checkpoint(
    tmp_path, tiny_images, tiny_settings
):
    broken = ImageData(torch.full_like(tiny_images.images, float("nan")))
    with pytest.raises(TrainingDiverged, match="diverged at step 0: D_main loss"):
        _run("dcgan", broken, tmp_path, tiny_settings("dcgan"))
    failed = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert failed["type"] == "failed" and "diverged" in failed["reason"]
    assert not (tmp_path / "checkpoints").exists()


def _states(path):
    payload = torch.load(path, weights_only=True)
    return payload["step"], payload["nets"], payload["ema"], payload["optimizers"]


def _assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize(
    "family, changes",
    [
        ("dcgan", {"augment": "color,translation,cutout", "lr_schedule": "linear"}),
        ("wgan-gp", {"lr_schedule": "cosine"}),
        ("gan", {"clusters": 4}),  # k-means runs again on resume, off the RNG
    ],
)
def test_run_of_2n_steps_equals_n_steps_then_resume(
    family, changes, tmp_path, tiny_images, tiny_settings
):
    settings = tiny_settings(family, steps=6, checkpoint_every=100, **changes)
    _run(family, tiny_images, tmp_path / "whole", settings)
    calls = iter(range(100))
    first, _ = _run(
        family,
        tiny_images,
        tmp_path / "split",
        settings,
        should_stop=lambda: next(calls) >= 3,
    )
    assert first.step == 3
    result, events = _run(
        family, tiny_images, tmp_path / "split", settings, resume=True
    )
    assert events[0].to_dict()["start_step"] == 3 and result.step == 6
    whole = _states(tmp_path / "whole/checkpoints/latest.pt")
    split = _states(tmp_path / "split/checkpoints/latest.pt")
    assert whole[0] == split[0] == 6
    _assert_same(whole, split)


def test_resume_refuses_other_data(tmp_path, tiny_images, tiny_settings):
    _run("dcgan", tiny_images, tmp_path, tiny_settings("dcgan"))
    other = ImageData(tiny_images.images.flip(0))
    with pytest.raises(CheckpointError, match="different data"):
        _run("dcgan", other, tmp_path, tiny_settings("dcgan"), resume=True)


def test_resume_without_a_checkpoint_is_a_clear_error(
    tmp_path, tiny_images, tiny_settings
):
    with pytest.raises(CheckpointError, match="nothing to resume"):
        _run("dcgan", tiny_images, tmp_path, tiny_settings("dcgan"), resume=True)


def test_families_refuse_data_they_cannot_train_on(
    tmp_path, tiny_images, tiny_points, tiny_settings
):
    with pytest.raises(DataError, match="dcgan cannot train on points"):
        _run("dcgan", tiny_points, tmp_path, tiny_settings("dcgan"))
    unlabelled = ImageData(tiny_images.images)
    with pytest.raises(DataError, match="cgan cannot train on images"):
        _run("cgan", unlabelled, tmp_path, tiny_settings("cgan"))


def test_bf16_autocast_trains_with_finite_losses(tmp_path, tiny_images, tiny_settings):
    _, events = _run(
        "dcgan", tiny_images, tmp_path, tiny_settings("dcgan", precision="bf16")
    )
    losses = [v for e in events if e.type == "step" for v in e.losses.values()]
    assert losses and all(torch.isfinite(torch.tensor(losses)))


def test_fp16_needs_cuda(tmp_path, tiny_images, tiny_settings):
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        _run("dcgan", tiny_images, tmp_path, tiny_settings("dcgan", precision="fp16"))


def test_linear_schedule_holds_then_decays_to_zero():
    got = [lr_factor("linear", s, 10) for s in (0, 4, 5, 9)]
    assert got == pytest.approx([1, 1, 1, 0.2])
    assert lr_factor("cosine", 5, 10) == pytest.approx(0.5)
    assert lr_factor("constant", 9, 10) == 1
