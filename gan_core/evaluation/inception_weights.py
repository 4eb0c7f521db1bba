"""The standard Inception-v3 weights file for FID/KID, checked before use.

The file is pytorch-fid's port of the TensorFlow FID Inception graph
(inception-2015-12-05), published as a release asset of mseitzer/pytorch-fid:
https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
(torch-fidelity republishes the same file as
``weights-inception-2015-12-05-6726825d.pth``). Its name carries the first 8
hex digits of its SHA-256 (torch.hub's convention); the full digest below is
the one recorded for that file (95,628,359 bytes). inception.py is the network
it loads into. A file with another digest is refused: figures from other
weights would look like standard FID and not be.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

STANDARD_NAME = "pt_inception-2015-12-05-6726825d.pth"
STANDARD_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    + STANDARD_NAME
)
STANDARD_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"


class InceptionUnavailable(RuntimeError):
    """Inception FID needs the verified local weights file; the message says
    why it cannot be had, in one line of plain words."""


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
        raise InceptionUnavailable(
            f"the Inception weights file {path.name} was not found where the "
            "operator set it"
        )
    stat = path.stat()
    found = _digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if found != sha256.strip().lower():
        raise InceptionUnavailable(
            f"the Inception weights file {path.name} is not the standard one: its "
            f"SHA-256 checksum starts {found[:12]}, the expected one "
            f"{sha256.strip().lower()[:12]}"
        )
    return path
