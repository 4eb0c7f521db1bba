"""Starting a run from another checkpoint's weights (``--init-from``).

As stylegan2-ada-pytorch's ``--resume`` with a pretrained network, every tensor
of G, D and G's EMA is copied from the checkpoint, while the optimizers, the
step, the schedule and the family's running state (ADA's p) start afresh: the
run is a new run on new data that happens to begin at trained weights.

Unlike its ``copy_params_and_buffers``, which quietly skips what does not
match, a tensor that cannot be copied is refused with a one-line reason, with
one exception: a conditional model trained with another class count keeps its
fresh class embeddings (and, for a concat discriminator, the fresh label
channels of its first convolution) and says which it re-initialised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from gan_core.checkpoint import CheckpointError, load_checkpoint
from gan_core.data.loading import DataInfo


@dataclass
class InitReport:
    """What ``init_from_checkpoint`` copied and what it left at fresh weights."""

    source: str
    loaded: int  # Tensors copied whole.
    reinitialised: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "loaded": self.loaded,
            "reinitialised": list(self.reinitialised),
            "note": self.note(),
        }

    def note(self) -> str:
        text = f"started from {self.source}: {self.loaded} tensors loaded"
        if self.reinitialised:
            text += "; other class count, so re-initialised: " + ", ".join(
                self.reinitialised
            )
        return text


def check_compatible(payload: dict, family: str, info: DataInfo, where: str) -> None:
    """Raise CheckpointError unless ``payload`` is of ``family`` and was trained
    on images of the same size and channels as ``info`` describes."""
    theirs = payload.get("family")
    if theirs != family:
        raise CheckpointError(
            f"{where} is a {theirs} checkpoint; a {family} run can only start "
            f"from a {family} checkpoint"
        )
    data = payload.get("data") or {}
    for key, label in (("kind", "data kind"), ("image_size", "image size")):
        if key == "kind" and "points" not in (data.get(key), info.kind):
            continue  # images, classes and domains differ only in labels
        if data.get(key) != getattr(info, key):
            raise CheckpointError(
                f"{where} was trained with {label} {data.get(key)}, this run has "
                f"{getattr(info, key)}: they must match"
            )
    if info.kind != "points" and data.get("channels") != info.channels:
        raise CheckpointError(
            f"{where} was trained on {data.get('channels')}-channel images, this "
            f"data has {info.channels}: they must match"
        )


def origin_settings(path: Path, family: str) -> tuple[dict, int]:
    """(settings, image size) stored in checkpoint ``path``: the settings are
    the base of a run that starts from it (its widths and image size then match
    by default); raises CheckpointError for another family's checkpoint."""
    payload = load_checkpoint(path)
    if payload.get("family") != family:
        raise CheckpointError(
            f"{Path(path).name} is a {payload.get('family')} checkpoint; a "
            f"{family} run can only start from a {family} checkpoint"
        )
    size = int((payload.get("data") or {}).get("image_size") or 0)
    return dict(payload.get("config") or {}), size


def _is_class_tensor(name: str) -> bool:
    """Tensors whose shape follows the class count: the label embeddings."""
    return "embed" in name.split(".")[:-1]


def _copy_state(
    net_name: str, net: nn.Module, source: dict, classes_differ: bool
) -> tuple[int, list[str]]:
    """Copy ``source`` into ``net`` tensor by tensor (refusing what cannot fit);
    returns (tensors copied, names re-initialised)."""
    own = net.state_dict()
    missing = [k for k in own if k not in source]
    if missing:
        raise CheckpointError(
            f"the checkpoint's {net_name} has no {missing[0]}: its architecture "
            "differs from this run's"
        )
    loaded, fresh, merged = 0, [], {}
    for key, mine in own.items():
        theirs = source[key]
        if theirs.shape == mine.shape:
            merged[key] = theirs
            loaded += 1
        elif classes_differ and _is_class_tensor(key):
            merged[key] = mine
            fresh.append(f"{net_name}.{key}")
        elif classes_differ and _label_channels(net, key, mine, theirs):
            # Concat D: image channels first, one label map per class after.
            part = mine.clone()
            c = net.image_channels
            part[:, :c] = theirs[:, :c]
            merged[key] = part
            fresh.append(f"{net_name}.{key} (label channels)")
        else:
            raise CheckpointError(
                f"{net_name}.{key} is {list(theirs.shape)} in the checkpoint and "
                f"{list(mine.shape)} here: settings such as widths must match "
                "the checkpoint's"
            )
    net.load_state_dict(merged)
    return loaded, fresh


def _label_channels(net: nn.Module, key: str, mine, theirs) -> bool:
    c = getattr(net, "image_channels", None)
    return (
        getattr(net, "concat", False)
        and c is not None
        and mine.dim() == 4
        and mine.shape[1] > c
        and theirs.shape[1] > c
        and mine.shape[0] == theirs.shape[0]
        and mine.shape[2:] == theirs.shape[2:]
    )


def init_from_checkpoint(
    path: Path,
    *,
    family: str,
    info: DataInfo,
    nets: dict[str, nn.Module],
    ema: nn.Module | None,
    generator: str,
    device: torch.device,
) -> InitReport:
    """Load the weights of checkpoint ``path`` into ``nets`` (and ``ema``).

    family, info: the new run's, checked against the checkpoint's
    (check_compatible). generator: the net the EMA copies; a checkpoint without
    an EMA seeds it from its generator. Raises CheckpointError, one line.
    Returns the InitReport.
    """
    where = Path(path).name
    payload = load_checkpoint(path, map_location=device)
    check_compatible(payload, family, info, where)
    theirs = payload.get("data") or {}
    classes_differ = len(theirs.get("class_names") or ()) != info.num_classes
    states = payload.get("nets") or {}
    report = InitReport(source=where, loaded=0)
    for name, net in nets.items():
        if name not in states:
            raise CheckpointError(f"{where} has no network {name}")
        loaded, fresh = _copy_state(name, net, states[name], classes_differ)
        report.loaded += loaded
        report.reinitialised += fresh
    if ema is not None:
        source = payload.get("ema") or states[generator]
        loaded, _ = _copy_state("G_ema", ema, source, classes_differ)
        report.loaded += loaded
    return report
