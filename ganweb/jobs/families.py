"""The family catalogue the web shows, read once from gan_core's registry."""

from __future__ import annotations

import functools


@functools.cache
def families_catalog() -> list[dict]:
    from gan_core.config import config_schema
    from gan_core.registry import list_families

    return [
        {
            "name": family.name,
            "title": family.title,
            "description": family.description,
            "data_kinds": list(family.data_kinds),
            "presets": family.presets,
            "settings": config_schema(family.name),
        }
        for family in list_families()
    ]


def family_entry(name: str) -> dict | None:
    return next((entry for entry in families_catalog() if entry["name"] == name), None)


def suitable_families(kind: str) -> list[dict]:
    """The catalogue entries of the families that train on ``kind`` data."""
    from gan_core.registry import get_family
    from ganweb.jobs.data_sources import family_suits

    return [f for f in families_catalog() if family_suits(get_family(f["name"]), kind)]
