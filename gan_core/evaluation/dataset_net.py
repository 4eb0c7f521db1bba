"""A small network trained on the user's own data: the feature space of
precision/recall where neither the digit classifier nor Inception applies, and
the classifier of class agreement for class folders.

What it learns, and why that space is meaningful:

- Class folders: a classifier of the folder labels. Its penultimate features
  separate what the labels separate, the same space the digit classifier gives
  classifier-FID; class agreement asks this classifier which class a sample
  shows.
- Unlabelled photos: rotation prediction (Gidaris et al. 2018, "Unsupervised
  representation learning by predicting image rotations"). To tell 0, 90, 180
  and 270 degrees apart the net has to find the objects and their upright pose
  (eyes above mouth, sky above ground), so its features carry shape and layout,
  not only colour. The alternatives we rejected: an auto-encoder's code must
  keep whatever redraws the pixels, so its distances are mostly colour and
  position (a pixel-like space, which Kynkaanniemi et al. 2019 show misjudges
  realism); a randomly initialised net knows nothing of this data.

Limitations, said with every figure: the net sees only this dataset (a few
hundred images, ``TRAIN_STEPS`` steps at ``MAX_INPUT`` px or less), so its
figures rank runs on this data against each other and are never comparable
with another dataset's or with published numbers. Data without an upright pose
(textures, top-down views, round objects) leaves rotation unlearnable: the
held-out pretext accuracy is stored beside the figures (chance is 25%), so a
weak space shows as such. Trained weights are cached per dataset fingerprint
under the classifier cache (classifier.cache_dir), loaded with weights_only.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from gan_core.data.builtin import resize
from gan_core.data.types import ImageData, as_float
from gan_core.evaluation.classifier import (
    DigitNet,
    _save_atomic,
    _shift,
    cache_dir,
)

NET_VERSION = "datasetnet-v1"  # Bump when the net, data or recipe changes.
MAX_INPUT = 32  # px: images are shrunk to this (or kept when smaller).
MAX_TRAIN = 5000  # images: a larger set is subsampled (bounded time, memory).
TRAIN_STEPS = 200  # a few seconds on one CPU thread at 16-32 px.
BATCH = 32
WIDTH = 16  # channels of the first conv block, as the digit classifier
HELD_OUT = 0.1  # share kept aside to measure the net (at least 4 images).


@dataclass(frozen=True)
class DatasetNet:
    """A trained net and what it learned: "labels" or "rotation"."""

    net: DigitNet
    task: str
    input_size: int
    channels: int
    held_out_accuracy: float  # on the held-out images (rotation: all 4 turns)
    chance: float
    n_train: int

    @property
    def label(self) -> str:
        what = "class labels" if self.task == "labels" else "rotation prediction"
        return (
            f"a small net trained on this dataset's {what} "
            f"({self.input_size} px, 128-d features)"
        )

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Images [N, C, H, W] (uint8 or float) -> net input [N, c, s, s]."""
        x = as_float(images.detach().cpu()).float()
        if x.shape[1] != self.channels:
            x = (
                x.mean(1, keepdim=True)
                if self.channels == 1
                else x.expand(-1, 3, -1, -1)
            )
        return resize(x.clamp(-1, 1), self.input_size)

    @torch.no_grad()
    def outputs(self, images: torch.Tensor, batch: int = 500):
        """(features [N, 128], logits [N, classes]) of images, float32."""
        self.net.eval()
        feats, logits = [], []
        for i in range(0, len(images), batch):
            f, out = self.net(self.prepare(images[i : i + batch]))
            feats.append(f), logits.append(out)
        return torch.cat(feats), torch.cat(logits)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.outputs(images)[0]

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        return self.outputs(images)[1].argmax(1)


def input_size_for(image_size: int) -> int:
    return min(MAX_INPUT, max(8, int(image_size)))


def _key(data: ImageData, task: str, size: int) -> str:
    fingerprint = data.fingerprint or _content_hash(data)
    return f"{NET_VERSION}-{task}-{size}px-{data.channels}c-{fingerprint}"


def _content_hash(data: ImageData) -> str:
    """A fingerprint for data that came without one (count, shape, bytes of a
    spread of rows)."""
    h = hashlib.sha256(str((len(data), tuple(data.images.shape))).encode())
    pick = torch.linspace(0, len(data) - 1, min(64, len(data))).long()
    h.update(data.images[pick].contiguous().numpy().tobytes())
    if data.labels is not None:
        h.update(data.labels.numpy().tobytes())
    return h.hexdigest()[:16]


