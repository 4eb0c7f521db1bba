"""Turning a ``data`` argument into an in-memory dataset, decoded once.

``data`` is a folder of images (flat: unconditional; class subfolders: labels;
``A/`` and ``B/``: two domains), a CSV of 2D points, ``builtin:<name>``, or an
already-built ImageData / DomainData / PointData. Images are resized (shorter
side) and centre-cropped to the requested size; grayscale is detected when every
image is single-channel. Decoded folders are cached per process, keyed by the
files' names, sizes and modification times.
"""

from __future__ import annotations

import csv
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from gan_core.data.types import Data, DomainData, ImageData, PointData

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MIN_IMAGES = 2
BUILTIN_PREFIX = "builtin:"


class DataError(ValueError):
    """The data cannot be used: missing, empty, unreadable or the wrong kind."""


@dataclass(frozen=True)
class DataInfo:
    """What networks and checkpoints need to know about the data."""

    kind: str  # "images", "classes", "domains" or "points".
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


def tensor_fingerprint(*tensors: torch.Tensor | None) -> str:
    """A short content hash of tensors (shape, dtype and bytes)."""
    h = hashlib.sha256()
    for t in tensors:
        if t is None:
            h.update(b"none")
            continue
        t = t.detach().cpu().contiguous()
        h.update(f"{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def data_info(data: Data) -> DataInfo:
    """The DataInfo of a loaded dataset (fingerprint computed when missing)."""
    if isinstance(data, PointData):
        fp = data.fingerprint or tensor_fingerprint(data.points)
        return DataInfo("points", fingerprint=fp)
    if isinstance(data, DomainData):
        fp = data.fingerprint or tensor_fingerprint(data.a, data.b)
        return DataInfo("domains", data.channels, data.image_size, fingerprint=fp)
    fp = data.fingerprint or tensor_fingerprint(data.images, data.labels)
    return DataInfo(
        data.kind, data.channels, data.image_size, data.class_names, fp, len(data)
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name[0] == "."
    )


def _decode(path: Path, size: int, mode: str) -> np.ndarray:
    """One image as uint8 [H, W, C], resized on the shorter side then centre-cropped."""
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img).convert(mode)
            img = ImageOps.fit(img, (size, size), Image.Resampling.BICUBIC)
            arr = np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc
    return arr[:, :, None] if arr.ndim == 2 else arr


def _is_gray(path: Path) -> bool:
    try:
        with Image.open(path) as img:
            return img.mode in ("1", "L", "LA", "I", "I;16", "F")
    except OSError as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


def _to_tensor(arrays: list[np.ndarray]) -> torch.Tensor:
    """uint8 [H, W, C] arrays -> float32 [N, C, H, W] in [-1, 1]."""
    stacked = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    return stacked.float().div_(127.5).sub_(1.0).contiguous()


def _decode_all(files: list[Path], size: int, channels: int | None) -> torch.Tensor:
    if channels is None:
        channels = 1 if all(_is_gray(p) for p in files) else 3
    mode = "L" if channels == 1 else "RGB"
    return _to_tensor([_decode(p, size, mode) for p in files])


def _folder_key(folder: Path) -> tuple:
    """Names, sizes and modification times of everything under ``folder``."""
    return tuple(
        (str(p.relative_to(folder)), st.st_size, st.st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (st := p.stat())
    )


def _check_count(n: int, where: Path) -> None:
    if n < MIN_IMAGES:
        raise DataError(
            f"too few images in {where}: found {n}, need at least {MIN_IMAGES}"
        )


@functools.lru_cache(maxsize=4)
def _load_folder_cached(
    folder: str, size: int, channels: int | None, key: tuple
) -> ImageData | DomainData:
    root = Path(folder)
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] != ".")
    names = [p.name for p in subdirs]
    if set(names) >= {"A", "B"} and not _image_files(root):
        a_files, b_files = _image_files(root / "A"), _image_files(root / "B")
        _check_count(len(a_files), root / "A")
        _check_count(len(b_files), root / "B")
        if channels is None:
            gray = all(_is_gray(p) for p in a_files + b_files)
            channels = 1 if gray else 3
        a = _decode_all(a_files, size, channels)
        b = _decode_all(b_files, size, channels)
        return DomainData(a, b, fingerprint=tensor_fingerprint(a, b))
    classes = [(p.name, _image_files(p)) for p in subdirs]
    classes = [(name, files) for name, files in classes if files]
    if classes and not _image_files(root):
        files = [f for _, files in classes for f in files]
        _check_count(len(files), root)
        labels = torch.tensor(
            [i for i, (_, fs) in enumerate(classes) for _ in fs], dtype=torch.int64
        )
        images = _decode_all(files, size, channels)
        return ImageData(
            images,
            labels,
            tuple(name for name, _ in classes),
            fingerprint=tensor_fingerprint(images, labels),
        )
    files = _image_files(root)
    _check_count(len(files), root)
    images = _decode_all(files, size, channels)
    return ImageData(images, fingerprint=tensor_fingerprint(images))


def load_image_folder(
    folder: Path, image_size: int, channels: int | None = None
) -> ImageData | DomainData:
    """Decode a folder once (flat, class subfolders, or A/ and B/) into tensors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"data folder not found: {folder}")
    key = _folder_key(folder)
    return _load_folder_cached(str(folder.resolve()), image_size, channels, key)


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
    data: str | Path | Data, *, image_size: int, channels: int | None = None
) -> Data:
    """The dataset for ``data`` (see module docstring), decoded into tensors.

    Raises DataError with a one-line reason when it cannot be used.
    """
    if isinstance(data, ImageData | DomainData | PointData):
        return data
    spec = str(data)
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
    return load_image_folder(path, image_size, channels)
