"""Image verification and re-encoding with Pillow.

Every image we keep has been decoded and encoded again by Pillow, so no byte of
an upload is ever stored or served. What a file *is* comes from its content,
never from its name. Pixel bombs are refused from the header, before decoding:
Pillow's DecompressionBombWarning is raised as an error at our own limit, and
the size is checked once more by hand.

A file that starts like one of our formats but cannot be read (empty, or cut
short inside its header) is a damaged image, skipped and counted; a file that
starts like none of them is not an image, and refuses the upload.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Callable
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
# The first bytes of each format we accept (WebP: "RIFF", a size, "WEBP").
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)


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


def sniff(head: bytes) -> str | None:
    """The format a file's first bytes announce, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in SIGNATURES if head.startswith(magic)), None)


def _head(fp: BinaryIO | Path) -> bytes:
    if isinstance(fp, Path | str):
        with open(fp, "rb") as fh:
            return fh.read(16)
    fp.seek(0)
    return fp.read(16)


def _unreadable(fp: BinaryIO | Path, name: str, exc: Exception) -> Exception:
    """Why an image could not be opened: damaged (skipped) or not an image."""
    head = _head(fp)
    if not head:
        return CorruptImage(f"{name} is an empty file")
    fmt = sniff(head)
    if fmt is not None:
        return CorruptImage(f"{name}: a damaged {fmt} file, its header is cut short")
    return Rejected(not_image_message(name))


def open_image(fp: BinaryIO | Path, *, name: str, max_pixels: int) -> Image.Image:
    """Open by content and check the header's size; decode nothing yet.

    Raises Rejected for files that are not images or are over the pixel limit,
    CorruptImage for an image whose header cannot be read (empty, cut short).
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
            raise _unreadable(fp, name, exc) from exc
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


def header_pixels(fp: BinaryIO | Path, *, max_pixels: int) -> int:
    """width x height from the header alone, 0 when it cannot be read (the
    decode that follows gives the verdict on such a file)."""
    try:
        image = open_image(fp, name="", max_pixels=max_pixels)
    except (Rejected, CorruptImage):
        return 0
    with image:
        return image.width * image.height


def decode_image(
    fp: BinaryIO | Path,
    *,
    name: str,
    max_pixels: int,
    allow: Callable[[int], None] | None = None,
) -> Decoded:
    """Verify and fully decode one image (GIF and WebP: the first frame).

    ``allow`` is called with the header's width x height before decoding, and
    may refuse (raise) to keep an upload within its pixel budget.
    Raises Rejected (not an image, too many pixels) or CorruptImage.
    """
    image = open_image(fp, name=name, max_pixels=max_pixels)
    if allow is not None:
        try:
            allow(image.width * image.height)
        except BaseException:
            image.close()
            raise
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
