"""``python -m gan_core evaluate`` on tiny checkpoints: the report fits the data."""

import json

import pytest

from gan_core.cli import main
from gan_core.config import config_from_dict
from gan_core.trainer import train

TINY = {"steps": 2, "batch_size": 8, "sample_every": 100, "checkpoint_every": 100}


def _checkpoint(tmp_path, family: str, data: str, **settings):
    config = config_from_dict(family, {**TINY, **settings})
    train(config, data=data, out_dir=tmp_path, device="cpu")
    return str(tmp_path / "checkpoints/latest.pt")


def _report(capsys, argv: list[str]) -> dict:
    assert main(["evaluate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_points_checkpoint_gets_the_mode_report(tmp_path, capsys):
    path = _checkpoint(tmp_path, "gan", "builtin:grid25", hidden=16, z_dim=4)
    report = _report(capsys, ["--checkpoint", path, "--n", "300"])
    assert report["data"] == "builtin:grid25" and report["family"] == "gan"
    modes = report["modes"]
    assert modes["num_modes"] == 25 and modes["n_samples"] == 300
    assert sum(modes["per_mode_counts"]) == round(300 * modes["high_quality_fraction"])
    assert main(["evaluate", "--checkpoint", path, "--n", "50"]) == 0
    assert "modes captured" in capsys.readouterr().out


def test_conditional_digits_checkpoint_gets_fid_and_class_accuracy(tmp_path, capsys):
    path = _checkpoint(
        tmp_path, "cgan", "builtin:digits", image_size=16, g_channels=4, d_channels=4
    )
    argv = ["--checkpoint", path, "--n", "120", "--seed", "3", "--quality"]
    report = _report(capsys, argv)
    assert report["data"] == "builtin:digits"
    quality = {f["metric"]: f for f in report["quality"]["figures"]}
    assert set(quality) == {"precision", "recall", "class_agreement"}
    assert all(f["n"] == 120 for f in quality.values())
    assert quality["class_agreement"]["space"] == "digits-classifier"
    scores = report["classifier_fid"]
    assert scores["classifier"] == "digits" and scores["n_fake"] == 120
    assert scores["classifier_fid"] > 0 and "not Inception" in scores["note"]
    assert 0 <= report["conditional"]["class_accuracy"] <= 1
    assert set(report["conditional"]["per_class"]) == set("0123456789")


def test_stacked_count_needs_rgb_and_errors_are_one_line(tmp_path, capsys):
    path = _checkpoint(
        tmp_path, "dcgan", "builtin:shapes", image_size=8, g_channels=4, d_channels=4
    )
    report = _report(capsys, ["--checkpoint", path, "--n", "40", "--stacked"])
    assert report["stacked_mnist"]["n_samples"] == 40
    cases = [
        (["--checkpoint", path], "nothing to report"),
        (["--checkpoint", path, "--inception-weights", "nope.pt"], "Inception"),
        (["--checkpoint", str(tmp_path / "missing.pt")], "checkpoint not found"),
        (["--checkpoint", path, "--n", "1"], "--n must be at least 2"),
    ]
    for argv, message in cases:
        assert main(["evaluate", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_points_need_known_modes(tmp_path, capsys):
    csv = tmp_path / "pts.csv"
    csv.write_text("x,y\n" + "".join(f"{i},{-i}\n" for i in range(20)))
    path = _checkpoint(tmp_path / "run", "gan", str(csv), hidden=8, z_dim=2)
    assert main(["evaluate", "--checkpoint", path]) == 2
    assert "known modes" in capsys.readouterr().err
    report = _report(capsys, ["--checkpoint", path, "--data", "builtin:ring8"])
    assert report["modes"]["num_modes"] == 8


@pytest.mark.parametrize("flag", ["--help"])
def test_evaluate_is_registered_on_the_gan_core_cli(flag, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", flag])
    assert "classifier-FID" in capsys.readouterr().out


def test_every_figure_says_its_n_and_stacked_mnist_defaults_to_the_protocol(
    tmp_path, capsys
):
    from gan_core.evaluation.cli import default_samples

    # The published protocol: 26,000 samples (2,500 cap a perfect generator
    # at about 918 of 1,000 modes); --n still overrides it.
    assert default_samples(stacked=True) == 26_000
    assert default_samples(stacked=False) == 2_500
    path = _checkpoint(
        tmp_path, "cgan", "builtin:digits", image_size=16, g_channels=4, d_channels=4
    )
    assert main(["evaluate", "--checkpoint", path, "--n", "120"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    figures = lines[1:]  # the first line names the run
    assert len(figures) == 3, lines  # FID, KID, accuracy
    for line in figures:
        assert "n=120" in line and "classifier" in line, line
    kid = next(line for line in figures if line.startswith("classifier-KID"))
    assert "subsets of 60, fewer than the standard 1,000" in kid
    rgb = _checkpoint(
        tmp_path / "rgb", "dcgan", "builtin:shapes", image_size=8, g_channels=4,
        d_channels=4,
    )  # fmt: skip
    assert main(["evaluate", "--checkpoint", rgb, "--n", "40", "--stacked"]) == 0
    stacked = capsys.readouterr().out.strip().splitlines()[1]
    assert "n=40" in stacked and "the protocol uses 26,000" in stacked
