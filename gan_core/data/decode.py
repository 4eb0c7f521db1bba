"""Decoding one image file into uint8 pixels, the same way everywhere.

Imports neither torch nor the rest of gan_core, so the cache builder's decode
processes start fast.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from gan_core.data.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def image_files(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, by name; hidden files are not.

    Read with scandir (the entry's type, not a stat per file) and sorted by
    name as strings: a folder of 20,000 files is listed in a few milliseconds.
    """
    with os.scandir(folder) as entries:
        names = sorted(
            e.name
            for e in entries
            if e.name[0] != "."
            and os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES
            and e.is_file()
        )
    return [folder / name for name in names]


def decode_image(path: Path, size: int, mode: str) -> np.ndarray:
    """One image as uint8 [H, W, C], resized on the shorter side then centre-cropped.

    Raises DataError when the file cannot be decoded.
    """
    try:
        with Image.open(path) as img:
            return _fit(img, size, mode)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


def _fit(img: Image.Image, size: int, mode: str) -> np.ndarray:
    img = ImageOps.exif_transpose(img).convert(mode)
    img = ImageOps.fit(img, (size, size), Image.Resampling.BICUBIC)
    arr = np.asarray(img, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def is_gray(path: Path) -> bool:
    """Whether the file holds a single-channel image (read from its header)."""
    try:
        with Image.open(path) as img:
            return img.mode in GRAY_MODES
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


def decode_rows(
    paths: list[str], size: int, mode: str
) -> list[tuple[bytes, bytes] | str]:
    """Decode files into uint8 CHW rows for the cache, in a decode process.

    Each result is (row bytes, sha256 of them) or the reason it was skipped; the
    digest is taken here, in parallel, so the fingerprint needs no second pass.
    """
    out: list[tuple[bytes, bytes] | str] = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
            with Image.open(io.BytesIO(raw)) as img:
                row = np.ascontiguousarray(_fit(img, size, mode).transpose(2, 0, 1))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            out.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        data = row.tobytes()
        out.append((data, hashlib.sha256(data).digest()))
    return out


def gray_flags(paths: list[str]) -> list[bool | None]:
    """is_gray for each file; None for a file that cannot be opened (skipped later)."""
    flags: list[bool | None] = []
    for path in paths:
        try:
            flags.append(is_gray(Path(path)))
        except DataError:
            flags.append(None)
    return flags
