"""Small digit classifiers trained here, the feature space of classifier-FID/KID.

One CNN per digit set (builtin:mnist at 28 px, builtin:digits at 16 px), trained
on a fixed split of the built-in data and evaluated on the held-out rest. The
trained weights are cached on disk under ``$GAN_STUDIO_CACHE`` (default
``~/.cache/gan_studio``), keyed by CLASSIFIER_VERSION, written atomically and
loaded with ``weights_only=True``; so tests and benches train each one once.

These networks are a few hundred kilobytes and see only 4,000 or 1,437 digits:
their features make a useful *relative* yardstick between our own runs, not a
substitute for Inception features (see fid.py).
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from gan_core.data.builtin import load_builtin, resize

CLASSIFIER_VERSION = "digitcnn-v1"  # Bump when the net, data or recipe changes.
CLASSIFIER_DATASETS = ("mnist", "digits")


@dataclass(frozen=True)
class Recipe:
    """How one classifier is trained; the numbers were picked on the split below."""

    input_size: int  # Images are resized to this before the net.
    test_per_class: int  # Held out per class (the first ones in fixed order).
    epochs: int
    shift: int  # Random translation (pixels) as augmentation.
    batch_size: int = 64
    lr: float = 2e-3
    width: int = 16


RECIPES = {
    "mnist": Recipe(input_size=28, test_per_class=100, epochs=12, shift=2),
    "digits": Recipe(input_size=16, test_per_class=36, epochs=30, shift=1),
}


class DigitNet(nn.Module):
    """Three conv blocks and a 128-wide penultimate layer (the features)."""

    def __init__(
        self,
        width: int = 16,  # Channels of the first block; doubled per block.
        feature_dim: int = 128,  # Width of the penultimate (feature) layer.
        num_classes: int = 10,
        in_channels: int = 1,  # 1 for the digits; 3 for photos (dataset_net.py).
    ):
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.body = nn.Sequential(
            block(in_channels, width),
            block(width, 2 * width),
            block(2 * width, 4 * width),
        )
        self.pool = nn.AdaptiveAvgPool2d(3)  # Any input size -> [N, 4w, 3, 3].
        self.fc = nn.Linear(4 * width * 9, feature_dim)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [N, C, S, S] in [-1, 1] -> (features [N, D], logits [N, classes])."""
        h = self.pool(self.body(x)).flatten(1)
        features = F.relu(self.fc(h))
        return features, self.head(self.drop(features))


def cache_dir() -> Path:
    """$GAN_STUDIO_CACHE, else ~/.cache/gan_studio."""
    root = os.environ.get("GAN_STUDIO_CACHE") or Path.home() / ".cache/gan_studio"
    return Path(root).expanduser()


def weights_path(dataset: str) -> Path:
    return cache_dir() / f"classifier-{dataset}-{CLASSIFIER_VERSION}.pt"


