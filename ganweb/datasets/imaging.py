"""Image verification and re-encoding with Pillow.

Every image we keep has been decoded and encoded again by Pillow, so no byte of
an upload is ever stored or served. What a file *is* comes from its content,
never from its name. Pixel bombs are refused from the header, before decoding:
Pillow's DecompressionBombWarning is raised as an error at our own limit, and
the size is checked once more by hand.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from ganweb.datasets.archives import Rejected

FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
FORMAT_NAMES = "PNG, JPEG, WebP, BMP or GIF"
THUMB = 64
GRID_COLUMNS = 8
GRID_GAP = 2


class CorruptImage(Exception):
    """A real image whose data cannot be decoded: skipped and counted."""


@dataclass(frozen=True)
class Decoded:
    image: Image.Image  # mode "L" or "RGB", upright
    source_format: str
    source_mode: str
    digest: str  # of the decoded pixels, so two encodings of one image agree

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @property
    def channels(self) -> int:
        return 1 if self.image.mode == "L" else 3


def pixel_message(name: str, limit: int, pixels: int | None = None) -> str:
    found = f" ({pixels:,} pixels)" if pixels else ""
    return (
        f"{name} is larger than the limit of {limit:,} pixels{found}; "
        "refused as a possible decompression bomb"
    )


def not_image_message(name: str) -> str:
    return f"{name} is not an image ({FORMAT_NAMES} expected)"


def _pixels_in(exc: Exception) -> int | None:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return int(found.group(1)) if found else None


def open_image(fp: BinaryIO | Path, *, name: str, max_pixels: int) -> Image.Image:
    """Open by content and check the header's size; decode nothing yet.

    Raises Rejected for files that are not images or are over the pixel limit.
    """
    # The limit is the same for every caller in a process (it is a setting), so
    # setting Pillow's global is safe across threads.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(fp, formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Rejected(pixel_message(name, max_pixels, _pixels_in(exc))) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise Rejected(not_image_message(name)) from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise Rejected(pixel_message(name, max_pixels, width * height))
    if width < 1 or height < 1:
        image.close()
        raise Rejected(not_image_message(name))
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """Upright, and in "L" or "RGB"; transparency is composited onto white."""
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("1", "L"):
        return image.convert("L")
    if mode.startswith("I") or mode == "F":
        # 16-bit and float grayscale: scale into 8 bits.
        low, high = image.getextrema()
        scale = 255.0 / (high - low) if high > low else 0.0
        return image.point(lambda v: (v - low) * scale).convert("L")
    if mode in ("LA", "La", "RGBA", "RGBa", "PA"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(white, rgba).convert("RGB")
        return flat.convert("L") if mode in ("LA", "La") else flat
    return image.convert("RGB")


def decode_image(fp: BinaryIO | Path, *, name: str, max_pixels: int) -> Decoded:
    """Verify and fully decode one image (GIF and WebP: the first frame).

    Raises Rejected (not an image, too many pixels) or CorruptImage.
    """
    image = open_image(fp, name=name, max_pixels=max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.seek(0)
            image.load()
            source_format, source_mode = image.format or "", image.mode
            flat = _flatten(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected(pixel_message(name, max_pixels, _pixels_in(exc))) from exc
    except (OSError, ValueError, SyntaxError, EOFError, IndexError) as exc:
        raise CorruptImage(f"{name}: {exc}") from exc
    finally:
        image.close()
    digest = hashlib.sha256(
        f"{flat.mode}:{flat.width}x{flat.height}:".encode() + flat.tobytes()
    ).hexdigest()
    return Decoded(flat, source_format, source_mode, digest)


def stored_suffix(decoded: Decoded) -> str:
    """Photos stay JPEG (at high quality); everything else becomes PNG."""
    return ".jpg" if decoded.source_format == "JPEG" else ".png"


def save_image(decoded: Decoded, target: Path) -> int:
    """Encode ``decoded`` to ``target`` (suffix from stored_suffix); return bytes."""
    if target.suffix == ".jpg":
        decoded.image.save(target, "JPEG", quality=95, subsampling=0)
    else:
        decoded.image.save(target, "PNG", compress_level=3)
    return target.stat().st_size


def thumbnail(path: Path) -> Image.Image:
    """A square THUMB x THUMB RGB crop of one of our own stored images."""
    with Image.open(path) as image:
        return ImageOps.fit(image.convert("RGB"), (THUMB, THUMB))


def preview_grid(thumbs: list[Image.Image]) -> Image.Image:
    """Thumbnails in rows of GRID_COLUMNS on a white background."""
    columns = min(GRID_COLUMNS, max(1, len(thumbs)))
    rows = max(1, -(-len(thumbs) // columns))
    step = THUMB + GRID_GAP
    grid = Image.new(
        "RGB", (columns * step - GRID_GAP, rows * step - GRID_GAP), (255, 255, 255)
    )
    for index, thumb in enumerate(thumbs):
        grid.paste(thumb, ((index % columns) * step, (index // columns) * step))
    return grid
