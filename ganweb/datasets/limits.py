"""Upload and dataset limits, read from settings when they are needed.

Every limit is a setting with a default (see ganweb/settings.py), so tests and
deployments can change them, and the upload page shows the values in force.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.conf import settings

# A member is only judged by its compression ratio once it has unpacked this
# much: tiny flat images compress extremely well and are harmless.
RATIO_FLOOR_BYTES = 1 << 20


@dataclass(frozen=True)
class Limits:
    upload_bytes: int  # one request body
    upload_files: int  # files in one multipart body
    archive_files: int  # entries in one archive
    unpacked_bytes: int  # actual bytes unpacked from one archive
    compression_ratio: int  # per archive member, unpacked / packed
    pixels: int  # width x height of one image
    min_images: int  # usable images a dataset needs
    # Budgets (None: none): what decoding one upload, and one user's datasets
    # together, may cost. A 48-byte GIF can claim 40 million pixels.
    upload_pixels: int | None = None  # decoded width x height, one upload
    user_pixels: int | None = None  # the same, over a user's datasets
    user_bytes: int | None = None  # bytes stored for a user's datasets

    def as_dict(self) -> dict:
        return asdict(self)


def current_limits() -> Limits:
    return Limits(
        upload_bytes=int(settings.GAN_UPLOAD_MAX_BYTES),
        upload_files=int(settings.GAN_UPLOAD_MAX_FILES),
        archive_files=int(settings.GAN_DATASET_MAX_FILES),
        unpacked_bytes=int(settings.GAN_DATASET_MAX_UNPACKED_BYTES),
        compression_ratio=int(settings.GAN_DATASET_MAX_COMPRESSION_RATIO),
        pixels=int(settings.GAN_DATASET_MAX_PIXELS),
        min_images=int(settings.GAN_DATASET_MIN_IMAGES),
        upload_pixels=int(settings.GAN_DATASET_MAX_UPLOAD_PIXELS),
        user_pixels=int(settings.GAN_DATASET_MAX_USER_PIXELS),
        user_bytes=int(settings.GAN_DATASET_MAX_USER_BYTES),
    )


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"
