"""The FID Inception-v3: the network standard FID and KID features come from.

Heusel et al. (2017) computed FID on the pool3 features of TensorFlow's
Inception graph of 2015-12-05. pytorch-fid ported that graph onto the layout
of torchvision's ``Inception3`` (1008 classes, no auxiliary head) and
published its weights as ``pt_inception-2015-12-05-6726825d.pth``. The graph
differs from torchvision's network in three places, kept here because the
published figures depend on them:

- the A, C and first E blocks average-pool without counting the zero padding
  (TensorFlow's SAME average pooling; ``count_include_pad=False``);
- the last E block (Mixed_7c) max-pools in its pool branch;
- the input is resized to 299 x 299 bilinearly and scaled to [-1, 1].

Module names and shapes follow torchvision's layout so the published file
loads with strict key matching. The classifier (``fc``) is kept only for
that: features are the 2048-d global average pool before it.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.evaluation.features import check_finite
from gan_core.evaluation.inception_weights import (
    STANDARD_SHA256,
    InceptionUnavailable,
    verify_inception_weights,
)

FEATURES = 2048  # pool3
CLASSES = 1008  # the 2015 graph's classifier: 1,000 classes and 8 unused
SIZE = 299


class BasicConv2d(nn.Module):
    """conv (no bias) -> batch norm (TensorFlow's eps 1e-3) -> ReLU."""

    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _pool_same(x: torch.Tensor) -> torch.Tensor:
    # 3x3 average over the pixels inside the image only, as TensorFlow does.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    """35 x 35 block (Mixed_5b..5d): 64 + 64 + 96 + pool_features channels."""

    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pool = self.branch_pool(_pool_same(x))
        return torch.cat([self.branch1x1(x), b5, b3, pool], 1)


class BlockB(nn.Module):
    """35 -> 17 reduction (Mixed_6a): 384 + 96 + cin channels."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pool = F.max_pool2d(x, 3, stride=2)
        return torch.cat([self.branch3x3(x), b3, pool], 1)


class BlockC(nn.Module):
    """17 x 17 block with factorized 7x7 convolutions (Mixed_6b..6e): 768."""

    def __init__(self, cin: int, c7: int):
        super().__init__()
        row, col = ((1, 7), (0, 3)), ((7, 1), (3, 0))  # (kernel, padding)
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, row[0], padding=row[1])
        self.branch7x7_3 = BasicConv2d(c7, 192, col[0], padding=col[1])
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, col[0], padding=col[1])
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, row[0], padding=row[1])
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, col[0], padding=col[1])
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, row[0], padding=row[1])
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for conv in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            d = conv(d)
        d = self.branch7x7dbl_5(d)
        pool = self.branch_pool(_pool_same(x))
        return torch.cat([self.branch1x1(x), b7, d, pool], 1)


class BlockD(nn.Module):
    """17 -> 8 reduction (Mixed_7a): 320 + 192 + cin channels."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for conv in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = conv(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    """8 x 8 block with split 3x3 branches (Mixed_7b, 7c): 2048 channels.
    ``max_pool``: the 2015 graph's Mixed_7c max-pools its pool branch."""

    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(s), self.branch3x3_2b(s)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        if self.max_pool:
            pooled = F.max_pool2d(x, 3, stride=1, padding=1)
        else:
            pooled = _pool_same(x)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """images [N, C, H, W] in [-1, 1] (C = 1 or 3) -> pool3 features [N, 2048]."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)  # 299 -> 149
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)  # -> 147
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)  # after max pool: 73
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)  # -> 71, max pool -> 35
        self.Mixed_5b = BlockA(192, pool_features=32)  # 256 channels
        self.Mixed_5c = BlockA(256, pool_features=64)  # 288
        self.Mixed_5d = BlockA(288, pool_features=64)  # 288
        self.Mixed_6a = BlockB(288)  # 768 at 17 x 17
        self.Mixed_6b = BlockC(768, c7=128)
        self.Mixed_6c = BlockC(768, c7=160)
        self.Mixed_6d = BlockC(768, c7=160)
        self.Mixed_6e = BlockC(768, c7=192)
        self.Mixed_7a = BlockD(768)  # 1280 at 8 x 8
        self.Mixed_7b = BlockE(1280, max_pool=False)  # 2048
        self.Mixed_7c = BlockE(2048, max_pool=True)  # 2048
        self.fc = nn.Linear(FEATURES, CLASSES)  # in the file; unused for features

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = prepare(images)  # [N, 3, 299, 299] in [-1, 1]
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a):
            x = block(x)
        for block in (self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
            x = block(x)
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        return x.mean(dim=(2, 3))  # pool3: [N, 2048]


def prepare(images: torch.Tensor) -> torch.Tensor:
    """images [N, C, H, W] in [-1, 1] -> [N, 3, 299, 299] in [-1, 1].

    Gray is repeated to RGB. Values are first rounded to the 256 levels of an
    8-bit image: the real images are 8-bit, and pytorch-fid scores saved
    image files, so generated floats are seen as their saved pictures would
    be. Then bilinear resizing to 299 (pytorch-fid: ``F.interpolate``,
    ``align_corners=False``), done in [0, 1] and scaled to [-1, 1] after.
    """
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"need images [N, 1 or 3, H, W], got {tuple(images.shape)}")
    x = images.float()
    x = torch.round((x.clamp(-1, 1) + 1) * 127.5) / 255  # [0, 1], 8-bit levels
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return 2 * x - 1


def load_fid_inception(
    weights: str | Path, sha256: str = STANDARD_SHA256, device="cpu"
) -> FIDInceptionV3:
    """The FID Inception in eval mode with the weights file at ``weights``,
    once its SHA-256 is ``sha256``; strict key matching.

    Raises InceptionUnavailable (one line: file missing, wrong digest, or not
    an Inception state dict)."""
    path = verify_inception_weights(weights, sha256)
    net = FIDInceptionV3()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise InceptionUnavailable(
            f"the Inception weights file {path.name} is not an FID Inception "
            f"state dict ({first})"
        ) from exc
    for p in net.parameters():
        p.requires_grad_(False)
    return net.to(device).eval()


_CACHE: dict = {}


def fid_inception_extractor(
    weights: str | Path, sha256: str = STANDARD_SHA256, device="cpu", batch=32
):
    """images [N, C, H, W] in [-1, 1] -> float64 pool3 features [N, 2048], the
    network loaded once per (file, digest, device). Every image goes through
    Inception exactly once; NonFiniteFeatures for NaN or infinite features."""
    path = verify_inception_weights(weights, sha256)  # hashed once per version
    key = (str(path.resolve()), path.stat().st_mtime_ns, sha256, str(device))
    if key not in _CACHE:
        _CACHE.clear()  # one network (about 100 MB) at a time
        _CACHE[key] = load_fid_inception(path, sha256, device)
    net = _CACHE[key]

    @torch.inference_mode()
    def extract(images: torch.Tensor) -> torch.Tensor:
        parts = [
            net(images[i : i + batch].to(device)).double().cpu()
            for i in range(0, len(images), batch)
        ]
        out = torch.cat(parts) if parts else torch.zeros(0, FEATURES)
        check_finite(out, "Inception")
        return out

    return extract
