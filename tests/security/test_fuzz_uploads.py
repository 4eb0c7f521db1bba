"""Fuzz the code that reads uploads: it may refuse, never crash.

Bounded for CI: a fixed number of examples each, no per-example deadline. What
"crash" means here: any exception other than the two the dataset service turns
into a message for people (Rejected, CorruptImage); anything else would end the
dataset as an internal error.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from ganweb.datasets.archives import Rejected, archive_type
from ganweb.datasets.imaging import CorruptImage, decode_image
from ganweb.datasets.ingest import IngestResult, ingest_archive
from ganweb.datasets.limits import Limits
from tests.ganweb.datasets.dataset_builders import image_bytes, png_claiming

pytestmark = pytest.mark.slow

LIMITS = Limits(
    upload_bytes=1 << 20,
    upload_files=50,
    archive_files=40,
    unpacked_bytes=256 << 10,
    compression_ratio=50,
    pixels=64 * 64,
    min_images=2,
)
FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # every run explores afresh; nothing kept between runs
)
SEEDS = [
    image_bytes(1, fmt="PNG"),
    image_bytes(2, fmt="GIF"),
    image_bytes(3, fmt="JPEG"),
    image_bytes(4, fmt="BMP"),
    image_bytes(5, fmt="WEBP"),
    image_bytes(6, fmt="PNG", mode="L"),
    png_claiming(100_000, 100_000),
]


@st.composite
def mutated(draw, seeds):
    """A valid file with a few bytes overwritten, cut short or grown."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        data += draw(st.binary(max_size=64))
    return bytes(data)


IMAGE_BYTES = st.one_of(st.binary(max_size=512), mutated(SEEDS))


@FUZZ
@given(data=IMAGE_BYTES)
def test_decode_image_refuses_or_decodes_any_bytes(data):
    try:
        decoded = decode_image(io.BytesIO(data), name="x", max_pixels=LIMITS.pixels)
    except (Rejected, CorruptImage):
        return
    image = decoded.image
    assert image.mode in ("L", "RGB")
    assert image.width * image.height <= LIMITS.pixels


NAME = st.lists(
    st.sampled_from(["..", ".", "", "a", "/", "\\", "C:", "x.png", "é", "\x00", "~"]),
    min_size=1,
    max_size=4,
).map("/".join)
MEMBER = st.tuples(NAME, st.one_of(IMAGE_BYTES, st.sampled_from(SEEDS[:3])))


def build_archive(path: Path, kind: str, members) -> Path:
    if kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for index, (name, data) in enumerate(members):
                archive.writestr(name or f"m{index}", data)
    else:
        mode = "w:gz" if kind == "tar.gz" else "w"
        with tarfile.open(path, mode) as archive:
            for index, (name, data) in enumerate(members):
                info = tarfile.TarInfo(name or f"m{index}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return path


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


# Found by this fuzz and fixed: a zip member whose "version needed" or
# compression method zipfile does not know raised NotImplementedError instead
# of being skipped like any other member that cannot be unpacked.


def ingest(root: Path, archive: Path) -> None:
    folder = root / "box" / "dataset"
    folder.mkdir(parents=True, exist_ok=True)
    before = files_under(root)
    try:
        kind = archive_type(archive)
        result = ingest_archive(
            archive=archive, kind=kind, folder=folder, limits=LIMITS
        )
    except Rejected as refused:
        assert str(refused)  # a message for people
        result = None
    written = files_under(root) - before
    assert all(folder in path.parents for path in written), written
    if result is not None:
        assert isinstance(result, IngestResult)
        assert result.image_count >= LIMITS.min_images


@settings(FUZZ, max_examples=150)
@given(
    kind=st.sampled_from(["zip", "tar", "tar.gz"]),
    members=st.lists(MEMBER, min_size=0, max_size=6),
)
def test_ingest_any_archive_refuses_or_stores_inside_the_folder(
    tmp_path_factory, kind, members
):
    root = tmp_path_factory.mktemp("fuzz-archive")
    try:
        archive = build_archive(root / f"up.{kind}", kind, members)
    except (ValueError, IndexError):  # Python's own writers refuse some names
        reject()
    ingest(root, archive)


@settings(FUZZ, max_examples=150)
@given(kind=st.sampled_from(["zip", "tar", "tar.gz"]), data=st.data())
def test_ingest_a_damaged_archive_refuses_or_stores_inside_the_folder(
    tmp_path_factory, kind, data
):
    root = tmp_path_factory.mktemp("fuzz-damaged")
    members = [(f"img{i}.png", image_bytes(i)) for i in range(4)]
    good = build_archive(root / "good", kind, members).read_bytes()
    damaged = data.draw(mutated([good]))
    archive = root / "up.bin"
    archive.write_bytes(damaged)
    ingest(root, archive)


def zip_with_patched_central_directory(root: Path, offset: int, value: bytes):
    members = [(f"img{i}.png", image_bytes(i)) for i in range(4)]
    data = bytearray(build_archive(root / "good.zip", "zip", members).read_bytes())
    start = data.index(b"PK\x01\x02")  # the first central directory entry
    data[start + offset : start + offset + len(value)] = value
    (root / "up.zip").write_bytes(bytes(data))
    return root / "up.zip"


def test_zip_needing_an_unknown_version_is_refused_with_a_message(tmp_path):
    archive = zip_with_patched_central_directory(tmp_path, 6, b"\x40\x00")  # v6.4
    folder = tmp_path / "dataset"
    folder.mkdir()
    with pytest.raises(Rejected, match="cannot be read"):
        ingest_archive(archive=archive, kind="zip", folder=folder, limits=LIMITS)


def test_zip_member_with_an_unknown_method_is_skipped_and_counted(tmp_path):
    archive = zip_with_patched_central_directory(tmp_path, 10, b"\x63\x00")  # 99
    folder = tmp_path / "dataset"
    folder.mkdir()
    result = ingest_archive(archive=archive, kind="zip", folder=folder, limits=LIMITS)
    assert (result.image_count, result.skipped_count) == (3, 1)
