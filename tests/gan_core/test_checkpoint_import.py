"""An imported checkpoint is checked against the registry and kept clean."""

from __future__ import annotations

import pytest
import torch

from gan_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gan_core.checkpoint_import import import_checkpoint
from gan_core.config import config_from_dict
from gan_core.data.types import ImageData
from gan_core.sampling import load_generator
from gan_core.trainer import train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One two-step DCGAN checkpoint for the module (8 px, widths 4)."""
    settings = {"image_size": 8, "batch_size": 4, "steps": 2, "z_dim": 8,
                "g_channels": 4, "d_channels": 4}  # fmt: skip
    images = torch.rand(8, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    out = tmp_path_factory.mktemp("import") / "run"
    config = config_from_dict("dcgan", settings)
    return train(config, data=ImageData(images * 2 - 1), out_dir=out, device="cpu")


def test_a_good_checkpoint_is_copied_with_only_its_weights_and_settings(
    tmp_path, trained
):
    dest = tmp_path / "clean.pt"
    summary = import_checkpoint(trained.checkpoint, dest)
    assert summary["family"] == "dcgan" and summary["step"] == 2
    assert summary["data"]["image_size"] == 8 and summary["data"]["channels"] == 3
    original, clean = load_checkpoint(trained.checkpoint), load_checkpoint(dest)
    assert "optimizers" not in clean and "rng" not in clean
    for key, value in original["nets"]["G"].items():
        assert torch.equal(clean["nets"]["G"][key], value)
    handle = load_generator(dest)  # the playground's loader takes it
    assert handle.family == "dcgan" and handle.image_size == 8


def _edited(tmp_path, trained, **changes):
    payload = load_checkpoint(trained.checkpoint)
    payload.update(changes)
    payload.pop("format"), payload.pop("version")
    return save_checkpoint(tmp_path / "edited.pt", payload)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"family": "nope"}, "unknown model 'nope'"),
        ({"config": {"image_size": 8, "g_channels": -4}}, "g_channels must be at"),
        ({"config": {"image_size": 8, "warp": 1}}, "unknown setting 'warp'"),
        ({"step": "many"}, "its step is not a count"),
        ({"nets": {"G": {}}}, "holds networks D, G"),
    ],
)
def test_invalid_contents_are_refused_with_a_reason_and_nothing_written(
    tmp_path, trained, change, says
):
    dest = tmp_path / "clean.pt"
    with pytest.raises(CheckpointError, match=says):
        import_checkpoint(_edited(tmp_path, trained, **change), dest)
    assert not dest.exists()


def test_weights_that_do_not_fit_the_settings_are_refused(tmp_path, trained):
    config = dict(load_checkpoint(trained.checkpoint)["config"], g_channels=8)
    with pytest.raises(CheckpointError, match="its G weights do not fit dcgan"):
        import_checkpoint(_edited(tmp_path, trained, config=config), tmp_path / "c")
