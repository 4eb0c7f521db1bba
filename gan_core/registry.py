"""The family registry: user input picks a name here, never a dotted path.

Each module in ``gan_core.families`` exports ``FAMILIES``, a list of ``Family``
recipes; adding a family is adding a module there (no edits to this file).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DATA_KINDS = ("images", "classes", "domains", "pairs", "points")


class UnknownFamilyError(ValueError):
    """No family is registered under the requested name."""


@dataclass(frozen=True)
class Family:
    """A registry entry: what a family is called, its settings and its recipe.

    ``build(config, info, device)`` returns the ``Recipe`` (networks, optimizers,
    loss phases) the trainer runs; ``info`` is a ``gan_core.data.DataInfo``.
    """

    name: str  # Registry key, e.g. "wgan-gp".
    title: str  # Human name, e.g. "WGAN-GP".
    description: str  # One or two sentences for the catalogue.
    config_cls: type  # Frozen dataclass of settings (gan_core.config).
    data_kinds: tuple[str, ...]  # Subset of DATA_KINDS it can train on.
    build: Callable[..., Any]  # (config, info, device) -> gan_core.recipe.Recipe.
    presets: dict[str, dict] = field(default_factory=dict)  # name -> overrides.
    paper: str = ""  # Citation shown in the catalogue.
    order: int = 100  # Position in listings (classic families first).


def deferred_build(module: str, function: str) -> Callable[..., Any]:
    """A ``Family.build`` that imports ``gan_core.builders.<module>`` (torch and
    the networks) only when a run builds the recipe: declaring, listing and
    validating families stays light, as the web process needs."""

    def build(config, info, device):
        builders = importlib.import_module(f"gan_core.builders.{module}")
        return getattr(builders, function)(config, info, device)

    build.__name__ = build.__qualname__ = function
    return build


def _discover() -> dict[str, Family]:
    import gan_core.families as package

    found: dict[str, Family] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for family in getattr(module, "FAMILIES", ()):
            if family.name in found:
                raise RuntimeError(f"family '{family.name}' is registered twice")
            found[family.name] = family
    return found


@functools.cache
def _families() -> dict[str, Family]:
    return _discover()


def get_family(name: str) -> Family:
    """The family registered as ``name``; raises UnknownFamilyError listing the
    known names otherwise."""
    families = _families()
    if name not in families:
        known = ", ".join(sorted(families))
        raise UnknownFamilyError(f"unknown model '{name}' (known: {known})")
    return families[name]


def list_families() -> list[Family]:
    """Every registered family, classic ones first."""
    return sorted(_families().values(), key=lambda f: (f.order, f.name))
