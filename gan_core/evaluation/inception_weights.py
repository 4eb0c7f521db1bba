"""The standard Inception-v3 weights file for FID/KID, checked before use.

The file is torch-fidelity's port of the TensorFlow FID Inception graph
(inception-2015-12-05), the network torchmetrics' FID and KID load through
``feature_extractor_weights_path``:
https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth
Its name carries the first 8 hex digits of its SHA-256 (torch.hub's
convention); the full digest below is the one recorded for that release file.
A file with another digest is refused: figures from other weights would look
like standard FID and not be.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

STANDARD_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    "weights-inception-2015-12-05-6726825d.pth"
)
STANDARD_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"


class InceptionUnavailable(RuntimeError):
    """Inception FID needs torchmetrics and the verified local weights file."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))  # hashed once per file version


def verify_inception_weights(path: str | Path, sha256: str = STANDARD_SHA256) -> Path:
    """``path`` when it is a file whose SHA-256 is ``sha256``; else raises
    InceptionUnavailable saying why, in one line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InceptionUnavailable(f"Inception weights file not found: {path}")
    stat = path.stat()
    found = _digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if found != sha256.strip().lower():
        raise InceptionUnavailable(
            f"Inception weights {path.name} have SHA-256 {found[:16]}..., not the "
            f"standard file's {sha256[:16]}... (see {STANDARD_URL})"
        )
    return path
