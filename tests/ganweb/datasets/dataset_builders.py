"""Tiny images and real archives built inside the tests (no fixtures on disk)."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

from PIL import Image


def image_bytes(index: int = 0, size=(8, 8), fmt: str = "PNG", mode="RGB") -> bytes:
    """A small image whose pixels depend on ``index`` (so contents differ)."""
    colour = ((index * 37) % 256, (index * 91) % 256, (index * 53) % 256)
    if mode == "L":
        colour = colour[0]
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, fmt)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with almost no data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def flat_members(count: int, prefix: str = "", fmt: str = "PNG") -> dict:
    suffix = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}
    return {
        f"{prefix}img{i:03d}.{suffix[fmt]}": image_bytes(i, fmt=fmt)
        for i in range(count)
    }


def class_members(classes: dict[str, int], prefix: str = "") -> dict:
    members, index = {}, 0
    for name, count in classes.items():
        for i in range(count):
            members[f"{prefix}{name}/{i:03d}.png"] = image_bytes(index)
            index += 1
    return members


def make_zip(path: Path, members: dict, *, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def make_tar(path: Path, members: dict, *, gz: bool = True) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def zip_with_symlink(path: Path, members: dict, link: str, target: str) -> Path:
    make_zip(path, members)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo(link)
        info.external_attr = (0o120777 << 16) | 0
        archive.writestr(info, target)
    return path


def tar_with_symlink(path: Path, members: dict, link: str, target: str) -> Path:
    make_tar(path, members)
    with tarfile.open(path, "r:gz") as old:
        entries = [(info, old.extractfile(info).read()) for info in old.getmembers()]
    with tarfile.open(path, "w:gz") as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(link)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        archive.addfile(info)
    return path


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file()) if root else []


def gzip_tar_of_zeros(path: Path, members: dict[str, int], *, before=None) -> Path:
    """A .tar.gz whose members (name -> size) are all zeros, built fast.

    Deflate restarts after a full flush, so one compressed MiB of zeros is
    the same bytes every time: it is made once and written again, and the
    gzip header and trailer (CRC-32, size) are ours. ``before`` is a dict of
    real members (name -> bytes) written first. Nothing is ever unpacked.
    """
    zeros = b"\0" * (1 << 20)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    crc, total = 0, 0

    def feed(data: bytes) -> bytes:
        nonlocal crc, total
        crc, total = zlib.crc32(data, crc), total + len(data)
        return deflate.compress(data) + deflate.flush(zlib.Z_FULL_FLUSH)

    with open(path, "wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
        for name, data in (before or {}).items():
            out.write(feed(_tar_header(name, len(data)) + _padded(data)))
        for name, size in members.items():
            out.write(feed(_tar_header(name, size)))
            whole, rest = divmod(size, len(zeros))
            if whole:
                block = feed(zeros)
                out.write(block)
                for _ in range(whole - 1):
                    crc, total = zlib.crc32(zeros, crc), total + len(zeros)
                    out.write(block)
            out.write(feed(b"\0" * (rest + (-size) % 512)))
        out.write(feed(b"\0" * 1024) + deflate.flush())
        out.write(struct.pack("<II", crc, total & 0xFFFFFFFF))
    return path


def _tar_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _padded(data: bytes) -> bytes:
    return data + b"\0" * ((-len(data)) % 512)


def gif_claiming(width: int, height: int) -> bytes:
    """A GIF of one 1x1 pixel on a width x height logical screen: about 35
    bytes, and Pillow decodes the whole screen."""
    screen = struct.pack("<6sHHBBB", b"GIF89a", width, height, 0x80, 0, 0)
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = struct.pack("<BHHHHB", 0x2C, 0, 0, 1, 1, 0)
    # LZW, minimum code size 2: clear (4), pixel 0, end (5), 3 bits each.
    return screen + palette + image + b"\x02\x02\x44\x01\x00" + b";"


def zip_of_empty_files(
    path: Path, count: int, *, zip64: bool = False, claimed: int | None = None
) -> Path:
    """A stored zip of ``count`` empty files written record by record (fast),
    whose end record (zip64 when asked) claims ``claimed`` entries."""
    entries = count if claimed is None else claimed
    central, offset = [], 0
    with open(path, "wb") as out:
        for index in range(count):
            name = f"{index:06d}.png".encode()
            local = struct.pack(
                "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0
            )
            out.write(local + name)
            central.append(
                struct.pack(
                    "<4sHHHHHHIIIHHHHHII",
                    *(b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name)),
                    *(0, 0, 0, 0, 0, offset),
                )
                + name
            )
            offset += len(local) + len(name)
        directory = b"".join(central)
        out.write(directory)
        if zip64:
            record_at = offset + len(directory)
            out.write(
                struct.pack(
                    "<4sQHHIIQQQQ",
                    *(b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries),
                    *(len(directory), offset),
                )
            )
            out.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1))
            counts, sizes = (0xFFFF, 0xFFFF), (0xFFFFFFFF, 0xFFFFFFFF)
        else:
            counts = (min(entries, 0xFFFF),) * 2
            sizes = (len(directory), offset)
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, *counts, *sizes, 0))
    return path
