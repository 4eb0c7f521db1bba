"""Checkpoints are plain data (state dicts, config dict, step, RNG states) in a
torch file, written atomically and read with ``weights_only=True`` so a file
can never run code when loaded.

Payload keys (format 1): format, version, family, config, step, nets, ema,
optimizers, scalers (one per optimizer; older files: one shared scaler),
state, rng, data (DataInfo.to_dict()).
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "gan_core.checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, or not a gan_core checkpoint."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically: a temp file in the same folder,
    fsync, then os.replace, so readers see the old file or the new, never half.
    Adds the format marker. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "version": VERSION, **payload}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def link_atomic(src: Path, dst: Path) -> None:
    """Make ``dst`` the same file as ``src`` atomically (hard link, else copy)."""
    tmp = dst.with_name(f".{dst.name}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        import shutil

        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict:
    """The payload of a gan_core checkpoint.

    Raises CheckpointError with a one-line reason when the file is missing,
    unreadable/corrupt, or not written by gan_core.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (
        RuntimeError,
        EOFError,
        OSError,
        ValueError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
    ) as exc:
        raise CheckpointError(
            f"cannot read checkpoint {path}: corrupt or not a gan_core checkpoint"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gan_core checkpoint")
    if payload.get("version", 0) > VERSION:
        raise CheckpointError(
            f"{path} was written by a newer gan_core (format {payload['version']})"
        )
    return payload
