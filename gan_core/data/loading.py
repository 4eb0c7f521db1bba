"""Turning a ``data`` argument into an in-memory dataset, decoded once.

``data`` is a folder of images (flat: unconditional; class subfolders: labels;
``A/`` and ``B/``: two domains), ``pairs:<folder>`` or ``pairs-sbs:<folder>``
(paired images, gan_core.data.paired), a CSV of 2D points, ``builtin:<name>``,
or an already-built ImageData / DomainData / PairData / PointData. Images are
resized (shorter side) and centre-cropped to the requested size; grayscale is
detected when every image is single-channel. A folder is decoded once per size
into its training cache (gan_core.data.cache) and read from there by every
later process.
"""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_core.data.cache import (
    MIN_IMAGES,
    CacheFile,
    Progress,
    open_cache,
    open_or_build,
)
from gan_core.data.errors import DataError
from gan_core.data.paired import open_or_build_pairs, parse_pair_spec
from gan_core.data.streamed import StreamedImages
from gan_core.data.types import (
    Data,
    DomainData,
    ImageData,
    PairData,
    PointData,
    tensor_fingerprint,
)

BUILTIN_PREFIX = "builtin:"
__all__ = ["DataError", "DataInfo", "data_info", "load_data", "tensor_fingerprint"]


@dataclass(frozen=True)
class DataInfo:
    """What networks and checkpoints need to know about the data."""

    kind: str  # "images", "classes", "domains", "pairs" or "points".
    channels: int = 0  # 1 or 3 for images; 0 for points.
    image_size: int = 0  # Side in pixels; 0 for points.
    class_names: tuple[str, ...] = ()
    fingerprint: str = ""
    size: int = 0  # Training samples (0 = unknown); ADA's default follows it.

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "channels": self.channels,
            "image_size": self.image_size,
            "class_names": list(self.class_names),
            "fingerprint": self.fingerprint,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, d: dict) -> DataInfo:
        return cls(
            kind=d["kind"],
            channels=int(d.get("channels", 0)),
            image_size=int(d.get("image_size", 0)),
            class_names=tuple(d.get("class_names", ())),
            fingerprint=d.get("fingerprint", ""),
            size=int(d.get("size", 0)),
        )


def data_info(data: Data) -> DataInfo:
    """The DataInfo of a loaded dataset (fingerprint computed when missing)."""
    if isinstance(data, PointData):
        fp = data.fingerprint or tensor_fingerprint(data.points)
        return DataInfo("points", fingerprint=fp)
    if isinstance(data, DomainData | PairData):
        fp = data.fingerprint or tensor_fingerprint(data.a, data.b)
        size = len(data) if data.kind == "pairs" else 0
        return DataInfo(data.kind, data.channels, data.image_size, (), fp, size)
    fp = data.fingerprint or tensor_fingerprint(data.images, data.labels)
    return DataInfo(
        data.kind, data.channels, data.image_size, data.class_names, fp, len(data)
    )


def data_ram_bytes() -> int:
    """How much of a dataset may sit in RAM: GAN_DATA_RAM_BYTES, else half of
    the memory available now (beyond it, images are streamed from the cache)."""
    value = os.environ.get("GAN_DATA_RAM_BYTES", "").strip()
    if value:
        try:
            return int(float(value))
        except ValueError as exc:
            raise DataError(f"GAN_DATA_RAM_BYTES must be bytes, got {value!r}") from exc
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except OSError:
        pass
    return 2 << 30


def _held(cache: CacheFile, name: str, ram_bytes: int):
    """The array in RAM when it fits the budget, else streamed from the file."""
    if cache.nbytes(name) <= ram_bytes:
        return torch.from_numpy(cache.read_all(name))
    return StreamedImages(cache, name)


def data_from_cache(cache: CacheFile, ram_bytes: int) -> ImageData | DomainData:
    """The dataset a cache holds: uint8 images in RAM or streamed, labels in RAM."""
    if cache.kind == "domains":
        budget_a = min(ram_bytes, cache.nbytes("a") + cache.nbytes("b"))
        a = _held(cache, "a", budget_a)
        b = _held(cache, "b", budget_a - cache.nbytes("a") if torch.is_tensor(a) else 0)
        return DomainData(a, b, fingerprint=cache.fingerprint)
    if cache.kind == "pairs":  # row i of a goes with row i of b: both or neither
        both = cache.nbytes("a") + cache.nbytes("b")
        a = _held(cache, "a", ram_bytes if both <= ram_bytes else 0)
        b = _held(cache, "b", ram_bytes if both <= ram_bytes else 0)
        return PairData(a, b, fingerprint=cache.fingerprint)
    labels = cache.labels()
    return ImageData(
        _held(cache, "images", ram_bytes),
        torch.from_numpy(labels) if labels is not None else None,
        cache.class_names,
        fingerprint=cache.fingerprint,
    )


