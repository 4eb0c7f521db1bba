"""A checkpoint is data: a pickle that would run a command is refused, unrun."""

from __future__ import annotations

import os
import pickle
import shlex

import pytest
import torch

from gan_core.checkpoint import CheckpointError, load_checkpoint
from gan_core.checkpoint_import import import_checkpoint
from gan_core.sampling import load_generator


class RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


def crafted_files(tmp_path, marker):
    """The same payload three ways: torch zip, legacy raw pickle, nested deep."""
    evil = RunsACommand(marker)
    zipped = tmp_path / "zipped.pt"
    torch.save({"format": "gan_core.checkpoint", "version": 1, "x": evil}, zipped)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(evil, protocol=2))
    nested = tmp_path / "nested.pt"
    torch.save(
        {
            "format": "gan_core.checkpoint",
            "family": "gan",
            "nets": {"G": {"weight": torch.zeros(1), "extra": [evil]}},
        },
        nested,
    )
    return [zipped, raw, nested]


def test_sanity_the_payload_does_run_when_unpickled_naively(tmp_path):
    """Proves the files below are really dangerous (so refusing them counts)."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(RunsACommand(marker)))
    assert marker.exists()


def importer(path):
    """An upload's check (gan_core.checkpoint_import), writing nothing when
    it refuses."""
    dest = path.with_suffix(".imported")
    try:
        return import_checkpoint(path, dest)
    finally:
        assert not dest.exists()


@pytest.mark.parametrize("loader", [load_checkpoint, load_generator, importer])
def test_crafted_pickle_raises_checkpoint_error_and_runs_nothing(tmp_path, loader):
    marker = tmp_path / "pwned"
    for path in crafted_files(tmp_path, marker):
        with pytest.raises(CheckpointError, match="not a gan_core checkpoint"):
            loader(path)
        assert not marker.exists(), f"{path.name} ran its command"
