import json

import pytest

from gan_core.config import ConfigError, config_from_dict, config_schema
from gan_core.registry import get_family, list_families


def test_every_family_config_round_trips_through_json():
    for family in list_families():
        config = config_from_dict(family.name, {})
        again = config_from_dict(family.name, json.loads(json.dumps(config.to_dict())))
        assert again == config


def test_defaults_follow_the_papers():
    wgan = config_from_dict("wgan", {})
    assert (wgan.clip_value, wgan.optimizer, wgan.lr_d, wgan.n_critic) == (
        0.01,
        "rmsprop",
        5e-5,
        5,
    )
    gp = config_from_dict("wgan-gp", {})
    assert (gp.gp_lambda, gp.lr_d, gp.beta1, gp.beta2, gp.n_critic) == (
        10.0,
        1e-4,
        0.0,
        0.9,
        5,
    )
    dc = config_from_dict("dcgan", {})
    assert (dc.lr_g, dc.beta1) == (2e-4, 0.5)
    assert config_from_dict("sngan", {}).loss == "hinge"


@pytest.mark.parametrize(
    "values, field",
    [
        ({"bogus": 1}, "bogus"),
        ({"batch_size": "64"}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"steps": 0}, "steps"),
        ({"lr_g": 2.0}, "lr_g"),
        ({"precision": "fp8"}, "precision"),
        ({"image_size": 48}, "image_size"),
        ({"augment": "color,blur"}, "augment"),
    ],
)
def test_bad_settings_raise_config_error_naming_the_field(values, field):
    with pytest.raises(ConfigError) as info:
        config_from_dict("dcgan", values)
    assert info.value.field == field
    assert field in str(info.value)


def test_integral_floats_from_json_are_accepted_as_ints():
    assert config_from_dict("dcgan", {"batch_size": 32.0}).batch_size == 32


def test_unknown_model_is_a_config_error_on_the_model_field():
    with pytest.raises(ConfigError) as info:
        config_from_dict("nope", {})
    assert info.value.field == "model" and "dcgan" in str(info.value)


def test_schema_lists_help_and_bounds_for_web_forms():
    schema = {s["name"]: s for s in config_schema("wgan-gp")}
    assert schema["gp_lambda"]["default"] == 10.0
    assert schema["precision"]["choices"] == ["fp32", "bf16", "fp16"]
    assert schema["batch_size"]["type"] == "int" and schema["batch_size"]["min"] == 1
    assert all(s["help"] for s in schema.values())
    json.dumps(schema)


def test_presets_are_valid_settings():
    for family in list_families():
        assert {"quick", "quality"} <= set(family.presets)
        for values in family.presets.values():
            config_from_dict(family.name, values)


def test_registry_lists_the_classic_families_and_rejects_unknown_names():
    names = [f.name for f in list_families()]
    assert names[:6] == ["gan", "dcgan", "wgan", "wgan-gp", "sngan", "cgan"]
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        get_family("nope")
    assert get_family("gan").data_kinds == ("images", "points")
