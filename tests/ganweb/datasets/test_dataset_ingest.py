"""Archive reading and image ingestion, without the database: kinds, counts,
re-encoding, fingerprints, and every refusal with its message."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ganweb.datasets import archives, imaging, ingest
from ganweb.datasets.archives import Member, Rejected, StreamBudget
from ganweb.datasets.limits import Limits
from tests.ganweb.datasets.dataset_builders import (
    class_members,
    files_under,
    flat_members,
    image_bytes,
    make_tar,
    make_zip,
    png_claiming,
    tar_with_symlink,
    zip_with_symlink,
)

LIMITS = Limits(
    upload_bytes=50 << 20,
    upload_files=50,
    archive_files=200,
    unpacked_bytes=20 << 20,
    compression_ratio=50,
    pixels=1_000_000,
    min_images=4,
)


def run(tmp_path, archive, limits=LIMITS):
    kind = archives.archive_type(archive)
    return ingest.ingest_archive(
        archive=archive, kind=kind, folder=tmp_path / "ds", limits=limits
    )


def refusal(tmp_path, archive, limits=LIMITS) -> str:
    with pytest.raises(Rejected) as caught:
        run(tmp_path, archive, limits)
    return str(caught.value)


def test_flat_zip_is_images_stored_under_our_names(tmp_path):
    archive = make_zip(tmp_path / "up.zip", flat_members(5, prefix="evil name/"))
    result = run(tmp_path, archive)
    assert result.kind == "images" and result.image_count == 5
    assert result.classes == {}
    stored = [p.relative_to(tmp_path / "ds") for p in files_under(tmp_path / "ds")]
    data = sorted(str(p) for p in stored if p.parts[0] == "data")
    assert data == [f"data/{i:06d}.png" for i in range(5)]
    assert (tmp_path / "ds" / "preview.png").is_file()
    assert result.stats["width"] == {"min": 8, "max": 8, "mean": 8.0}
    assert result.stats["channels"] == {"3": 5}
    assert not (tmp_path / "ds" / "work").exists()


def test_class_folders_are_classes_named_from_folders(tmp_path):
    members = class_members({"dogs": 3, "cats": 2, "birds": 4}, prefix="pets/")
    result = run(tmp_path, make_zip(tmp_path / "up.zip", members))
    assert result.kind == "classes"
    assert result.classes == {"birds": 4, "cats": 2, "dogs": 3}
    assert result.class_names == ["birds", "cats", "dogs"]
    folders = sorted(p.name for p in (tmp_path / "ds" / "data").iterdir())
    assert folders == ["0000", "0001", "0002"]
    assert len(list((tmp_path / "ds" / "data" / "0002").iterdir())) == 3


def test_a_and_b_folders_in_a_tar_gz_are_domains(tmp_path):
    members = class_members({"A": 3, "B": 2})
    result = run(tmp_path, make_tar(tmp_path / "up.tar.gz", members))
    assert result.kind == "domains" and result.classes == {"A": 3, "B": 2}
    assert sorted(p.name for p in (tmp_path / "ds" / "data").iterdir()) == ["A", "B"]


def test_plain_tar_is_read_too(tmp_path):
    archive = make_tar(tmp_path / "up.tar", flat_members(4), gz=False)
    assert archives.archive_type(archive) == "tar"
    assert run(tmp_path, archive).image_count == 4


def test_every_accepted_format_is_decoded_and_re_encoded(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    members = {
        "a.png": image_bytes(1),
        "b.jpg": image_bytes(2, fmt="JPEG"),
        "c.webp": image_bytes(3, fmt="WEBP"),
        "d.bmp": image_bytes(4, fmt="BMP"),
        "e.gif": gif.getvalue(),
        "f.png": image_bytes(5, mode="L"),
        "g.dat": image_bytes(6),  # a PNG whatever its name says
    }
    result = run(tmp_path, make_zip(tmp_path / "up.zip", members))
    assert result.image_count == 7
    assert result.stats["formats"] == {
        "PNG": 3,
        "JPEG": 1,
        "WEBP": 1,
        "BMP": 1,
        "GIF": 1,
    }
    assert result.stats["channels"] == {"3": 6, "1": 1}
    stored = files_under(tmp_path / "ds" / "data")
    assert sorted(p.suffix for p in stored).count(".jpg") == 1
    uploaded = set(members.values())
    assert not any(p.read_bytes() in uploaded for p in stored)  # never the upload
    with Image.open(stored[4]) as first_frame:  # e.gif: its first (red) frame
        assert first_frame.convert("RGB").getpixel((0, 0))[0] > 200


def test_corrupt_images_are_skipped_and_counted(tmp_path):
    members = flat_members(5)
    members["broken.png"] = image_bytes(9, size=(64, 64))[:80]  # header, no data
    result = run(tmp_path, make_zip(tmp_path / "up.zip", members))
    assert result.image_count == 5 and result.skipped_count == 1
    assert result.skipped[0]["name"] == "broken.png"
    assert "corrupt" in result.skipped[0]["reason"]


def test_hidden_files_and_archiver_litter_are_ignored(tmp_path):
    members = flat_members(4, prefix="set/")
    members["set/.DS_Store"] = b"not an image"
    members["__MACOSX/set/._img000.png"] = b"resource fork"
    assert run(tmp_path, make_zip(tmp_path / "up.zip", members)).image_count == 4


def test_same_images_give_the_same_fingerprint_whatever_the_packaging(tmp_path):
    members = class_members({"x": 2, "y": 3})
    renamed = {f"wrap/{k.replace('.png', '-copy.png')}": v for k, v in members.items()}
    one = run(tmp_path / "1", make_zip(tmp_path / "a.zip", members))
    two = run(tmp_path / "2", make_tar(tmp_path / "b.tar.gz", renamed))
    other = run(tmp_path / "3", make_zip(tmp_path / "c.zip", class_members({"x": 5})))
    assert one.fingerprint == two.fingerprint
    assert one.fingerprint != other.fingerprint


# Refusals -------------------------------------------------------------------


def test_wrong_archive_type_is_refused(tmp_path):
    for name, data in {
        "notes.zip": b"just some text, not a zip",
        "x.rar": b"Rar!\x1a\x07\x00" + b"\x00" * 600,
        "img.png": image_bytes(1),
    }.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(Rejected, match="unsupported archive type"):
            archives.archive_type(tmp_path / name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../escape.png", "points outside the archive"),
        ("ok/../../escape.png", "points outside the archive"),
        ("/etc/passwd.png", "absolute path"),
        ("C:/windows/x.png", "absolute path"),
        ("..\\..\\win.png", "points outside the archive"),
    ],
)
@pytest.mark.parametrize("maker", [make_zip, make_tar])
def test_entries_escaping_the_folder_are_refused(tmp_path, name, message, maker):
    members = {**flat_members(4), name: image_bytes(7)}
    archive = maker(tmp_path / "up.bin", members)
    assert message in refusal(tmp_path, archive)
    assert not (tmp_path / "escape.png").exists()


def test_symlinks_are_refused_in_zip_and_tar(tmp_path):
    archive = zip_with_symlink(tmp_path / "a.zip", flat_members(4), "x.png", "/etc")
    assert "symbolic link" in refusal(tmp_path, archive)
    archive = tar_with_symlink(tmp_path / "b.tgz", flat_members(4), "y.png", "/etc")
    assert "is a link" in refusal(tmp_path, archive)


def test_too_many_files_is_refused(tmp_path):
    limits = Limits(**{**LIMITS.as_dict(), "archive_files": 6})
    archive = make_zip(tmp_path / "up.zip", flat_members(7))
    assert "too many files" in refusal(tmp_path, archive, limits)


def test_too_large_when_unpacked_is_refused_by_declared_sizes(tmp_path):
    limits = Limits(**{**LIMITS.as_dict(), "unpacked_bytes": 1000})
    archive = make_zip(tmp_path / "up.zip", flat_members(20))
    assert "too large when unpacked" in refusal(tmp_path, archive, limits)


def test_actual_bytes_are_counted_while_streaming_not_the_declared_size():
    limits = Limits(**{**LIMITS.as_dict(), "unpacked_bytes": 3 << 20})
    liar = Member("liar.png", size=10, packed=10)  # declares 10 bytes
    budget = StreamBudget(limits)
    with pytest.raises(Rejected, match="more than its declared size"):
        budget.copy(liar, io.BytesIO(b"\x00" * (2 << 20)), io.BytesIO())
    honest = Member("big.png", size=8 << 20, packed=None)
    with pytest.raises(Rejected, match="too large when unpacked"):
        StreamBudget(limits).copy(honest, io.BytesIO(b"\x00" * (4 << 20)), io.BytesIO())


def test_a_lying_zip_header_cannot_unpack_more_than_it_declares(tmp_path):
    archive = make_zip(
        tmp_path / "up.zip", {**flat_members(4), "bomb.png": b"\0" * 300_000}
    )
    raw = bytearray(archive.read_bytes())
    info = zipfile.ZipFile(archive).getinfo("bomb.png")
    # Patch the declared size (central directory) down to 100 bytes.
    central = raw.rfind(b"PK\x01\x02", 0, raw.rfind(b"bomb.png"))
    raw[central + 24 : central + 28] = (100).to_bytes(4, "little")
    archive.write_bytes(bytes(raw))
    assert info.file_size == 300_000
    result = run(tmp_path, archive)
    assert result.image_count == 4 and result.skipped_count == 1
    assert sum(p.stat().st_size for p in files_under(tmp_path / "ds")) < 100_000


def test_per_member_compression_ratio_is_bounded(tmp_path):
    members = {**flat_members(4), "zeros.bmp": b"\x00" * (3 << 20)}
    archive = make_zip(tmp_path / "up.zip", members)
    message = refusal(tmp_path, archive)
    assert "compressed more than 50:1" in message and "zeros.bmp" in message


def test_png_header_claiming_100000_squared_pixels_is_refused(tmp_path):
    members = {**flat_members(4), "bomb.png": png_claiming(100_000, 100_000)}
    message = refusal(tmp_path, make_zip(tmp_path / "up.zip", members))
    assert "bomb.png is larger than the limit of 1,000,000 pixels" in message
    assert "decompression bomb" in message


def test_a_real_12000_square_image_is_refused_at_the_default_limit(tmp_path):
    big = io.BytesIO()
    Image.new("1", (12000, 12000)).save(big, "PNG")
    limits = Limits(**{**LIMITS.as_dict(), "pixels": 40_000_000})
    members = {**flat_members(4), "huge.png": big.getvalue()}
    message = refusal(tmp_path, make_zip(tmp_path / "up.zip", members), limits)
    assert "huge.png is larger than the limit of 40,000,000 pixels" in message
    assert "144,000,000 pixels" in message


def test_files_that_are_not_images_are_refused_whatever_their_name(tmp_path):
    members = {**flat_members(4), "cat.png": b"#!/bin/sh\necho this is no image\n"}
    message = refusal(tmp_path, make_zip(tmp_path / "up.zip", members))
    assert message.startswith("cat.png is not an image")


def test_too_few_images_are_refused(tmp_path):
    message = refusal(tmp_path, make_zip(tmp_path / "up.zip", flat_members(3)))
    assert "too few images: found 3 files, at least 4" in message


def test_too_few_usable_images_after_skipping_corrupt_ones_is_refused(tmp_path):
    members = {**flat_members(3), "bad.png": image_bytes(1, size=(64, 64))[:80]}
    message = refusal(tmp_path, make_zip(tmp_path / "up.zip", members))
    assert "too few images: 3 usable (1 skipped as corrupt)" in message


def test_fewer_than_two_classes_is_refused(tmp_path):
    archive = make_zip(tmp_path / "up.zip", class_members({"cats": 5}, prefix="set/"))
    assert "fewer than two classes" in refusal(tmp_path, archive)


def test_mixed_layout_is_refused(tmp_path):
    members = {**flat_members(4), **class_members({"a": 2, "b": 2})}
    assert "mixed layout" in refusal(tmp_path, make_zip(tmp_path / "up.zip", members))


def test_pixel_limit_is_checked_on_loose_images_before_decoding(tmp_path):
    with pytest.raises(Rejected, match="larger than the limit"):
        imaging.open_image(
            io.BytesIO(png_claiming(100_000, 100_000)), name="x.png", max_pixels=10**6
        )


# Property: whatever the member names, nothing is written outside the folder.

NAME_PART = st.sampled_from(["..", ".", "", "a", "b", "/", "\\", "C:", "x.png", "é"])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    names=st.lists(st.lists(NAME_PART, min_size=1, max_size=5), min_size=1, max_size=4)
)
def test_no_member_name_writes_outside_the_dataset_folder(tmp_path_factory, names):
    root = tmp_path_factory.mktemp("prop")
    members = flat_members(4)
    for i, parts in enumerate(names):
        members["/".join(parts) or f"n{i}"] = image_bytes(i + 10)
    archive = make_zip(root / "up.zip", members)
    before = set(files_under(root))
    try:
        run(root / "box", archive)
    except Rejected:
        pass
    after = set(files_under(root)) - before
    assert all((root / "box" / "ds") in p.parents for p in after)