@functools.lru_cache(maxsize=2)
def _from_cache_file(path: str, mtime_ns: int, ram_bytes: int):
    cache = open_cache(Path(path))
    if cache is None:
        raise DataError(f"the training cache {path} is gone or incomplete")
    return data_from_cache(cache, ram_bytes)


def load_image_folder(
    folder: Path,
    image_size: int,
    channels: int | None = None,
    *,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    ram_bytes: int | None = None,
) -> ImageData | DomainData:
    """A folder (flat, class subfolders, or A/ and B/) through its training cache.

    The cache is built first when missing (``progress(done, total)`` follows
    it); the images stay uint8, in RAM up to ``ram_bytes`` (default
    data_ram_bytes()), else streamed. Loaded sets are kept per process.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"data folder not found: {folder}")
    cache = open_or_build(
        folder,
        image_size=image_size,
        channels=channels,
        cache_dir=cache_dir,
        workers=workers,
        progress=progress,
    )
    return load_opened_cache(cache, ram_bytes)


def load_opened_cache(
    cache: CacheFile, ram_bytes: int | None = None
) -> ImageData | DomainData:
    """The dataset of a cache open_or_build returned (kept per process), so a
    caller that opened it does not list and stat the folder a second time."""
    budget = data_ram_bytes() if ram_bytes is None else ram_bytes
    mtime = cache.path.stat().st_mtime_ns if cache.built else 0
    return _from_cache_file(str(cache.path), mtime, budget)


def load_points_csv(path: Path) -> PointData:
    """Rows of ``x,y`` (a header line is skipped) as PointData."""
    rows: list[list[float]] = []
    try:
        with open(path, newline="") as fh:
            for i, row in enumerate(csv.reader(fh)):
                if not row or row[0].lstrip().startswith("#"):
                    continue
                try:
                    rows.append([float(row[0]), float(row[1])])
                except (ValueError, IndexError) as exc:
                    if i == 0:
                        continue  # header
                    raise DataError(f"{path}:{i + 1}: expected x,y numbers") from exc
    except OSError as exc:
        raise DataError(f"cannot read points file {path}: {exc}") from exc
    if len(rows) < MIN_IMAGES:
        raise DataError(f"too few points in {path}: found {len(rows)}")
    points = torch.tensor(rows, dtype=torch.float32)
    return PointData(points, fingerprint=tensor_fingerprint(points))


def load_data(
    data: str | Path | Data,
    *,
    image_size: int,
    channels: int | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Data:
    """The dataset for ``data`` (see module docstring).

    cache_dir and progress apply to folders (see load_image_folder). Raises
    DataError with a one-line reason when it cannot be used.
    """
    if isinstance(data, ImageData | DomainData | PairData | PointData):
        return data
    spec = str(data)
    paired = parse_pair_spec(spec)
    if paired is not None:  # pairs:<folder> or pairs-sbs:<folder>
        layout, folder = paired
        cache = open_or_build_pairs(
            folder,
            layout,
            image_size=image_size,
            channels=channels,
            cache_dir=cache_dir,
            progress=progress,
        )
        return load_opened_cache(cache)
    if spec.startswith(BUILTIN_PREFIX):
        try:
            from gan_core.data.builtin import BUILTIN_NAMES, load_builtin
        except ImportError as exc:
            raise DataError("built-in datasets are not available yet") from exc
        name = spec[len(BUILTIN_PREFIX) :]
        if name not in BUILTIN_NAMES:
            known = ", ".join(BUILTIN_NAMES)
            raise DataError(f"unknown built-in dataset '{name}' (known: {known})")
        return load_builtin(name, image_size=image_size, channels=channels)
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".csv":
        if not path.is_file():
            raise DataError(f"points file not found: {path}")
        return load_points_csv(path)
    return load_image_folder(
        path, image_size, channels, cache_dir=cache_dir, progress=progress
    )
