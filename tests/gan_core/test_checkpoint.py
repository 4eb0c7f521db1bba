import pytest
import torch

from gan_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gan_core.sampling import load_generator


def test_checkpoint_round_trips_plain_data_and_leaves_no_temp_files(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", {"step": 3, "w": torch.ones(2)})
    payload = load_checkpoint(path)
    assert payload["step"] == 3 and torch.equal(payload["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.pt")


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", {"step": 1})
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="corrupt or not a gan_core checkpoint"):
        load_checkpoint(path)


def test_foreign_torch_file_is_refused(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a gan_core checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError):
        load_generator(tmp_path / "other.pt")


class _Evil:
    def __reduce__(self):
        return (print, ("code ran",))


def test_pickled_code_never_runs_on_load(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "gan_core.checkpoint", "x": _Evil()}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert "code ran" not in capsys.readouterr().out


def test_checkpoint_with_one_shared_grad_scaler_still_resumes(tmp_path, tiny_images):
    """Files written before the per-optimizer scalers keep working."""
    from gan_core.checkpoint import load_checkpoint
    from gan_core.config import config_from_dict
    from gan_core.trainer import train

    settings = dict(
        image_size=8, batch_size=4, z_dim=8, g_channels=4, d_channels=4, steps=2
    )
    config = config_from_dict("dcgan", settings)
    first = train(config, data=tiny_images, out_dir=tmp_path, device="cpu")
    payload = load_checkpoint(first.checkpoint)
    payload["scaler"] = payload.pop("scalers")["G"]
    for key in ("ema_kimg", "ema_rampup"):
        payload["config"].pop(key)
    save_checkpoint(tmp_path / "checkpoints/latest.pt", payload)
    more = train(
        config.replace(steps=4), data=tiny_images, out_dir=tmp_path, device="cpu",
        resume=True,
    )  # fmt: skip
    assert more.status == "finished" and more.step == 4
    assert set(load_checkpoint(more.checkpoint)["scalers"]) == {"G", "D"}
