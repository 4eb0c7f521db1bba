"""One job on several processes (torch.distributed, gloo on the CPU).

Two ranks with half the batch each must train like one process with the whole
batch, from the same seed: weights equal up to floating point for wgan-gp
(layer norm), StyleGAN2 (lazy R1 and path length inside the run) and DCGAN
(SyncBatchNorm). A 2-rank run stopped after a checkpoint and resumed with
``gan_core train --resume`` (the command line, in the environment torchrun
gives its workers) ends with the uninterrupted run's weights, bit for bit;
resuming on another world size continues and says it is
not bit-exact.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from distributed_ranks import (
    RUNS,
    STOP_AT,
    config,
    join_ranks,
    spawn_ranks,
    write_images,
)

from gan_core import distributed
from gan_core.checkpoint import load_checkpoint
from gan_core.devices import DeviceError
from gan_core.trainer import train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Every run once: two spawned ranks (all runs, the stopped one and its
    resume through the command line) and, while they start, one process with
    the whole batch."""
    root = tmp_path_factory.mktemp("distributed")
    write_images(root / "images")
    ranks = spawn_ranks(2, root)
    try:
        for family in RUNS:
            # Its own cache folder: the ranks build the shared one meanwhile.
            train(
                config(family),
                data=_copy_images(root),
                out_dir=root / "one" / family,
                device="cpu",
            )
    finally:
        join_ranks(ranks)
    return root


def _copy_images(root: Path) -> Path:
    copy = root / "images_one"
    if not copy.exists():
        shutil.copytree(root / "images", copy)
    return copy


def _final(run_dir: Path) -> dict:
    return load_checkpoint(run_dir / "checkpoints" / "latest.pt")


def _tensors(payload: dict) -> dict[str, torch.Tensor]:
    """Every floating-point tensor a run ends with: nets, EMA and loss state
    (StyleGAN2's w_avg is a buffer of G, its path-length mean loss state)."""
    out = {}
    for part in ("nets", "state"):
        for name, sd in (payload.get(part) or {}).items():
            if not isinstance(sd, dict):
                continue
            for key, t in sd.items():
                if isinstance(t, torch.Tensor) and t.is_floating_point():
                    out[f"{part}.{name}.{key}"] = t
    for key, t in (payload.get("ema") or {}).items():
        if t.is_floating_point():
            out[f"ema.{key}"] = t
    return out


def _events(run_dir: Path) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _assert_close(a: dict, b: dict, atol: float) -> None:
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    worst = max(ta, key=lambda k: (ta[k] - tb[k]).abs().max().item())
    gap = (ta[worst] - tb[worst]).abs().max().item()
    assert gap <= atol, f"{worst} differs by {gap:.3g}"


@pytest.mark.parametrize("family", ["wgan-gp", "stylegan2"])
def test_two_ranks_with_half_batches_train_like_one_process(runs, family):
    one, two = _final(runs / "one" / family), _final(runs / "two" / family)
    assert one["step"] == two["step"] == RUNS[family]["steps"]
    assert (one["world_size"], two["world_size"]) == (1, 2)
    _assert_close(one, two, atol=1e-5)
    # It trained: G moved between the step-3 checkpoint and the end.
    mid = load_checkpoint(runs / "two" / family / "checkpoints/step_0000003.pt")
    end = two["nets"]["G"]
    assert any(not torch.equal(t, mid["nets"]["G"][k]) for k, t in end.items())


def test_stylegan2_statistics_follow_the_global_batch(runs):
    one, two = _final(runs / "one" / "stylegan2"), _final(runs / "two" / "stylegan2")
    w_one, w_two = one["nets"]["G"]["mapping.w_avg"], two["nets"]["G"]["mapping.w_avg"]
    assert w_one.abs().sum() > 0  # w_avg was tracked
    assert torch.allclose(w_one, w_two, atol=1e-6)
    pl_one = one["state"]["loss"]["path_length.pl_mean"]
    pl_two = two["state"]["loss"]["path_length.pl_mean"]
    assert pl_one > 0 and torch.allclose(pl_one, pl_two, atol=1e-6)


def test_dcgan_batch_norm_uses_the_global_batch(runs):
    one, two = _final(runs / "one" / "dcgan"), _final(runs / "two" / "dcgan")
    _assert_close(one, two, atol=1e-4)
    running = [k for k in one["nets"]["D"] if k.endswith("running_var")]
    assert running  # D has batch norm, and its statistics are the global batch's
    for key in running:
        assert torch.allclose(one["nets"]["D"][key], two["nets"]["D"][key], atol=1e-5)


def test_rank_0_alone_writes_events_and_samples(runs):
    events = _events(runs / "two" / "wgan-gp")
    started = [e for e in events if e["type"] == "started"]
    assert len(started) == 1 and started[0]["world_size"] == 2
    steps = [e["step"] for e in events if e["type"] == "checkpoint"]
    assert steps == [3, 6]  # once each, not once per rank
    assert sorted(p.name for p in (runs / "two/wgan-gp/samples").iterdir()) == [
        "step_0000003.png",
        "step_0000006.png",
    ]


def test_stop_decided_by_rank_0_then_torchrun_resume_is_exact(runs):
    stopped = _events(runs / "stopped_copy")
    assert [e["step"] for e in stopped if e["type"] == "stopped"] == [STOP_AT]
    resumed = _events(runs / "stopped")
    starts = [e for e in resumed if e["type"] == "started"]
    assert starts[-1]["start_step"] == STOP_AT and "note" not in starts[-1]
    a, b = _final(runs / "stopped"), _final(runs / "two" / "wgan-gp")
    assert a["step"] == b["step"] == RUNS["wgan-gp"]["steps"]
    for part in ("nets", "optimizers"):
        for name in a[part]:
            assert repr(a[part][name]) == repr(b[part][name]), (part, name)
    ta, tb = _tensors(a), _tensors(b)
    assert all(torch.equal(ta[k], tb[k]) for k in ta)


def test_resume_on_another_world_size_continues_and_says_not_bit_exact(runs, tmp_path):
    shutil.copytree(runs / "stopped_copy", tmp_path / "run")
    events = []
    result = train(
        config("wgan-gp"),
        data=runs / "images",
        out_dir=tmp_path / "run",
        device="cpu",
        on_event=lambda e: events.append(e.to_dict()),
        resume=True,
    )
    assert result.step == RUNS["wgan-gp"]["steps"]
    started = events[0]
    assert started["start_step"] == STOP_AT and started["world_size"] == 1
    assert "not bit-exact" in started["note"] and "of 2" in started["note"]
    # Same schedule and data order: the same weights up to floating point.
    _assert_close(_final(tmp_path / "run"), _final(runs / "two" / "wgan-gp"), 1e-5)


def test_cpu_sync_batch_norm_alone_is_batch_norm():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(3)
    synced = distributed._cpu_sync(bn)
    assert synced.weight is bn.weight and synced.running_var is bn.running_var
    x = torch.randn(4, 3, 5, 5)
    ref = torch.nn.BatchNorm2d(3)
    assert torch.allclose(synced(x), ref(x), atol=1e-6)
    assert torch.allclose(bn.running_mean, ref.running_mean)


def test_torchrun_environment_is_checked(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(DeviceError, match="RANK 2 does not fit WORLD_SIZE 2"):
        distributed.env_world()
    two = distributed.World(rank=1, size=2, local_rank=1)
    with pytest.raises(DeviceError, match="use --device cuda"):
        distributed.rank_device("cuda:1", two)
    assert distributed.rank_device("cpu", two) == torch.device("cpu")
