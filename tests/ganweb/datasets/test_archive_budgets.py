"""Archives cost in proportion to their size: a gzip-compressed tar is held to
the same ratio and size budgets as a zip, counted while it inflates, and a
zip's entry count is read from its end record before zipfile parses anything.

The bombs are built on the fly (dataset_builders): nothing near their unpacked
size is ever written or held.
"""

from __future__ import annotations

import gzip
import random
import tracemalloc
import zipfile

import pytest

from ganweb.datasets import archives, ingest
from ganweb.datasets.archives import GzipBudget, Rejected
from ganweb.datasets.limits import Limits
from tests.ganweb.datasets.dataset_builders import (
    flat_members,
    gzip_tar_of_zeros,
    make_tar,
    make_zip,
    zip_of_empty_files,
)
from tests.ganweb.datasets.test_dataset_api import assert_nothing_left, upload

GIB = 1 << 30
MIB = 1 << 20
LIMITS = Limits(
    upload_bytes=64 * MIB,
    upload_files=50,
    archive_files=1000,
    unpacked_bytes=2 * GIB,
    compression_ratio=50,
    pixels=1_000_000,
    min_images=4,
)


def noise(count: int, size: int = MIB) -> dict:
    """Members of random bytes (they do not compress), from a fixed seed."""
    rng = random.Random(14)
    return {f"noise/{i:02d}.png": rng.randbytes(size) for i in range(count)}


# gzip-compressed tar ----------------------------------------------------------


@pytest.mark.django_db
def test_a_1_mb_tar_gz_holding_a_1_gib_member_is_refused_in_the_request(
    client, alice, media
):
    archive = gzip_tar_of_zeros(
        media / "bomb.tar.gz", {"set/zeros.png": GIB}, before=flat_members(4, "set/")
    )
    assert archive.stat().st_size < 2 * MIB
    client.force_login(alice)
    response = upload(client, archive)
    assert response.status_code == 400
    assert response.json()["error"] == (
        "archive entry 'set/zeros.png' is compressed more than 200:1; "
        "refused as a possible zip bomb"
    )
    assert_nothing_left(media)


def test_a_bomb_behind_incompressible_members_is_refused_as_it_inflates(tmp_path):
    """Declared 64 MiB in a 3 MB archive is only 21:1, so the header passes;
    inflating the member shows 1000:1 within its first megabytes."""
    archive = gzip_tar_of_zeros(
        tmp_path / "hidden.tar.gz", {"noise/zeros.png": 64 * MIB}, before=noise(3)
    )
    with pytest.raises(Rejected) as caught:
        ingest.inspect_archive(archive, "tar.gz", LIMITS)
    assert str(caught.value) == (
        "archive entry 'noise/zeros.png' is compressed more than 50:1; "
        "refused as a possible zip bomb"
    )


