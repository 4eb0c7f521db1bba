"""gan_core.export: generated images as dataset folders, and the export CLI."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from gan_core.cli import main
from gan_core.export import (
    ExportError,
    ExportSettings,
    check_settings,
    export_folder,
    export_samples,
    rejection_problem,
)
from tests.ganweb.playground.tiny_models import tiny_checkpoint


def collect(checkpoint, settings):
    files = {}
    origin = export_samples(checkpoint, settings, files.__setitem__)
    return files, origin


def test_per_class_export_writes_n_images_in_each_class_folder(tmp_path):
    out = tmp_path / "set"
    origin = export_folder(
        tiny_checkpoint("cgan"), ExportSettings(n=3, per_class=True), out
    )
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == [str(d) for d in range(10)]  # builtin:digits' classes
    assert all(len(list((out / d).glob("*.png"))) == 3 for d in folders)
    with Image.open(out / "7" / "00002.png") as image:
        assert image.size == (16, 16) and image.mode == "L"
    saved = json.loads((out / "synthetic.json").read_text())
    assert saved == origin
    assert origin["family"] == "cgan" and origin["step"] == 2
    assert origin["images"] == 30 and origin["counts"]["4"] == 3


def test_export_is_deterministic_in_its_seed():
    first, _ = collect(tiny_checkpoint("dcgan"), ExportSettings(n=4, seed=5))
    again, _ = collect(tiny_checkpoint("dcgan"), ExportSettings(n=4, seed=5))
    other, _ = collect(tiny_checkpoint("dcgan"), ExportSettings(n=4, seed=6))
    assert sorted(first) == ["00000.png", "00001.png", "00002.png", "00003.png"]
    assert first == again and first != other


def test_rejection_keeps_n_images_and_reports_acceptance():
    files, origin = collect(
        tiny_checkpoint("cgan"), ExportSettings(n=2, per_class=True, rejection=50)
    )
    assert len(files) == 20 and sum(origin["counts"].values()) == 20
    assert 0.0 < origin["acceptance"] <= 1.0
    plain, _ = collect(tiny_checkpoint("cgan"), ExportSettings(n=2, per_class=True))
    assert files != plain  # D chose among more draws than it kept


@pytest.mark.parametrize(
    "family,config,problem",
    [
        ("stylegan2", {}, "stylegan2 has none"),
        ("wgan-gp", {}, "wgan-gp has none"),
        ("dcgan", {"loss": "hinge"}, "loss hinge"),
    ],
)
def test_rejection_is_refused_where_d_is_no_density_ratio(family, config, problem):
    assert problem in rejection_problem(family, config)
    assert rejection_problem("cgan", {"loss": "ns"}) is None


def test_bad_settings_are_refused_with_the_reason():
    with pytest.raises(ExportError, match="conditional model"):
        check_settings(ExportSettings(n=5, per_class=True), conditional=False,
                       num_classes=1)  # fmt: skip
    with pytest.raises(ExportError, match="at most 100"):
        check_settings(ExportSettings(n=20, per_class=True), conditional=True,
                       num_classes=10, limit=100)  # fmt: skip
    with pytest.raises(ExportError, match="truncation"):
        check_settings(ExportSettings(n=1, truncation=0), conditional=False,
                       num_classes=1)  # fmt: skip


def test_export_cli_end_to_end_and_its_errors(tmp_path, capsys):
    out = tmp_path / "flat"
    ckpt = str(tiny_checkpoint("dcgan"))
    assert main(["export", "--checkpoint", ckpt, "--n", "5", "--out", str(out)]) == 0
    assert len(list(out.glob("*.png"))) == 5
    assert "5 images from dcgan step 2" in capsys.readouterr().out
    code = main(["export", "--checkpoint", ckpt, "--n", "3", "--per-class",
                 "--out", str(tmp_path / "x")])  # fmt: skip
    assert code == 2 and "conditional" in capsys.readouterr().err
    code = main(["export", "--checkpoint", ckpt, "--n", "999999",
                 "--out", str(tmp_path / "y")])  # fmt: skip
    assert code == 2 and "at most 20,000" in capsys.readouterr().err
