"""``python -m gan_core``: one-line errors with exit code 2."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from gan_core.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_models_lists_the_classic_families_with_their_settings(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("gan", "dcgan", "wgan", "wgan-gp", "sngan", "cgan"):
        assert f"\n{name}: " in "\n" + out
    assert "gp_lambda=10.0" in out and "image_size" in out
    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"name", "settings", "presets"} <= set(listed[0])


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    return err[0]


def test_user_errors_are_one_line_and_exit_code_2(tmp_path, capsys):
    cases = [
        (["train", "--model", "nope", "--data", "x", "--out", "o"], "unknown model"),
        (
            [
                "train",
                "--model",
                "dcgan",
                "--data",
                str(tmp_path / "none"),
                "--out",
                str(tmp_path / "o"),
            ],
            "data folder not found",
        ),
        (
            [
                "train",
                "--model",
                "dcgan",
                "--data",
                str(tmp_path),
                "--out",
                "o",
                "--image-size",
                "12",
            ],
            "image_size must be a power of two",
        ),
        (
            [
                "train",
                "--model",
                "dcgan",
                "--data",
                str(tmp_path),
                "--out",
                "o",
                "--steps",
                "zero",
            ],
            "invalid int value",
        ),
        (
            ["sample", "--checkpoint", str(tmp_path / "x.pt"), "--out", "g.png"],
            "checkpoint not found",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        assert message in _error_line(capsys)


def test_train_then_sample_from_the_command_line(tmp_path, capsys):
    data = tmp_path / "data"
    for label in ("a", "b"):
        (data / label).mkdir(parents=True)
        for i in range(3):
            arr = np.random.default_rng(i).integers(0, 255, (9, 9, 3), np.uint8)
            Image.fromarray(arr).save(data / label / f"{i}.png")
    out = tmp_path / "run"
    argv = [
        "train",
        "--model",
        "cgan",
        "--data",
        str(data),
        "--out",
        str(out),
        "--image-size",
        "8",
        "--steps",
        "2",
        "--batch_size",
        "4",
        "--g-channels",
        "4",
        "--d-channels",
        "4",
        "--no-channels-last",
    ]
    assert main(argv) == 0
    assert "finished at step 2" in capsys.readouterr().err
    grid = tmp_path / "grid.png"
    ckpt = str(out / "checkpoints/latest.pt")
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                ckpt,
                "--n",
                "4",
                "--label",
                "b",
                "--out",
                str(grid),
            ]
        )
        == 0
    )
    assert Image.open(grid).size == (2 + 4 * 10, 12)
    assert (
        main(["sample", "--checkpoint", ckpt, "--label", "zebra", "--out", str(grid)])
        == 2
    )
    assert "unknown label 'zebra'" in _error_line(capsys)


def test_module_entry_point_exits_2_on_errors():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_core",
            "train",
            "--model",
            "nope",
            "--data",
            "x",
            "--out",
            "o",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: unknown model 'nope' (known: cgan, dcgan, gan, sngan, wgan, wgan-gp)"
    ) or proc.stderr.startswith("error: unknown model 'nope'")
