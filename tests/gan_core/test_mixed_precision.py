"""Every registered family trains in bf16 on the CPU through the public train."""

import dataclasses
import math

import pytest
import torch

from gan_core.checkpoint import load_checkpoint
from gan_core.config import config_from_dict
from gan_core.data.types import DomainData, ImageData, PairData, PointData
from gan_core.nets.stylegan2 import StyleGenerator
from gan_core.registry import list_families
from gan_core.trainer import train

# Small widths for whichever of these fields a family has; the rest keep their
# defaults, so a new family is covered without editing this file.
TINY = {
    "image_size": 16,
    "batch_size": 4,
    "z_dim": 8,
    "w_dim": 8,
    "hidden": 16,
    "depth": 2,
    "g_channels": 4,
    "d_channels": 4,
    "mapping_layers": 2,
    "channel_base": 128,
    "channel_max": 16,
    "ngf": 4,
    "ndf": 4,
    "n_blocks": 1,
    "embed_dim": 4,
    "clusters": 4,
    "sample_every": 10**6,
    "checkpoint_every": 10**6,
}


def data_for(kind: str):
    gen = torch.Generator().manual_seed(0)

    def images(n=16):
        return torch.rand(n, 3, 16, 16, generator=gen) * 2 - 1

    if kind == "points":
        return PointData(torch.randn(64, 2, generator=gen))
    if kind == "domains":
        return DomainData(images(), images(), fingerprint="bf16-domains")
    if kind == "pairs":
        return PairData(images(), images(), fingerprint="bf16-pairs")
    if kind == "classes":
        return ImageData(images(), torch.arange(16) % 2, ("a", "b"))
    return ImageData(images())


def tiny_config(family):
    names = {f.name for f in dataclasses.fields(family.config_cls)}
    values = {k: v for k, v in TINY.items() if k in names}
    return config_from_dict(family.name, {**values, "steps": 3, "precision": "bf16"})


@pytest.mark.parametrize("family", list_families(), ids=lambda f: f.name)
def test_every_family_trains_three_steps_in_bf16(family, tmp_path):
    events = []
    result = train(
        tiny_config(family),
        data=data_for(family.data_kinds[0]),
        out_dir=tmp_path,
        device="cpu",
        on_event=events.append,
    )
    assert result.status == "finished" and result.step == 3
    losses = [v for e in events if e.type == "step" for v in e.losses.values()]
    assert losses and all(math.isfinite(v) for v in losses)
    payload = load_checkpoint(result.checkpoint)
    assert payload["step"] == 3 and payload["config"]["precision"] == "bf16"
    for net in payload["nets"].values():
        assert all(torch.isfinite(t).all() for t in net.values())


def test_stylegan2_truncation_and_tracking_run_under_bf16_autocast():
    torch.manual_seed(0)
    g = StyleGenerator(
        z_dim=8, w_dim=8, image_size=16, channels=3, mapping_layers=2,
        channel_base=128, channel_max=16,
    )  # fmt: skip
    z = torch.randn(4, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        g.mapping(z)  # training mode: folds the batch into w_avg
        img = g.eval()(z, truncation_psi=0.5, noise_mode="const")
    assert g.mapping.w_avg.dtype == torch.float32 and g.mapping.w_avg.abs().sum() > 0
    assert torch.isfinite(img).all()
