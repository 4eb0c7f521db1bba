"""Reading uploaded archives without trusting them.

Member names are only ever strings that we classify: nothing is written to a
path built from an uploaded name, so `../` or `/etc/passwd` cannot escape the
dataset folder by construction; they are still refused with a clear message.
Sizes are bounded twice: by the declared sizes before anything is unpacked, and
by the bytes actually read while streaming (headers can lie).
"""

from __future__ import annotations

import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ganweb.datasets.limits import RATIO_FLOOR_BYTES, Limits, human_bytes

ZIP, TAR, TAR_GZ = "zip", "tar", "tar.gz"
# What reading a damaged member can raise, whichever archive format it is.
# zipfile raises NotImplementedError for a member whose "version needed" or
# compression method it does not know (found by tests/security's fuzz).
READ_ERRORS = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
)
CHUNK = 1 << 20
# Files that archivers and desktops add on their own; not part of the dataset.
JUNK_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}
_DRIVE = re.compile(r"^[A-Za-z]:")


class Rejected(ValueError):
    """An upload we refuse as a whole; the message says why, for people."""


@dataclass(frozen=True)
class Member:
    name: str  # normalised "a/b.png", never absolute, never with ".."
    size: int  # declared unpacked size
    packed: int | None  # compressed size (zip), None when not known


def archive_type(path: Path) -> str:
    """zip, tar or tar.gz by the file's first bytes (never by its name)."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return ZIP
    if head[:2] == b"\x1f\x8b":
        return TAR_GZ
    if len(head) >= 262 and head[257:262] == b"ustar":
        return TAR
    raise Rejected(
        "unsupported archive type: upload a .zip, .tar or .tar.gz archive "
        "(or several image files)"
    )


def clean_member_name(raw: str) -> str:
    """``raw`` as a relative "/"-separated path; Rejected if it would escape."""
    name = raw.replace("\\", "/")
    if "\x00" in name:
        raise Rejected(f"archive entry {raw!r} has a NUL byte in its name")
    if name.startswith("/") or _DRIVE.match(name):
        raise Rejected(f"archive entry {raw!r} has an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise Rejected(f"archive entry {raw!r} points outside the archive ('..')")
    return "/".join(parts)


def is_junk(name: str) -> bool:
    """Hidden files and folders (.DS_Store, ._x) and archiver litter."""
    return any(part.startswith(".") or part in JUNK_NAMES for part in name.split("/"))


class MemberChecker:
    """Counts entries and declared bytes against the limits, entry by entry."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.entries = 0
        self.declared = 0

    def entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.archive_files:
            raise Rejected(
                f"too many files: the archive has more than "
                f"{self.limits.archive_files:,} entries"
            )

    def file(self, member: Member) -> None:
        self.declared += member.size
        if self.declared > self.limits.unpacked_bytes:
            raise Rejected(too_large_message(self.limits))
        if member.packed is not None and member.size > RATIO_FLOOR_BYTES:
            if member.size > member.packed * self.limits.compression_ratio:
                raise Rejected(ratio_message(member.name, self.limits))


def too_large_message(limits: Limits) -> str:
    return (
        f"too large when unpacked: the archive holds more than "
        f"{human_bytes(limits.unpacked_bytes)}"
    )


def ratio_message(name: str, limits: Limits) -> str:
    return (
        f"archive entry {name!r} is compressed more than "
        f"{limits.compression_ratio}:1; refused as a possible zip bomb"
    )


Opener = Callable[[], AbstractContextManager[BinaryIO]]


def iter_members(
    path: Path, kind: str, limits: Limits
) -> Iterator[tuple[Member, Opener]]:
    """Every regular file of the archive, in archive order, checked as it comes.

    Directories are counted but not yielded; links, devices and encrypted
    entries are refused. For tar the opener must be used before the next member
    (the archive is read as a stream, once).
    """
    checker = MemberChecker(limits)
    if kind == ZIP:
        yield from _zip_members(path, checker)
    else:
        yield from _tar_members(path, kind, checker)


def _zip_members(path: Path, checker: MemberChecker):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise Rejected(f"the zip archive cannot be read: {exc}") from exc
    with archive:
        for info in archive.infolist():
            checker.entry()
            name = clean_member_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise Rejected(f"archive entry {name!r} is a symbolic link")
            if info.is_dir() or not name:
                continue
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: not recorded
                raise Rejected(f"archive entry {name!r} is not a regular file")
            if info.flag_bits & 0x1:
                raise Rejected(f"archive entry {name!r} is encrypted")
            member = Member(name, info.file_size, info.compress_size)
            checker.file(member)
            yield member, (lambda info=info: archive.open(info))


def _tar_members(path: Path, kind: str, checker: MemberChecker):
    mode = "r|gz" if kind == TAR_GZ else "r|"
    try:
        archive = tarfile.open(path, mode=mode)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise Rejected(f"the tar archive cannot be read: {exc}") from exc
    try:
        with archive:
            for info in archive:
                checker.entry()
                name = clean_member_name(info.name)
                if info.issym() or info.islnk():
                    raise Rejected(f"archive entry {name!r} is a link")
                if info.isdir() or not name:
                    continue
                if not info.isfile():
                    raise Rejected(f"archive entry {name!r} is not a regular file")
                member = Member(name, info.size, None)
                checker.file(member)
                yield member, (lambda info=info: archive.extractfile(info))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise Rejected(f"the tar archive is damaged: {exc}") from exc


def list_members(path: Path, kind: str, limits: Limits) -> list[Member]:
    """The archive's files, checked (names, links, counts, declared sizes)."""
    return [member for member, _ in iter_members(path, kind, limits)]


class StreamBudget:
    """Counts the bytes actually unpacked: in total, and per member."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0

    def copy(self, member: Member, source: BinaryIO, target: BinaryIO) -> int:
        written = 0
        while chunk := source.read(CHUNK):
            written += len(chunk)
            self.total += len(chunk)
            if self.total > self.limits.unpacked_bytes:
                raise Rejected(too_large_message(self.limits))
            if written > member.size:
                raise Rejected(
                    f"archive entry {member.name!r} unpacks to more than its "
                    "declared size"
                )
            packed = member.packed
            if packed is not None and written > RATIO_FLOOR_BYTES:
                if written > max(packed, 1) * self.limits.compression_ratio:
                    raise Rejected(ratio_message(member.name, self.limits))
            target.write(chunk)
        return written
