"""Reading uploaded archives without trusting them.

Member names are only ever strings that we classify: nothing is written to a
path built from an uploaded name, so `../` or `/etc/passwd` cannot escape the
dataset folder by construction; they are still refused with a clear message.
Sizes are bounded twice: by the declared sizes before anything is unpacked, and
by the bytes actually read while streaming (headers can lie). A gzip-compressed
tar has no per-member compressed sizes, so its ratio is counted while it
streams: bytes unpacked against compressed bytes read, per member and for the
whole archive. A zip's entry count is read from its end record before zipfile
parses (and keeps in memory) the whole central directory.
"""

from __future__ import annotations

import re
import stat
import struct
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
    is_dir: bool = False


@dataclass(frozen=True)
class Contents:
    """An archive's table of contents: its files, and every folder named in it
    (directory entries, empty ones included, and the folders of files)."""

    files: list[Member]
    folders: frozenset[str]


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
    """Counts entries and declared bytes against the limits, entry by entry.

    ``archive_bytes`` bounds a member whose own compressed size is unknown
    (tar.gz): it cannot be packed into more than the whole archive.
    """

    def __init__(self, limits: Limits, archive_bytes: int | None = None):
        self.limits = limits
        self.archive_bytes = archive_bytes
        self.entries = 0
        self.declared = 0

    def entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.archive_files:
            raise Rejected(too_many_entries_message(self.limits))

    def file(self, member: Member) -> None:
        self.declared += member.size
        if self.declared > self.limits.unpacked_bytes:
            raise Rejected(too_large_message(self.limits))
        packed = member.packed if member.packed is not None else self.archive_bytes
        if packed is not None and member.size > RATIO_FLOOR_BYTES:
            if member.size > packed * self.limits.compression_ratio:
                raise Rejected(ratio_message(member.name, self.limits))


def too_many_entries_message(limits: Limits) -> str:
    return f"too many files: the archive has more than {limits.archive_files:,} entries"


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


def iter_entries(
    path: Path, kind: str, limits: Limits
) -> Iterator[tuple[Member, Opener | None]]:
    """Every file and directory of the archive, in archive order, checked as
    it comes (directories with ``is_dir`` and no opener).

    Links, devices and encrypted entries are refused. For tar the opener must
    be used before the next entry (the archive is read as a stream, once).
    """
    if kind == ZIP:
        yield from _zip_members(path, MemberChecker(limits))
    else:
        yield from _tar_members(path, kind, limits)


def iter_members(
    path: Path, kind: str, limits: Limits
) -> Iterator[tuple[Member, Opener]]:
    """Every regular file of the archive (see iter_entries)."""
    for member, opener in iter_entries(path, kind, limits):
        if not member.is_dir:
            yield member, opener


def _zip_members(path: Path, checker: MemberChecker):
    check_zip_entry_count(path, checker.limits)
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
                if name:
                    yield Member(name, 0, None, is_dir=True), None
                continue
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: not recorded
                raise Rejected(f"archive entry {name!r} is not a regular file")
            if info.flag_bits & 0x1:
                raise Rejected(f"archive entry {name!r} is encrypted")
            member = Member(name, info.file_size, info.compress_size)
            checker.file(member)
            yield member, (lambda info=info: archive.open(info))


def _tar_members(path: Path, kind: str, limits: Limits):
    raw = open(path, "rb")  # noqa: SIM115 - closed below, after the stream
    stream: BinaryIO = raw
    checker = MemberChecker(limits)
    if kind == TAR_GZ:
        checker.archive_bytes = max(1, path.stat().st_size)
        stream = GzipBudget(raw, limits)
    try:
        try:
            archive = tarfile.open(fileobj=stream, mode="r|")
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise Rejected(f"the tar archive cannot be read: {exc}") from exc
        with archive:
            for info in archive:
                checker.entry()
                name = clean_member_name(info.name)
                if info.issym() or info.islnk():
                    raise Rejected(f"archive entry {name!r} is a link")
                if info.isdir() or not name:
                    if name:
                        yield Member(name, 0, None, is_dir=True), None
                    continue
                if not info.isfile():
                    raise Rejected(f"archive entry {name!r} is not a regular file")
                member = Member(name, info.size, None)
                checker.file(member)
                if isinstance(stream, GzipBudget):
                    stream.start_member(name)  # what is read next is its data
                yield member, (lambda info=info: archive.extractfile(info))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise Rejected(f"the tar archive is damaged: {exc}") from exc
    finally:
        stream.close()
        raw.close()


def list_contents(path: Path, kind: str, limits: Limits) -> Contents:
    """The archive's files and folders, checked (names, links, counts, sizes)."""
    files, folders = [], set()
    for member, _ in iter_entries(path, kind, limits):
        parts = member.name.split("/")
        depth = len(parts) if member.is_dir else len(parts) - 1
        folders.update("/".join(parts[:end]) for end in range(1, depth + 1))
        if not member.is_dir:
            files.append(member)
    return Contents(files, frozenset(folders))


def list_members(path: Path, kind: str, limits: Limits) -> list[Member]:
    """The archive's files, checked (names, links, counts, declared sizes)."""
    return list_contents(path, kind, limits).files