def test_many_small_members_of_zeros_break_the_whole_archive_ratio(tmp_path):
    """Each member is under the 1 MiB floor a member is judged by, but together
    they unpack 1000 times what was read."""
    members = {f"z/{i:03d}.png": MIB // 2 for i in range(100)}
    archive = gzip_tar_of_zeros(tmp_path / "many.tar.gz", members)
    with pytest.raises(Rejected, match="the archive is compressed more than 50:1"):
        archives.list_members(archive, "tar.gz", LIMITS)


def test_the_gzip_budget_stops_within_a_few_mib_of_a_1_gib_member(tmp_path):
    archive = gzip_tar_of_zeros(tmp_path / "bomb.tar.gz", {"zeros.png": GIB})
    with open(archive, "rb") as raw:
        stream = GzipBudget(raw, LIMITS)
        stream.start_member("zeros.png")
        with pytest.raises(Rejected, match="'zeros.png' is compressed more than"):
            while stream.read(archives.CHUNK):
                pass
    assert stream.unpacked < 8 * MIB
    assert stream.packed < 64 * 1024


def test_the_gzip_budget_counts_actual_bytes_against_the_unpacked_limit(tmp_path):
    archive = gzip_tar_of_zeros(tmp_path / "noise.tar.gz", {}, before=noise(3))
    small = Limits(**{**LIMITS.as_dict(), "unpacked_bytes": 2 * MIB})
    with pytest.raises(Rejected, match="too large when unpacked"):
        archives.list_members(archive, "tar.gz", small)


def test_an_honest_tar_gz_inflates_through_the_budget_unchanged(tmp_path):
    members = {**flat_members(5, "set/"), **noise(2)}
    archive = make_tar(tmp_path / "ok.tar.gz", members)
    read = {}
    for member, opener in archives.iter_members(archive, "tar.gz", LIMITS):
        with opener() as source:
            read[member.name] = source.read()
    assert read == members


# zip end records ----------------------------------------------------------------


@pytest.mark.parametrize("zip64", [False, True], ids=["eocd", "zip64-eocd"])
def test_a_zip_whose_end_record_claims_too_many_entries_is_refused(tmp_path, zip64):
    """zipfile itself reads this directory as 3 entries (it follows the
    directory's size): only reading the end record refuses it."""
    archive = zip_of_empty_files(tmp_path / "up.zip", 3, zip64=zip64, claimed=60_000)
    assert len(zipfile.ZipFile(archive).namelist()) == 3
    with pytest.raises(Rejected) as caught:
        archives.list_members(archive, "zip", LIMITS)
    message = "too many files: the archive has more than 1,000 entries"
    assert str(caught.value) == message


def peak_memory_of(call) -> tuple[int, Exception | None]:
    tracemalloc.start()
    try:
        call()
        raised = None
    except Exception as exc:  # returned for the test to judge
        raised = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, raised


def test_a_real_zip64_of_70000_entries_is_refused_without_parsing_it(tmp_path):
    """zipfile would keep 70,000 ZipInfo objects (about 36 MB) first."""
    archive = zip_of_empty_files(tmp_path / "many.zip", 70_000, zip64=True)
    peak, raised = peak_memory_of(lambda: archives.list_members(archive, "zip", LIMITS))
    assert isinstance(raised, Rejected) and "too many files" in str(raised)
    assert peak < 2 * MIB, f"{peak / MIB:.1f} MiB to refuse"


def test_an_end_record_understating_its_entries_is_caught_walking_the_directory(
    tmp_path,
):
    archive = zip_of_empty_files(tmp_path / "lies.zip", 20_000, claimed=3)
    peak, raised = peak_memory_of(lambda: archives.list_members(archive, "zip", LIMITS))
    assert isinstance(raised, Rejected) and "too many files" in str(raised)
    assert peak < 2 * MIB, f"{peak / MIB:.1f} MiB to refuse"


def test_zips_with_a_comment_or_data_before_them_are_still_read(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", flat_members(5))
    with zipfile.ZipFile(archive, "a") as out:
        out.comment = b"x" * 40_000
    prefixed = tmp_path / "prefixed.zip"
    prefixed.write_bytes(b"#!/bin/sh\n" * 100 + archive.read_bytes())
    for path in (archive, prefixed):
        names = [m.name for m in archives.list_members(path, "zip", LIMITS)]
        assert names == sorted(flat_members(5))


def test_a_tar_gz_padded_or_in_two_gzip_members_is_read(tmp_path):
    archive = make_tar(tmp_path / "ok.tar.gz", flat_members(5))
    data = archive.read_bytes()
    tar = gzip.decompress(data)
    padded = tmp_path / "padded.tar.gz"
    padded.write_bytes(data + b"\0" * 5000)  # written out to a whole block
    split = tmp_path / "split.tar.gz"
    split.write_bytes(gzip.compress(tar[:3000]) + gzip.compress(tar[3000:]))
    for path in (padded, split):
        names = [m.name for m in archives.list_members(path, "tar.gz", LIMITS)]
        assert names == list(flat_members(5))


def test_a_tar_gz_cut_short_is_refused_as_damaged(tmp_path):
    archive = make_tar(tmp_path / "ok.tar.gz", {**flat_members(5), **noise(1)})
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(Rejected, match="the tar archive is damaged"):
        archives.list_members(cut, "tar.gz", LIMITS)