def net_path(key: str) -> Path:
    return cache_dir() / "dataset-nets" / f"{key}.pt"


def _subset(data: ImageData, size: int, seed: int):
    """(images [M, C, s, s] float, labels [M] or None), at most MAX_TRAIN."""
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(data), generator=gen)[:MAX_TRAIN]
    x = torch.cat(
        [
            resize(as_float(data.images[pick[i : i + 500]]).float(), size)
            for i in range(0, len(pick), 500)
        ]
    )
    y = None if data.labels is None else data.labels[pick]
    return x, y


def _rotations(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image at 0, 90, 180 and 270 degrees, with the turn as the label."""
    turns = [torch.rot90(x, r, dims=(2, 3)) for r in range(4)]
    labels = torch.arange(4).repeat_interleave(len(x))
    return torch.cat(turns), labels


def _batch(x, y, task: str, gen: torch.Generator):
    if task == "rotation":
        idx = torch.randint(0, len(x), (BATCH // 4,), generator=gen)
        images = x[idx]
        flip = torch.rand(len(idx), generator=gen) < 0.5
        images = torch.where(flip[:, None, None, None], images.flip(3), images)
        return _rotations(_shift(images, 1, gen))
    idx = torch.randint(0, len(x), (BATCH,), generator=gen)
    images = x[idx]
    flip = torch.rand(len(idx), generator=gen) < 0.5  # photos: mirror-invariant
    images = torch.where(flip[:, None, None, None], images.flip(3), images)
    return _shift(images, 1, gen), y[idx]


@contextlib.contextmanager
def _one_thread():
    """One intra-op thread while training: a net this small gains nothing from
    more, and on a busy shared CPU extra threads only wait for each other
    (a step measured 35x slower with two threads under load than with one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_dataset_net(data: ImageData, seed: int = 0) -> DatasetNet:
    """Train the net of ``data`` (labels when it has them, else rotations)."""
    task = _task_of(data)
    size = input_size_for(data.image_size)
    x, y = _subset(data, size, seed)
    held = max(4, int(len(x) * HELD_OUT))
    if len(x) - held < 4:
        raise ValueError(f"too few images to train a feature net ({len(data)})")
    x_test, x = x[:held], x[held:]
    classes = data.num_classes if task == "labels" else 4
    y_test, y = (y[:held], y[held:]) if task == "labels" else (None, None)
    with torch.random.fork_rng(devices=[]), _one_thread():
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = DigitNet(WIDTH, num_classes=classes, in_channels=data.channels)
        opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=TRAIN_STEPS)
        net.train()
        for _ in range(TRAIN_STEPS):
            images, labels = _batch(x, y, task, gen)
            loss = F.cross_entropy(net(images)[1], labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    if task == "rotation":
        x_test, y_test = _rotations(x_test)
    result = DatasetNet(net, task, size, data.channels, 0.0, 1 / classes, len(x))
    accuracy = (result.predict(x_test) == y_test).float().mean().item()
    return DatasetNet(net, task, size, data.channels, accuracy, 1 / classes, len(x))


def _load(path: Path) -> DatasetNet | None:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        meta = payload["meta"]
        net = DigitNet(WIDTH, num_classes=meta["classes"], in_channels=meta["channels"])
        net.load_state_dict(payload["weights"])
    except Exception:  # missing, truncated or from another recipe: retrain
        return None
    return DatasetNet(
        net.eval(),
        meta["task"],
        meta["input_size"],
        meta["channels"],
        meta["held_out_accuracy"],
        meta["chance"],
        meta["n_train"],
    )


def get_dataset_net(data: ImageData) -> DatasetNet:
    """The net of ``data``: from the cache, else trained (seconds) and cached."""
    key = _key(data, _task_of(data), input_size_for(data.image_size))
    found = _load(net_path(key))
    if found is not None:
        return found
    t0 = time.perf_counter()
    trained = train_dataset_net(data)
    meta = {
        "task": trained.task,
        "input_size": trained.input_size,
        "channels": trained.channels,
        "classes": 4 if trained.task == "rotation" else data.num_classes,
        "held_out_accuracy": trained.held_out_accuracy,
        "chance": trained.chance,
        "n_train": trained.n_train,
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    _save_atomic(net_path(key), {"weights": trained.net.state_dict(), "meta": meta})
    return trained


def _task_of(data: ImageData) -> str:
    return "labels" if data.labels is not None and data.num_classes > 1 else "rotation"
