"""Bringing in a checkpoint file made elsewhere (GAN Studio's own download).

A file from outside is read with ``weights_only=True`` (gan_core.checkpoint:
nothing in it can run), its family and settings are validated against the
registry, its networks are rebuilt and every state dict must load strictly.
What is kept is a fresh file written here with only the validated parts
(family, config, data, step, network and EMA weights): optimizer and RNG
states and anything else the file carried are dropped, so the stored model is
exactly what was checked.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gan_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gan_core.sampling import rebuild_recipe

MAX_STEP = 10**9


def _tensors_only(name: str, state) -> dict:
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(f"its {name} weights are not a mapping of tensors")
    return state


def import_checkpoint(source: Path, dest: Path) -> dict:
    """Validate checkpoint ``source`` and write its clean copy to ``dest``.

    Returns {family, config, step, data} (JSON-safe). Raises CheckpointError
    with a one-line reason for anything that is not a usable gan_core
    checkpoint (a crafted pickle, another format, unknown family, settings out
    of range, weights that do not fit the family's networks).
    """
    payload = load_checkpoint(source)
    name = Path(source).name
    family, config, info, recipe = rebuild_recipe(payload, Path(name))
    step = payload.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < MAX_STEP:
        raise CheckpointError(f"{name}: its step is not a count of steps")
    nets = payload.get("nets")
    if not isinstance(nets, dict) or set(nets) != set(recipe.nets):
        raise CheckpointError(
            f"{name}: a {family.name} checkpoint holds networks "
            f"{', '.join(sorted(recipe.nets))}"
        )
    clean = {}
    for key, net in recipe.nets.items():
        clean[key] = _tensors_only(key, nets[key])
        try:
            net.load_state_dict(clean[key])
        except RuntimeError as exc:
            raise CheckpointError(
                f"{name}: its {key} weights do not fit {family.name} with its settings"
            ) from exc
    ema = payload.get("ema")
    if ema is not None:
        ema = _tensors_only("EMA", ema)
        try:
            recipe.nets[recipe.generator].load_state_dict(ema)
        except RuntimeError as exc:
            raise CheckpointError(f"{name}: its EMA weights do not fit") from exc
    for key, state in clean.items():
        if not all(
            torch.isfinite(t).all() for t in state.values() if t.is_floating_point()
        ):
            raise CheckpointError(f"{name}: its {key} weights are not finite")
    summary = {
        "family": family.name,
        "config": config.to_dict(),
        "step": step,
        "data": info.to_dict(),
    }
    save_checkpoint(dest, {**summary, "nets": clean, "ema": ema})
    return summary
