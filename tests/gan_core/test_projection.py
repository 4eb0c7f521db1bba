"""Latent projection recovers a generated image far better than chance."""

import pytest
import torch

from gan_core.projection import image_distance, project
from gan_core.sampling import load_generator
from tests.ganweb.playground.tiny_models import tiny_checkpoint


@pytest.mark.parametrize("family", ["dcgan", "stylegan2"])
def test_projecting_a_generated_image_finds_it_again(family):
    handle = load_generator(tiny_checkpoint(family))
    if family == "dcgan":  # as if trained for long: images that differ by seed
        with torch.no_grad():
            handle.net.net[-2].weight.mul_(30)
    label = 3 if family == "cgan" else None
    labels = torch.tensor([3]) if family == "cgan" else None
    target = handle.sample(1, seed=7, labels=labels)[0]
    seen = []
    result = project(
        handle, target, steps=150, seed=0, label=label,
        on_step=lambda step, loss: seen.append(step),
    )  # fmt: skip
    assert seen == list(range(1, 151))
    assert result.space == ("w" if family == "stylegan2" else "z")
    found = image_distance(result.image[None], target[None]).item()
    others = [
        image_distance(handle.sample(1, seed=s, labels=labels), target[None]).item()
        for s in range(20, 30)
    ]
    # Closer than any of ten random latents, and by a clear margin on average.
    assert found < min(others) and found < 0.25 * sum(others) / len(others), (
        found,
        others,
    )
    assert result.losses[-1] < result.losses[0]


def test_models_without_a_latent_image_refuse_clearly():
    cyclegan = load_generator(tiny_checkpoint("cyclegan"))
    with pytest.raises(ValueError, match="translates images"):
        project(cyclegan, torch.zeros(3, 16, 16), steps=1)


def test_the_command_line_writes_the_image_beside_its_projection(tmp_path, capsys):
    from PIL import Image

    from gan_core.cli import main
    from gan_core.sampling import save_grid

    checkpoint = tiny_checkpoint("stylegan2")
    target = tmp_path / "target.png"
    save_grid(load_generator(checkpoint).sample(1, seed=4), target, nrow=1)
    out = tmp_path / "projected.png"
    code = main(["project", "--checkpoint", str(checkpoint), "--image", str(target),
                 "--out", str(out), "--steps", "30"])  # fmt: skip
    assert code == 0
    assert "latent in w" in capsys.readouterr().out
    with Image.open(out) as pair:
        assert pair.width > 2 * 16 and pair.height >= 16
    saved = torch.load(out.with_suffix(".pt"), weights_only=True)
    assert saved["space"] == "w" and saved["latent"].shape[0] == 1

    cyclegan = str(tiny_checkpoint("cyclegan"))
    code = main(["project", "--checkpoint", cyclegan, "--image", str(target),
                 "--out", str(out), "--steps", "1"])  # fmt: skip
    assert code == 2
    assert "translates images" in capsys.readouterr().err


def test_the_classifier_feature_term_is_differentiable_and_helps_find_it():
    """With our digit classifier's features in the distance, the search still
    recovers a generated image, and its features match the target's."""
    from gan_core.projection import classifier_features

    handle = load_generator(tiny_checkpoint("stylegan2"))
    features = classifier_features("digits")
    target = handle.sample(1, seed=7)
    x = target.clone().requires_grad_(True)
    features(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0

    result = project(handle, target[0], steps=150, features=features)
    found = (features(result.image[None]) - features(target)).pow(2).mean().item()
    others = [
        (features(handle.sample(1, seed=s)) - features(target)).pow(2).mean().item()
        for s in range(20, 25)
    ]
    assert found < 0.25 * min(others), (found, others)