def split(
    dataset: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, train labels, test images, test labels) at the input size.

    The built-in order is a fixed shuffle, so the first ``test_per_class`` of
    each class are a fixed random held-out set.
    """
    recipe = _recipe(dataset)
    data = load_builtin(dataset, image_size=recipe.input_size, channels=1)
    test = torch.zeros(len(data), dtype=torch.bool)
    for k in range(10):
        test[(data.labels == k).nonzero()[: recipe.test_per_class, 0]] = True
    x, y = data.images, data.labels
    return x[~test], y[~test], x[test], y[test]


def _recipe(dataset: str) -> Recipe:
    if dataset not in RECIPES:
        known = ", ".join(CLASSIFIER_DATASETS)
        raise ValueError(f"no classifier for '{dataset}' (known: {known})")
    return RECIPES[dataset]


def _shift(x: torch.Tensor, pixels: int, gen: torch.Generator) -> torch.Tensor:
    """Random translation of each image by up to ``pixels``: pad with the ground
    (-1, black), then crop at a random offset. x: [N, 1, H, W]."""
    n, c, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4, value=-1.0)  # [N, 1, H + 2p, W + 2p]
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, n), generator=gen)
    rows = (dy[:, None] + torch.arange(h)).view(n, 1, h, 1)
    rows = rows.expand(n, c, h, w + 2 * pixels)
    cols = (dx[:, None] + torch.arange(w)).view(n, 1, 1, w).expand(n, c, h, w)
    return padded.gather(2, rows).gather(3, cols)


def train_classifier(dataset: str, seed: int = 0) -> tuple[DigitNet, dict]:
    """Train the classifier of ``dataset`` on its split; returns (net, meta).

    meta holds test_accuracy on the held-out split, sizes and seconds.
    """
    recipe = _recipe(dataset)
    x, y, x_test, y_test = split(dataset)
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = DigitNet(recipe.width)
        steps = recipe.epochs * (len(x) // recipe.batch_size)
        opt = torch.optim.AdamW(net.parameters(), lr=recipe.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, recipe.lr, total_steps=steps)
        net.train()
        for _ in range(recipe.epochs):
            perm = torch.randperm(len(x), generator=gen)
            for i in range(len(x) // recipe.batch_size):
                idx = perm[i * recipe.batch_size : (i + 1) * recipe.batch_size]
                batch = _shift(x[idx], recipe.shift, gen)
                loss = F.cross_entropy(net(batch)[1], y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
    net.eval()
    accuracy = accuracy_of(net, x_test, y_test)
    meta = {
        "dataset": dataset,
        "version": CLASSIFIER_VERSION,
        "input_size": recipe.input_size,
        "test_accuracy": accuracy,
        "n_train": len(x),
        "n_test": len(x_test),
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    return net, meta


@torch.no_grad()
def accuracy_of(net: DigitNet, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    logits = torch.cat([net(x[i : i + 500])[1] for i in range(0, len(x), 500)])
    return (logits.argmax(1) == y).float().mean().item()


# -- the cached classifier ------------------------------------------------------


class Classifier:
    """A trained digit classifier that accepts any generated images.

    Images are float [N, C, H, W] in [-1, 1] of any size; RGB is averaged to
    gray, then resized to ``input_size``.
    """

    def __init__(self, dataset: str, net: DigitNet, meta: dict, device="cpu"):
        self.dataset = dataset
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        self.meta = dict(meta)
        self.input_size = int(meta["input_size"])
        self.test_accuracy = float(meta["test_accuracy"])
        self.class_names = tuple(str(d) for d in range(10))

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        x = images.detach().float().cpu()
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected images [N, 1 or 3, H, W], got {tuple(x.shape)}")
        if x.shape[1] == 3:
            x = x.mean(dim=1, keepdim=True)
        return resize(x.clamp(-1, 1), self.input_size)

    @torch.no_grad()
    def outputs(
        self, images: torch.Tensor, batch_size: int = 500
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(features [N, 128], logits [N, 10]) as float32 on the CPU."""
        x = self.prepare(images)
        feats, logits = [], []
        for i in range(0, len(x), batch_size):
            f, out = self.net(x[i : i + batch_size].to(self.device))
            feats.append(f.float().cpu())
            logits.append(out.float().cpu())
        if not feats:
            return torch.zeros(0, self.net.fc.out_features), torch.zeros(0, 10)
        return torch.cat(feats), torch.cat(logits)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Predicted digits, int64 [N]."""
        return self.outputs(images)[1].argmax(dim=1)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer activations, float32 [N, 128]."""
        return self.outputs(images)[0]


def _save_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
        os.replace(tmp, path)  # readers see the old file or the new, never half
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_cached(path: Path) -> tuple[DigitNet, dict] | None:
    """The cached net, or None when absent, corrupt or from another version."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        meta = payload["meta"]
        if meta.get("version") != CLASSIFIER_VERSION:
            return None
        net = DigitNet(RECIPES[meta["dataset"]].width)
        net.load_state_dict(payload["weights"])
    except Exception:  # missing, truncated, unpicklable or mismatched: retrain
        return None
    return net, meta


@functools.lru_cache(maxsize=4)
def _classifier(dataset: str, device: str) -> Classifier:
    path = weights_path(dataset)
    loaded = _load_cached(path)
    if loaded is None:
        net, meta = train_classifier(dataset)
        _save_atomic(path, {"weights": net.state_dict(), "meta": meta})
    else:
        net, meta = loaded
    return Classifier(dataset, net, meta, device)


def get_classifier(dataset: str = "mnist", device: str = "cpu") -> Classifier:
    """The classifier of ``dataset`` ("mnist" or "digits") on ``device``.

    Loads the cached weights, or trains them (seconds on a CPU) and caches them.
    Raises ValueError for other datasets.
    """
    _recipe(dataset)
    return _classifier(dataset, str(torch.device(device)))