class GzipBudget:
    """A gzip stream read through the size and ratio budgets, as it inflates.

    Counts the bytes unpacked against the compressed bytes read, for the whole
    archive and for the span of the current member (from its header to the
    next one), and raises Rejected the moment either is over the ratio (past
    RATIO_FLOOR_BYTES), or the total over the unpacked limit. Skipping a member
    inflates it too, so a bomb is refused within a few MB of inflating, not
    after its gigabytes. Concatenated gzip members are read one after another;
    bytes after the last one (padding) are ignored, as tarfile itself does.
    """

    def __init__(self, raw: BinaryIO, limits: Limits):
        self.limits = limits
        self._raw = raw
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self.packed = 0  # compressed bytes read from the file
        self.unpacked = 0
        self._member, self._member_packed, self._member_unpacked = "", 0, 0

    def start_member(self, name: str) -> None:
        self._member = name
        self._member_packed, self._member_unpacked = self.packed, self.unpacked

    def read(self, size: int = -1) -> bytes:
        """For tarfile: inflated bytes (at most CHUNK at a time)."""
        if size is None or size < 0 or size > CHUNK:
            size = CHUNK
        data = self._inflate(size)
        self.unpacked += len(data)
        self._check()
        return data

    def close(self) -> None:
        self._inflater = zlib.decompressobj(_GZIP_WBITS)

    def _read_raw(self) -> bytes:
        data = self._raw.read(_GZIP_READ)
        self.packed += len(data)
        return data

    def _inflate(self, size: int) -> bytes:
        while True:
            inflater = self._inflater
            if inflater.eof:  # one gzip member is over: another, or the end
                rest = inflater.unused_data
                if len(rest) < 2:
                    rest += self._read_raw()
                if rest[:2] != b"\x1f\x8b":
                    return b""
                self._inflater = inflater = zlib.decompressobj(_GZIP_WBITS)
                data = inflater.decompress(rest, size)
            else:
                pending = inflater.unconsumed_tail or self._read_raw()
                if not pending:
                    raise EOFError("the gzip stream is cut short")
                data = inflater.decompress(pending, size)
            if data:
                return data

    def _check(self) -> None:
        limits = self.limits
        if self.unpacked > limits.unpacked_bytes:
            raise Rejected(too_large_message(limits))
        ratio = limits.compression_ratio
        member_unpacked = self.unpacked - self._member_unpacked
        member_packed = max(1, self.packed - self._member_packed)
        if member_unpacked > RATIO_FLOOR_BYTES and (
            member_unpacked > member_packed * ratio
        ):
            raise Rejected(ratio_message(self._member, limits))
        if self.unpacked > RATIO_FLOOR_BYTES and self.unpacked > self.packed * ratio:
            raise Rejected(
                f"the archive is compressed more than {ratio}:1; refused as a "
                "possible zip bomb"
            )


_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer (CRC-32, size)
_GZIP_READ = 16 << 10  # compressed bytes read ahead: the ratio's slack


# Zip end records (APPNOTE.TXT 4.3.14-4.3.16), read before zipfile parses. ---

_EOCD = struct.Struct("<4sHHHHIIH")  # end of central directory, 22 bytes
_ZIP64_LOCATOR = struct.Struct("<4sIQI")  # 20 bytes, just before the EOCD
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")  # 56 bytes
_CENTRAL_ENTRY = struct.Struct("<4s42s")  # a central directory entry's header
_EOCD_SEARCH = _EOCD.size + 0xFFFF  # the end record may carry a 64 KB comment


def check_zip_entry_count(path: Path, limits: Limits) -> None:
    """Refuse a zip with more than ``limits.archive_files`` entries, by its
    end record (zip64 too), and by walking its central directory with no
    more than that many entries in hand: zipfile keeps a ZipInfo for every
    entry, so a million entries cost it over 500 MB before it answers.

    Leaves anything unreadable to zipfile, which refuses it with its reason.
    """
    with open(path, "rb") as fh:
        end = _zip_end_record(fh)
        if end is None:
            return
        entries, cd_size, cd_start = end
        if entries > limits.archive_files:
            raise Rejected(too_many_entries_message(limits))
        _walk_central_directory(fh, cd_start, cd_size, limits)


def _zip_end_record(fh) -> tuple[int, int, int] | None:
    """(entries, central directory size, its offset in the file), or None."""
    fh.seek(0, 2)
    file_size = fh.tell()
    fh.seek(max(0, file_size - _EOCD_SEARCH))
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    fields = _EOCD.unpack_from(tail, at)
    entries, cd_size = fields[4], fields[5]
    eocd_at = file_size - len(tail) + at
    locator_at = at - _ZIP64_LOCATOR.size
    if locator_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        record_at = _ZIP64_LOCATOR.unpack_from(tail, locator_at)[2]
        fh.seek(record_at)
        record = fh.read(_ZIP64_EOCD.size)
        if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
            zip64 = _ZIP64_EOCD.unpack(record)
            entries, cd_size = zip64[7], zip64[8]
            eocd_at = record_at
    # Where the directory really starts: before the end record by its size
    # (zipfile does the same, for archives with data prepended).
    return entries, cd_size, max(0, eocd_at - cd_size)


def _walk_central_directory(fh, start: int, size: int, limits: Limits) -> None:
    """Count central directory entries up to the limit (the end record's
    count can understate them: zipfile reads by the directory's size)."""
    fh.seek(start)
    position, count = 0, 0
    while position + _CENTRAL_ENTRY.size <= size:
        header = fh.read(_CENTRAL_ENTRY.size)
        if len(header) < _CENTRAL_ENTRY.size or header[:4] != b"PK\x01\x02":
            return  # not a directory we can follow: zipfile will say why
        count += 1
        if count > limits.archive_files:
            raise Rejected(too_many_entries_message(limits))
        name, extra, comment = struct.unpack_from("<HHH", header, 28)
        skip = name + extra + comment
        fh.seek(skip, 1)
        position += _CENTRAL_ENTRY.size + skip


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
