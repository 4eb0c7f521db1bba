"""The cyclegan family on the one trainer: preview grids, resume, learning."""

import torch
from advanced_helpers import make_trainer

from gan_core.config import config_from_dict
from gan_core.data.types import DomainData
from gan_core.registry import get_family

TINY = dict(
    image_size=16,
    batch_size=4,
    ngf=8,
    ndf=8,
    n_blocks=2,
    sample_every=10_000,
    checkpoint_every=10_000,
)


def two_domains(n: int = 32, size: int = 16, seed: int = 0) -> DomainData:
    """Built-in shapes-ab when that loader exists, else red versus blue squares."""
    try:
        from gan_core.data.builtin import load_builtin
    except ImportError:
        gen = torch.Generator().manual_seed(seed)

        def domain(colour):
            x = torch.rand(n, 3, size, size, generator=gen) * 0.3
            x[:, :, size // 4 : -size // 4, size // 4 : -size // 4] += torch.tensor(
                colour
            ).view(1, 3, 1, 1)
            return x.clamp(0, 1) * 2 - 1

        a, b = domain([0.7, 0.1, 0.1]), domain([0.1, 0.1, 0.7])
        return DomainData(a, b, fingerprint=f"red-blue-{n}-{size}-{seed}")
    return load_builtin("shapes-ab", image_size=size)


def test_defaults_follow_the_paper_and_presets_validate():
    config = config_from_dict("cyclegan", {})
    assert (config.lr_g, config.beta1, config.beta2) == (2e-4, 0.5, 0.999)
    assert (config.cycle_weight, config.identity_weight, config.pool_size) == (
        10.0,
        0.5,
        50,
    )
    assert config.lr_schedule == "linear" and config.batch_size == 1
    for preset in get_family("cyclegan").presets.values():
        config_from_dict("cyclegan", preset)


def test_sample_grids_show_inputs_and_translations(tmp_path):
    events = []
    settings = {**TINY, "sample_every": 2}
    trainer = make_trainer(
        "cyclegan", two_domains(8), tmp_path, events, steps=2, **settings
    )
    trainer.loop()
    grid = trainer.recipe.generate(trainer.recipe.nets["G"], None, None)
    assert grid.shape == (32, 3, 16, 16)  # Rows: A, G(A), B, F(B).
    assert [e.path for e in events if e.type == "sample"] == [
        "samples/step_0000002.png"
    ]
    assert "loss" in trainer.payload()["state"]


def test_translations_move_towards_the_target_domain_colours(tmp_path):
    torch.manual_seed(0)
    data = two_domains(32)
    events = []
    trainer = make_trainer(
        "cyclegan",
        data,
        tmp_path,
        events,
        steps=120,
        lr_schedule="constant",
        lr_g=1e-3,
        lr_d=1e-3,
        **TINY,
    )
    g = trainer.recipe.nets["G"]

    def gaps():
        with torch.no_grad():
            fake_b, fake_a = g.g_ab(data.a), g.g_ba(data.b)
        mean = lambda x: x.mean(dim=(0, 2, 3))  # noqa: E731
        return (
            (mean(fake_b) - mean(data.b)).norm().item(),
            (mean(fake_a) - mean(data.a)).norm().item(),
        )

    before = gaps()
    trainer.loop()
    after = gaps()
    assert after[0] < 0.5 * before[0] and after[1] < 0.5 * before[1], (before, after)
    cycle = [e.losses["cycle"] for e in events if e.type == "step"]
    assert sum(cycle[-10:]) / 10 < sum(cycle[:10]) / 10


def test_resume_continues_exactly_with_the_history_pools(tmp_path):
    from gan_core.trainer import train

    data = two_domains(8)
    # Constant lr: the linear schedule depends on the run's total steps.
    settings = {**TINY, "steps": 6, "checkpoint_every": 3, "lr_schedule": "constant"}
    config = config_from_dict("cyclegan", settings)
    train(config, data=data, out_dir=tmp_path / "full", device="cpu")
    train(config.replace(steps=3), data=data, out_dir=tmp_path / "half", device="cpu")
    train(config, data=data, out_dir=tmp_path / "half", device="cpu", resume=True)
    a = torch.load(tmp_path / "full/checkpoints/latest.pt", weights_only=True)
    b = torch.load(tmp_path / "half/checkpoints/latest.pt", weights_only=True)
    assert a["state"]["loss"]["pool_a"]["images"].shape[0] == 6 * 4
    assert torch.equal(
        a["state"]["loss"]["pool_b"]["images"], b["state"]["loss"]["pool_b"]["images"]
    )
    for key, value in a["nets"]["G"].items():
        assert torch.allclose(value, b["nets"]["G"][key], atol=1e-6), key
